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
