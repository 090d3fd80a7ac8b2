"""Training runs in the background, watched and steered by the pages: in a thread of the server, or on Ray.

    from imgai.jobs.threads import JobRegistry              # the default: a thread per run
    from imgai.jobs.ray_registry import RayJobRegistry      # IMGAI_JOBS=ray: an actor per run
    job = registry.submit(...); job.pause(); job.metrics(since=100); job.save(path)

Both backends' jobs satisfy imgai.jobs.handle.JobHandle, the only interface the pages use.
"""
