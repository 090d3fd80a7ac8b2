"""Choose the compute device once, at the edge, and size CPU threading and memory reuse sensibly.

    device = pick_device()
"""
import ctypes
import os
import threading

import torch


def pick_device(prefer: str | None = None) -> torch.device:
    """CUDA when present (or when asked for), else CPU. IMGAI_DEVICE overrides, e.g. for tests."""
    prefer = prefer or os.environ.get("IMGAI_DEVICE")
    if prefer:
        return torch.device(prefer)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


_MALLOC_LOCK = threading.Lock()
_malloc_tuned: bool | None = None


def keep_freed_memory(mmap_mb: int = 128, trim_mb: int = 256) -> bool:
    """Let glibc's malloc keep freed memory for the next training step instead of handing it back to the OS.

    PyTorch's CPU tensors come straight from malloc. By default glibc gives a large freed block back to the
    OS (munmap, or trimming the heap's top), so every training step maps its activations and gradients
    afresh and page-faults on each 4 KB page: thousands of faults a step on the textbook CIFAR-10 CNN, a
    large share of its CPU time (bench/results/keras.json compares the two in one run; TensorFlow's own
    allocator keeps its memory). Blocks up to `mmap_mb` now come from the heap, and up to `trim_mb` of
    freed heap stays mapped, so a process holds at most that much more than it uses.
    Process-wide and idempotent; True when set, False off glibc (macOS, musl), where nothing changes."""
    global _malloc_tuned
    with _MALLOC_LOCK:
        if _malloc_tuned is None:
            _malloc_tuned = False
            try:
                mallopt = ctypes.CDLL("libc.so.6").mallopt
            except (OSError, AttributeError):
                return False
            M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # from glibc's malloc.h
            # setting either threshold also stops glibc's own adjustment of both (see mallopt(3))
            _malloc_tuned = bool(mallopt(M_MMAP_THRESHOLD, mmap_mb << 20)) & bool(mallopt(M_TRIM_THRESHOLD, trim_mb << 20))
        return _malloc_tuned


# Training runs below the web server's priority: a class's pages stay quick while the cores train.
JOB_NICE = 10


def lower_thread_priority(nice: int = JOB_NICE) -> bool:
    """Raise the calling thread's nice value by `nice` (a lower priority); True if it did.

    On Linux a nice value belongs to one thread, so a training thread inside the web server can yield the
    cores to the threads that serve pages without slowing them down (threads it starts, such as PyTorch's
    OpenMP workers for a multi-threaded job, inherit it). Elsewhere it would lower the whole process, server
    included: skipped."""
    if nice <= 0 or os.uname().sysname != "Linux":
        return False
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice))
        return True
    except OSError:
        return False


def busy_cores() -> int:
    """Cores other work keeps busy now: the whole part of the 1-minute load average (0 where there is none)."""
    try:
        return int(os.getloadavg()[0])
    except (AttributeError, OSError):  # Windows has no load average
        return 0


def configure_threads(share: int = 1, spare: int = 0) -> int:
    """Set torch's intra-op threads: the free cores (all of them, less `spare` kept for other work and less
    those the load average says other processes keep busy), split between `share` trainings that may run at
    once; no inter-op pool (our models are too small to run two ops at once). IMGAI_THREADS overrides.
    torch's setting is process-wide: call once, at start-up.

    Never more threads than free cores: each small op is a parallel region that waits for its slowest
    thread, so one thread pre-empted by another process stalls them all (on 2 cores shared with one other
    busy process, GAN training with 2 threads ran many times slower than with 1; the textbook CNN with 2
    threads on 2 busy cores ran at a third of its 1-thread speed, in a keras.json run on a busy machine)."""
    cores = os.cpu_count() or 1
    free = max(1, cores - spare - busy_cores())
    n = int(os.environ.get("IMGAI_THREADS") or 0) or max(1, free // max(1, share))
    torch.set_num_threads(n)
    keep_freed_memory()
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # can only be set before the first parallel op; keep whatever is there
        pass
    return n
