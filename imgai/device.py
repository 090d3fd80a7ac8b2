"""Choose the compute device once, at the edge, and size CPU threading and memory reuse sensibly.

    device = pick_device()
"""
import ctypes
import os
import threading
import time
from pathlib import Path

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


# A core counts as busy when other processes kept at least this share of it busy over the sample: a spinner
# reads ~1.0, the short bursts of an idle desktop or a polling web page ~0.05-0.2. Set low on purpose: one
# OpenMP thread pre-empted by another process stalls every thread of the op (see configure_threads).
BUSY_CORE_SHARE = 0.3
# How long to watch the CPUs before choosing: long enough for ~25 scheduler ticks per core (at 100 Hz),
# short enough that nobody notices it at start-up.
SAMPLE_S = 0.25


def choose_threads(cores: int, busy_by_others: float, share: int = 1, spare: int = 0) -> int:
    """How many intra-op threads a training gets, from measurements alone (no clock, no /proc: tests feed it
    numbers). cores: the machine's; busy_by_others: core-equivalents other processes used just now (0.0 to
    cores, this process's own work left out); share: trainings that may run at once; spare: cores kept for
    other work (the web server). Never fewer than one."""
    busy = int(max(0.0, busy_by_others) + 1 - BUSY_CORE_SHARE)   # round up from BUSY_CORE_SHARE of a core
    free = max(1, cores - spare - busy)
    return max(1, free // max(1, share))


def _cpu_jiffies() -> tuple[int, int, int]:
    """(all CPUs' total, their idle + iowait, this process's user + system) in clock ticks, from /proc."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    ticks = [int(f) for f in fields[:8]]   # user nice system idle iowait irq softirq steal (guest is inside user)
    own = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
    return sum(ticks), ticks[3] + ticks[4], int(own[11]) + int(own[12])   # utime, stime: fields 14, 15


def busy_cores(sample_s: float = SAMPLE_S) -> float:
    """Core-equivalents that other processes keep busy now: /proc/stat's busy time over `sample_s`, less this
    process's own (so a caller importing torch does not count itself). Not the load average: that still
    counts a run that ended a minute ago, which gave a second run in a row half the threads of the first.
    0.0 where /proc is missing (macOS, Windows): every core is taken as free."""
    try:
        total0, idle0, own0 = _cpu_jiffies()
        time.sleep(sample_s)
        total1, idle1, own1 = _cpu_jiffies()
    except (OSError, ValueError, IndexError):
        return 0.0
    elapsed = total1 - total0   # summed over all CPUs
    if elapsed <= 0:
        return 0.0
    cores = os.cpu_count() or 1
    others = (elapsed - (idle1 - idle0)) - (own1 - own0)
    return max(0.0, min(float(cores), others / elapsed * cores))


def configure_threads(share: int = 1, spare: int = 0, limit: int | None = None) -> int:
    """Set torch's intra-op threads: the free cores (all of them, less `spare` kept for other work and less
    those other processes keep busy right now, imgai.device.busy_cores), split between `share` trainings that
    may run at once; no inter-op pool (our models are too small to run two ops at once). IMGAI_THREADS
    overrides. `limit` caps the count (a Ray worker: the CPUs Ray gave its actor). torch's setting is
    process-wide: call once, at start-up. Returns the threads set.

    Never more threads than free cores: each small op is a parallel region that waits for its slowest
    thread, so one thread pre-empted by another process stalls them all (on 2 cores shared with one other
    busy process, GAN training with 2 threads ran many times slower than with 1; the textbook CNN with 2
    threads on 2 busy cores ran at a third of its 1-thread speed, in a keras.json run on a busy machine)."""
    n = int(os.environ.get("IMGAI_THREADS") or 0)
    if not n:
        n = choose_threads(os.cpu_count() or 1, busy_cores(), share, spare)
        n = min(n, limit) if limit else n
    torch.set_num_threads(n)
    keep_freed_memory()
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # can only be set before the first parallel op; keep whatever is there
        pass
    return n
