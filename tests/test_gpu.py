"""The CUDA path: the same loops, augmentation and checkpoints on a GPU (skipped without one).

    python -m pytest -q -m gpu            (bench/gpu_check.sh runs these, then the benchmarks on CUDA)
"""
from dataclasses import replace

import pytest
import torch

from imgai.models.checkpoint import load_checkpoint, save_checkpoint
from imgai.training.runs import RunSpec, default_train_config, prepare_run
from imgai.training.augment import crop_flip_batch

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")]
CUDA = torch.device("cuda")


def _small(data, n=256):
    return replace(data, train_x=data.train_x[:n], train_y=data.train_y[:n], val_x=data.val_x[:100],
                   val_y=data.val_y[:100])


@pytest.fixture(scope="module")
def cifar():
    from imgai.data.datasets import load_dataset
    return _small(load_dataset("cifar10-5k"))


def test_classifier_trains_on_the_gpu_and_scores_its_validation_set(cifar):
    cfg = replace(default_train_config("cnn", "fast", "cifar10-5k"), epochs=2)
    run = prepare_run(RunSpec("cnn", "fast", dataset="cifar10-5k", train=cfg), data=cifar, device=CUDA)
    events = list(run.loop())
    assert next(run.model.parameters()).device.type == "cuda"
    losses = [m["loss"] for m in events if "loss" in m]
    assert all(torch.isfinite(torch.tensor(losses))) and [m for m in events if "val_acc" in m]


def test_crop_flip_is_the_same_on_the_gpu():
    x = torch.rand(32, 3, 32, 32)
    cpu = crop_flip_batch(x, torch.Generator().manual_seed(1))
    gpu = crop_flip_batch(x.to(CUDA), torch.Generator().manual_seed(1))
    assert torch.equal(cpu, gpu.cpu())


def test_gan_trains_on_the_gpu(cifar):
    cfg = replace(default_train_config("dcgan", "fast"), epochs=1, sample_every=4)
    run = prepare_run(RunSpec("dcgan", "fast", dataset="cifar10-5k", train=cfg), data=cifar, device=CUDA)
    samples = [e for e in run.loop() if e.get("event") == "samples"]
    assert samples[-1]["images"].shape[1:] == (32, 32, 3)


def test_a_gpu_checkpoint_loads_on_the_cpu_with_the_same_outputs(cifar, tmp_path):
    cfg = replace(default_train_config("cnn", "fast", "cifar10-5k"), epochs=1)
    run = prepare_run(RunSpec("cnn", "fast", dataset="cifar10-5k", train=cfg), data=cifar, device=CUDA)
    list(run.loop())
    path = save_checkpoint(tmp_path / "m", run.model, {**run.meta, "step": 1, "metrics": {}})
    model, _ = load_checkpoint(path)
    x = torch.randn(4, 3, 32, 32)
    with torch.no_grad():  # cuDNN may convolve in TF32: close, not equal
        assert torch.allclose(model(x), run.model.eval()(x.to(CUDA)).cpu(), rtol=1e-2, atol=1e-2)
