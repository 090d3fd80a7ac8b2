"""Choose the compute device once, at the edge, and size CPU threading sensibly.

    device = pick_device()
"""
import os

import torch


def pick_device(prefer: str | None = None) -> torch.device:
    """CUDA when present (or when asked for), else CPU. IMGAI_DEVICE overrides, e.g. for tests."""
    prefer = prefer or os.environ.get("IMGAI_DEVICE")
    if prefer:
        return torch.device(prefer)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def configure_threads(share: int = 1, spare: int = 0) -> int:
    """Set torch's intra-op threads: the cores, less `spare` kept for other work, split between `share`
    trainings that may run at once; no inter-op pool (our models are too small to run two ops at once).
    IMGAI_THREADS overrides. torch's setting is process-wide: call once, at start-up.

    Never more threads than free cores: each small op is a parallel region that waits for its slowest
    thread, so one thread pre-empted by another process stalls them all (on 2 cores shared with one other
    busy process, GAN training with 2 threads ran many times slower than with 1)."""
    cores = os.cpu_count() or 1
    n = int(os.environ.get("IMGAI_THREADS") or 0) or max(1, (cores - spare) // max(1, share))
    torch.set_num_threads(n)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # can only be set before the first parallel op; keep whatever is there
        pass
    return n
