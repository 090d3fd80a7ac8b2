"""What the pages and a registry may ask of a training job, whichever backend runs it.

    job: JobHandle = registry.get(job_id)

Two backends implement it: imgai.jobs.threads.Job (a thread in this process, the default) and imgai.jobs.ray_job.RayJob
(a handle on an actor in a Ray worker process, maybe on another machine). Only what is listed here may be
used by ui/ and app_pages/; tests/test_job_backends.py runs the same behaviour tests against both.
"""
from typing import Protocol, runtime_checkable

# A job is active while it may still train. Ray adds "queued": waiting for a free worker (it starts by itself).
STATUSES = ("queued", "created", "running", "paused", "done", "stopped", "error")


@runtime_checkable
class JobHandle(Protocol):
    id: str
    owner: str
    meta: dict              # the run's description (kind, dataset, class names, image size, train, config...)
    started_at: float | None
    finished_at: float | None

    @property
    def status(self) -> str: ...
    @property
    def error(self) -> str | None: ...
    @property
    def active(self) -> bool: ...
    @property
    def lr(self) -> float: ...
    @property
    def confusion(self) -> dict | None: ...

    def metrics(self, since: int = 0) -> list: ...        # metric rows, incrementally (as Job.metrics)
    def latest_grid(self): ...                             # (step, uint8 images, extra) or None
    def grid_history(self) -> list: ...
    def summary(self) -> dict: ...
    def snapshot(self): ...                                # (state_dict on the CPU, step) or (None, -1)
    def save(self, path): ...                              # write a checkpoint here; returns its base path
    def zip_bytes(self, name: str) -> bytes: ...          # the same checkpoint as a zip in memory (Download)
    def pause(self): ...
    def resume(self): ...
    def step(self): ...
    def stop(self): ...                                    # also cancels a queued job
    def set_lr(self, lr: float): ...
    def heartbeat(self): ...
    def wait(self, timeout=None) -> bool: ...
