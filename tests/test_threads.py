"""imgai.device's thread choice: the cores other processes keep busy *now* (not the 1-minute load average),
this process's own work left out, and never more threads than free cores. Measurements are fed in as
numbers, so every test here is deterministic."""
import os

import pytest
import torch

from imgai import device


@pytest.mark.parametrize("cores,busy,share,spare,expected", [
    (2, 0.0, 1, 0, 2),     # a quiet machine: every core
    (2, 0.1, 1, 0, 2),     # an idle desktop's short bursts do not cost a core
    (2, 0.95, 1, 0, 1),    # one core busy with another process: one thread, not two that wait on each other
    (2, 0.4, 1, 0, 1),     # a core used in part by others still counts: a pre-empted thread stalls the op
    (2, 2.0, 1, 0, 1),     # every core busy: still one
    (16, 2.2, 1, 0, 14),   # 2.2 busy cores take 2: a fifth of a core is below BUSY_CORE_SHARE
    (16, 2.4, 1, 0, 13),   # 2.4 take 3: the third core is busy more than BUSY_CORE_SHARE of the time
    (16, 0.0, 3, 1, 5),    # the app: a core for the server, the rest split between 3 jobs
    (2, 0.0, 1, 1, 1),     # the app on two cores: one for the server, one for the job
    (4, 0.0, 8, 0, 1),     # more jobs than cores: never fewer than one thread
])
def test_choose_threads_takes_free_cores_only(cores, busy, share, spare, expected):
    assert device.choose_threads(cores, busy, share, spare) == expected


def test_choose_threads_never_outnumbers_free_cores():
    for cores in (1, 2, 4, 16):
        for tenth in range(0, cores * 10 + 1):
            busy = tenth / 10
            n = device.choose_threads(cores, busy)
            assert 1 <= n <= max(1, cores - int(busy))


def _fake_proc(monkeypatch, first, second):
    """Two /proc readings (total, idle, own) for busy_cores, and no real waiting."""
    readings = iter([first, second])
    monkeypatch.setattr(device, "_cpu_jiffies", lambda: next(readings))
    monkeypatch.setattr(device.time, "sleep", lambda s: None)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)


def test_own_work_is_not_counted_as_someone_elses(monkeypatch):
    # 50 ticks over 2 cores: 25 busy, all of them this process's (importing torch, say)
    _fake_proc(monkeypatch, (1000, 800, 10), (1050, 825, 35))
    assert device.busy_cores() == 0.0


def test_another_process_keeping_a_core_busy_counts_as_one_core(monkeypatch):
    # 50 ticks over 2 cores, 25 of them busy, none ours: one core's worth of someone else's work
    _fake_proc(monkeypatch, (1000, 800, 10), (1050, 825, 10))
    assert device.busy_cores() == pytest.approx(1.0)
    _fake_proc(monkeypatch, (1000, 800, 10), (1050, 825, 10))
    assert device.configure_threads() == 1


def test_a_run_that_just_ended_leaves_no_trace(monkeypatch):
    # the load average would still read ~2 a minute after a 2-thread run; what is idle now is what counts
    monkeypatch.delenv("IMGAI_THREADS", raising=False)
    monkeypatch.setattr(os, "getloadavg", lambda: (2.0, 1.5, 0.8))
    _fake_proc(monkeypatch, (1000, 800, 10), (1050, 849, 11))
    before = torch.get_num_threads()
    try:
        assert device.configure_threads() == 2
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_unreadable_proc_takes_every_core_as_free(monkeypatch):
    def missing():
        raise FileNotFoundError("/proc/stat")
    monkeypatch.setattr(device, "_cpu_jiffies", missing)
    assert device.busy_cores() == 0.0


def test_busy_cores_reads_this_machine(monkeypatch):
    # the real /proc: whatever the other processes are doing, a figure between none and every core
    assert 0.0 <= device.busy_cores(sample_s=0.05) <= (os.cpu_count() or 1)


def test_limit_caps_the_threads(monkeypatch):
    monkeypatch.delenv("IMGAI_THREADS", raising=False)
    _fake_proc(monkeypatch, (1000, 1000, 0), (1050, 1050, 0))   # a quiet machine
    before = torch.get_num_threads()
    try:
        assert device.configure_threads(limit=1) == 1   # a Ray actor given one CPU
    finally:
        torch.set_num_threads(before)


def test_imgai_threads_overrides_the_measurement(monkeypatch):
    monkeypatch.setenv("IMGAI_THREADS", "3")
    _fake_proc(monkeypatch, (1000, 800, 10), (1050, 800, 10))   # every core busy
    before = torch.get_num_threads()
    try:
        assert device.configure_threads() == 3
    finally:
        torch.set_num_threads(before)
