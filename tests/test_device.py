"""imgai.device: the memory reuse that keeps CPU training steps from page-faulting their tensors in afresh."""
import json
import platform
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Training steps of the textbook CIFAR-10 CNN at batch 32 in a fresh process (so no earlier test has tuned
# malloc already); prints the minor page faults of the last 10 steps.
STEPS = r"""
import json, resource, sys, torch, torch.nn.functional as F
from imgai.device import keep_freed_memory
from imgai.models import CNN, CNN_PRESETS
torch.set_num_threads(1)
tuned = keep_freed_memory() if sys.argv[1] == "tuned" else None
model = CNN(CNN_PRESETS["textbook"](in_channels=3, image_size=32))
opt = torch.optim.Adam(model.parameters())
x, y = torch.randn(32, 3, 32, 32), torch.arange(32) % 10
def step():
    loss = F.cross_entropy(model(x), y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
for _ in range(5):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
print(json.dumps({"tuned": tuned, "faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before}))
"""


def _faults(mode: str) -> dict:
    r = subprocess.run([sys.executable, "-c", STEPS, mode], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
                    reason="mallopt is glibc's")
def test_training_steps_reuse_memory_instead_of_page_faulting():
    tuned = _faults("tuned")
    assert tuned["tuned"] is True
    # each step's activations and gradients (~15 MB) faulted in afresh would be ~3,700 faults a step
    assert tuned["faults"] < 1_000, tuned


def test_keep_freed_memory_is_idempotent():
    from imgai.device import keep_freed_memory
    first = keep_freed_memory()
    assert keep_freed_memory() is first  # False off glibc, where nothing changes


@pytest.mark.parametrize("cores,load,share,spare,expected", [
    (2, 0.3, 1, 0, 2),    # a quiet machine: every core
    (2, 1.7, 1, 0, 1),    # one core busy with other work: one thread, not two that wait on each other
    (2, 7.0, 1, 0, 1),    # ever so busy: still one
    (16, 2.2, 1, 0, 14),
    (16, 0.0, 3, 1, 5),   # the app: a core for the server, the rest split between 3 jobs
])
def test_threads_never_outnumber_free_cores(monkeypatch, cores, load, share, spare, expected):
    import os

    import torch

    from imgai import device
    monkeypatch.delenv("IMGAI_THREADS", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    monkeypatch.setattr(os, "getloadavg", lambda: (load, load, load))
    before = torch.get_num_threads()
    try:
        assert device.configure_threads(share=share, spare=spare) == expected
        assert torch.get_num_threads() == expected
    finally:
        torch.set_num_threads(before)


def test_imgai_threads_overrides_the_load(monkeypatch):
    import os

    import torch

    from imgai import device
    monkeypatch.setenv("IMGAI_THREADS", "3")
    monkeypatch.setattr(os, "getloadavg", lambda: (9.0, 9.0, 9.0))
    before = torch.get_num_threads()
    try:
        assert device.configure_threads() == 3
    finally:
        torch.set_num_threads(before)
