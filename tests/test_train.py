import itertools
from dataclasses import replace

import numpy as np
import pytest
import torch

from imgai.data.datasets import ImageData
from imgai.training.runs import LIMITS, RunSpec, SettingsError, check_settings, default_train_config, prepare_run, settings_problems
from imgai.training.augment import augment_batch
from imgai.training.classifier import stall_hint
from imgai.training.config import TrainConfig, TrainingDiverged


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
    rows = [m for m in events if "seconds" in m]
    assert rows[-1]["progress"] == 1.0 and rows[-1]["seconds"] >= 1.0  # it ran out of time, not of data


def test_exploding_learning_rate_stops_with_advice(digits):
    cfg = replace(default_train_config("cnn", "textbook"), lr=10.0, optimizer="sgd", epochs=1)
    with pytest.raises(TrainingDiverged, match="lower the learning rate"):
        list(prepare_run(RunSpec("cnn", "textbook", train=cfg), data=small(digits), device="cpu").loop())


def test_a_run_stalled_at_chance_says_the_learning_rate_is_too_high(digits):
    """Adam at 1.0 kills the ReLUs within a few steps: every picture gets the same answer (10%), the loss
    stays finite, and without a hint the run would just end at 10%."""
    cfg = replace(default_train_config("cnn", "fast"), lr=1.0, epochs=2, batch_size=64)
    events = list(prepare_run(RunSpec("cnn", train=cfg), data=small(digits), device="cpu").loop())
    hints = [e for e in events if e.get("event") == "hint"]
    assert len(hints) == 1 and hints[0]["step"] == 10  # at the first epoch end already, and only once
    assert hints[0]["text"].startswith("stalled at chance level") and "learning rate 1 is too high; try 0.003" in hints[0]["text"]


def test_stall_hint_only_for_chance_level_after_a_full_epoch():
    assert stall_hint(0.11, 10, 1.0, "adam", 0.5) is None         # too early to tell
    assert stall_hint(0.40, 10, 1.0, "adam", 3) is None           # learning, if slowly
    assert "too high; try 0.003" in stall_hint(0.1, 10, 3.0, "adam", 2)
    assert "too high; try 0.03" in stall_hint(0.1, 10, 3.0, "sgd", 2)
    assert "too low" in stall_hint(0.1, 10, 1e-5, "adam", 2)
    assert "train longer" in stall_hint(0.52, 2, 3e-3, "adam", 2)  # two classes: chance is 50%
    assert stall_hint(0.60, 2, 3.0, "adam", 2) is None


@pytest.mark.parametrize("model", ["cnn", "dcgan"])
def test_training_never_touches_the_global_rng(digits, model):
    """Weights, shuffles, augmentation and dropout come from the run's own generators, so a job cannot
    change another job's run (or a sampling call's) through torch's process-wide RNG, nor be changed by it."""
    def run(disturb):
        torch.manual_seed(123)
        cfg = replace(default_train_config(model, "fast"), epochs=1, batch_size=32, seed=5)
        overrides = {"dropout": 0.5} if model == "cnn" else {"d_dropout": 0.3}
        r = prepare_run(RunSpec(model, train=cfg, model_overrides=overrides), data=small(digits, 160), device="cpu")
        rows = []
        for m in r.loop():
            if disturb:
                torch.rand(1000)  # another thread drawing from the global RNG between steps
            rows.append({k: v for k, v in m.items() if k not in ("seconds", "images_per_s", "images")})
        return rows, torch.get_rng_state()
    quiet, state = run(disturb=False)
    assert torch.equal(state, torch.manual_seed(123).get_state())  # nothing drawn from the global RNG
    assert run(disturb=True)[0] == quiet


def test_check_settings_bounds_every_setting_with_one_line():
    base = default_train_config("cnn", "fast")
    assert check_settings(base) is base and settings_problems(base) == []
    bad = {"epochs": [float("inf"), float("nan"), 0.0, -1, 1e9], "seconds": [1e9, 1e-9, float("nan")],
           "batch_size": [100_000_000, 1, 0], "lr": [0.0, 100.0, float("nan"), float("-inf")],
           "weight_decay": [-0.1, 5.0], "seed": [-1, 2**64], "log_every": [0], "beta1": [1.0]}
    for key, values in bad.items():
        for v in values:
            cfg = replace(base, **{key: v, **({"epochs": None} if key == "seconds" else {})})
            with pytest.raises(SettingsError) as e:
                check_settings(cfg)
            line = str(e.value)
            assert "\n" not in line and key.replace("_", " ").replace("lr", "learning rate") in line, line
            assert line.endswith(("NaN", "inf", "-inf")) or "between" in line
            lo, hi = LIMITS[key]
            assert f"{lo:g}" in line or "NaN" in line
    assert "whole number" in str(pytest.raises(SettingsError, check_settings, replace(base, batch_size=64.5)).value)
    assert "optimizer must be one of" in settings_problems(replace(base, optimizer="adamw"))[0]
    assert settings_problems(base, "cnn", {"dropout": 1.0})[0].startswith("dropout must be between 0 and 0.95")
    assert "not a setting" in settings_problems(base, "cnn", {"d_dropout": 0.1})[0]
    two = settings_problems(replace(base, lr=0.0, batch_size=0))
    assert len(two) == 2   # every problem at once, so one correction fixes the command
    with pytest.raises(SettingsError):
        prepare_run(RunSpec("cnn", train=replace(base, batch_size=10**8)), device="cpu")   # before any data is read


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
