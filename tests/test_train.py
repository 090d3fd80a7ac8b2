import itertools
from dataclasses import replace

import numpy as np
import pytest
import torch

from imgai.data import ImageData
from imgai.runs import RunSpec, default_train_config, prepare_run
from imgai.train import TrainConfig, TrainingDiverged, augment_batch


def small(data, n=640):
    """The first n training digits: enough to see learning, small enough for a unit test."""
    return replace(data, train_x=data.train_x[:n], train_y=data.train_y[:n], val_x=data.val_x[:200], val_y=data.val_y[:200])


def losses(loop, n):
    return [m["loss"] for m in itertools.islice(loop, n) if "loss" in m]


def test_classifier_loss_falls_on_a_fixed_seed(digits):
    cfg = replace(default_train_config("cnn", "fast"), epochs=2, batch_size=64)
    run = prepare_run(RunSpec("cnn", "fast", train=cfg), data=small(digits), device="cpu")
    events = list(run.loop())
    ms = [m for m in events if "loss" in m]
    assert np.mean([m["loss"] for m in ms[:3]]) > 2 * np.mean([m["loss"] for m in ms[-3:]])
    val = [m["val_acc"] for m in events if "val_acc" in m]
    assert len(val) == 2 and val[-1] > 0.6
    samples = [e for e in events if e.get("event") == "samples"]
    assert samples[-1]["images"].shape == (36, 28, 28, 1) and len(samples[-1]["pred"]) == 36
    confusion = [e for e in events if e.get("event") == "confusion"][-1]["matrix"]
    assert np.array(confusion).sum() == 200
    assert all(isinstance(v, (int, float)) for m in ms for v in m.values())  # flat dicts of numbers


def test_seeded_runs_are_reproducible(digits):
    def run_losses():
        cfg = replace(default_train_config("cnn", "fast"), epochs=2, seed=3)
        return losses(prepare_run(RunSpec("cnn", train=cfg), data=small(digits, 256), device="cpu").loop(), 20)
    first = run_losses()
    assert len(first) >= 6 and first == run_losses()


def test_gan_yields_losses_and_fixed_noise_grids(digits):
    cfg = replace(default_train_config("dcgan", "fast"), epochs=1, batch_size=32, sample_every=5)
    run = prepare_run(RunSpec("dcgan", train=cfg), data=small(digits, 320), device="cpu")
    events = list(run.loop())
    ms = [m for m in events if "loss_d" in m]
    assert len(ms) == 10 and all(0 <= m["d_x"] <= 1 and 0 <= m["d_g_z"] <= 1 for m in ms)
    grids = [e for e in events if e.get("event") == "samples"]
    assert [g["step"] for g in grids] == [0, 5, 10]
    assert grids[0]["images"].shape == (36, 28, 28, 1) and grids[0]["images"].dtype == np.uint8
    assert not np.array_equal(grids[0]["images"], grids[-1]["images"])  # the generator learned something


def test_gan_discriminator_learns_on_a_fixed_seed(digits):
    cfg = replace(default_train_config("dcgan", "fast"), epochs=3, batch_size=32)
    ms = [m for m in prepare_run(RunSpec("dcgan", train=cfg), data=small(digits, 320), device="cpu").loop() if "loss_d" in m]
    first, last = ms[:3], ms[-3:]
    # D starts at chance (BCE ≈ 2·ln 2) and learns to separate real from fake
    assert np.mean([m["loss_d"] for m in first]) > np.mean([m["loss_d"] for m in last])


def test_time_budget_ends_the_run(digits):
    cfg = replace(default_train_config("cnn", "fast"), epochs=None, seconds=1.0)
    events = list(prepare_run(RunSpec("cnn", train=cfg), data=small(digits), device="cpu").loop())
    assert events[-1]["event"] == "confusion"  # the run ends with a final validation
    assert 0.9 <= [m for m in events if "seconds" in m][-1]["seconds"] < 3


def test_absurd_learning_rate_stops_with_advice(digits):
    cfg = replace(default_train_config("cnn", "textbook"), lr=1e6, optimizer="sgd", epochs=1)
    with pytest.raises(TrainingDiverged, match="lower the learning rate"):
        list(prepare_run(RunSpec("cnn", "textbook", train=cfg), data=small(digits), device="cpu").loop())


def test_augmentation_keeps_digits_upright_and_in_frame(digits):
    x = digits.train_x[:64].float() / 255
    y = augment_batch(x, torch.Generator().manual_seed(0), flip=False)
    assert y.shape == x.shape and not torch.equal(x, y)
    assert (y.sum(dim=(1, 2, 3)) / x.sum(dim=(1, 2, 3))).min() > 0.7  # ink is moved, not cut off


def test_folder_sized_rgb_data_trains(tmp_path):
    """A 3-channel 32x32 data set (like CIFAR-10 or a folder) runs through the same loop."""
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(64, 3, 32, 32, generator=g) * 255).byte()
    y = torch.arange(64) % 2
    data = ImageData("toy", x, y, x[:16], y[:16], ["a", "b"], (0.5,) * 3, (0.25,) * 3)
    run = prepare_run(RunSpec("cnn", train=TrainConfig(epochs=1, batch_size=16)), data=data, device="cpu")
    assert [e for e in run.loop() if "val_acc" in e]
