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


def configure_threads():
    """Use every core for intra-op parallelism but no inter-op pool: our models are too small to gain
    from running two ops at once. IMGAI_THREADS overrides (torch settings are process-wide: call once)."""
    n = int(os.environ.get("IMGAI_THREADS") or 0) or os.cpu_count() or 1
    torch.set_num_threads(n)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # can only be set before the first parallel op; keep whatever is there
        pass
