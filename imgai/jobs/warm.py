"""Paying a process's one-time start-up costs before a user waits for them: used by the web server's start-up
(ui/start_up.py), Ray's worker setup hook and a warm spare worker (imgai/jobs/ray_worker.py).

    warm_up()    # imports torch and the training code; loads torch's decompositions once

The first model imgai builds in a process is built on the "meta" device first (imgai.training.runs checks a run's
size that way), and a batch norm run on meta tensors makes PyTorch import its decompositions, sympy and
its compiler stack: about 900 modules, seconds of CPU once per process (profiled: nearly all of the first
prepare_run). Without this, the first Start of a server, and every Ray job, paid them before its first step.
"""


def warm_up():
    import torch

    import imgai.jobs.threads  # noqa: F401
    import imgai.training.runs  # noqa: F401  (torch, the models and the training loops)
    with torch.device("meta"):
        torch.nn.BatchNorm2d(2)(torch.zeros(1, 2, 4, 4))
