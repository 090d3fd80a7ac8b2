"""Generation feeds recognition: few-shot subsets, the two image sources (a classifier-labelled plain GAN,
a conditional GAN behind the (label, n, generator) interface), and an experiment that returns per-setting
accuracies with their spread over seeds."""
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
import torch.nn as nn

from imgai.experiments.augment_experiment import (AugmentSpec, ExperimentError, check_spec, conditional_source, few_per_class,
                                      label_pool, labelled_source, prepare_experiment, summarize)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def small():
    from imgai.data.datasets import load_dataset
    d = load_dataset("digits")
    return replace(d, val_x=d.val_x[:200], val_y=d.val_y[:200])


def real_source(data):
    """A perfect 'generator': real training images of the asked class, the last 1,000 (never few-shot picks
    for the seeds used here, which draw from all of them; overlap would only make the test easier)."""
    x, y = data.train_x[-1000:], data.train_y[-1000:]
    return labelled_source(x, y)


def test_few_per_class_takes_n_of_each_class_chosen_by_seed(small):
    x, y = few_per_class(small, 3, seed=0)
    assert x.shape == (30, 1, 28, 28) and torch.bincount(y).tolist() == [3] * 10
    assert torch.equal(few_per_class(small, 3, seed=0)[0], x) and not torch.equal(few_per_class(small, 3, seed=1)[0], x)
    with pytest.raises(ExperimentError, match="only"):
        few_per_class(small, 10_000, seed=0)


def test_label_pool_keeps_only_confident_samples():
    class Fixed(nn.Module):   # "sure" of class 3 for bright images, unsure for dark ones
        def forward(self, x):
            bright = (x.mean((1, 2, 3)) > 0).float()
            logits = torch.zeros(len(x), 10)
            logits[:, 3] = bright * 10
            return logits
    images = torch.cat([torch.full((4, 1, 28, 28), 255, dtype=torch.uint8), torch.zeros(6, 1, 28, 28, dtype=torch.uint8)])
    kept, labels = label_pool(images, Fixed(), (0.5,), (0.5,), threshold=0.9)
    assert len(kept) == 4 and labels.tolist() == [3] * 4
    draw = labelled_source(kept, labels)
    assert len(draw(3, 10, torch.Generator().manual_seed(0))) == 4 and len(draw(5, 10, torch.Generator())) == 0


def test_a_conditional_gan_plugs_in_through_the_interface():
    class CondG(nn.Module):   # draws the label as the brightness of the whole image
        def forward(self, z, labels):
            return (labels.float() / 9 * 2 - 1).view(-1, 1, 1, 1).expand(len(z), 1, 28, 28) + 0 * z[:, :1, None, None]

    class CDCGAN(nn.Module):
        def __init__(self):
            super().__init__()
            self.generator, self.config = CondG(), type("Cfg", (), {"nz": 8})()
    draw = conditional_source(CDCGAN())
    images = draw(9, 5, torch.Generator().manual_seed(0))
    assert images.shape == (5, 1, 28, 28) and images.dtype == torch.uint8 and int(images.min()) == 255
    assert int(draw(0, 2, torch.Generator()).max()) == 0


def test_the_experiment_returns_per_setting_accuracies_with_spread(small):
    spec = AugmentSpec(per_class=[1, 2], seeds=[0, 1], steps=4, batch_size=16, generated_per_class=3)
    run = prepare_experiment(spec, small, device="cpu", source=real_source(small))
    rows = list(run.loop())
    assert rows[-1]["progress"] == pytest.approx(1.0) and [r["step"] for r in rows] == sorted(r["step"] for r in rows)
    out = summarize(rows, spec)
    assert out["complete"] and len(out["settings"]) == 4
    for s in out["settings"]:
        assert len(s["val_acc"]) == 2 and s["mean"] == pytest.approx(sum(s["val_acc"]) / 2) and s["spread"] >= 0
        assert all(0 <= a <= 1 for a in s["val_acc"])
    assert [g["per_class"] for g in out["gains"]] == [1, 2]
    added = [r for r in rows if r.get("mode") == "real+generated"]
    assert all(r["generated"] == 30 and r["generated_min_class"] == 3 for r in added)


def test_real_extra_images_help_one_shot_learning(small):
    """Can fail: if the generated images were ignored or mislabelled, one image per class plus 40 good ones
    would not beat one image per class."""
    spec = AugmentSpec(per_class=[1], seeds=[0], steps=40, batch_size=32, generated_per_class=40)
    out = summarize(list(prepare_experiment(spec, small, device="cpu", source=real_source(small)).loop()), spec)
    assert out["gains"][0]["gain"] > 0.1


def test_the_plain_gan_path_with_the_shipped_labeller_and_with_self_labelling(small):
    for labeller in ("shipped", "self"):
        spec = AugmentSpec(per_class=[2], seeds=[0], steps=2, batch_size=8, generated_per_class=5, pool=200,
                           labeller=labeller, threshold=0.5 if labeller == "self" else 0.9)
        rows = list(prepare_experiment(spec, small, device="cpu").loop())
        (added,) = [r for r in rows if r.get("mode") == "real+generated"]
        assert 0 <= added["generated"] <= 50
        if labeller == "shipped":
            assert added["generated"] >= 30   # the shipped CNN reads most of the shipped GAN's digits


@pytest.mark.parametrize("change, message", [
    ({"per_class": []}, "at least one"), ({"seeds": []}, "seed"), ({"labeller": "teacher"}, "labeller"),
    ({"threshold": 1.5}, "threshold"), ({"steps": 0}, "steps")])
def test_bad_experiments_are_refused(change, message):
    with pytest.raises(ExperimentError, match=message):
        check_spec(replace(AugmentSpec(), **change))


def test_a_classifier_is_not_a_generator(small):
    from imgai.models.checkpoint import CheckpointError
    with pytest.raises(CheckpointError, match="not a generator"):
        prepare_experiment(AugmentSpec(generator="weights/digits-cnn"), small)


def test_cli_prints_a_json_summary_last():
    r = subprocess.run([sys.executable, "-m", "imgai", "augment-experiment", "--per-class", "2", "--seeds", "0",
                        "--steps", "2", "--generated-per-class", "3", "--pool", "100"], cwd=ROOT, capture_output=True,
                       text=True, timeout=240)
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["complete"] and {s["mode"] for s in out["settings"]} == {"real", "real+generated"}
    bad = subprocess.run([sys.executable, "-m", "imgai", "augment-experiment", "--generator", "weights/digits-cnn"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "not a generator" in bad.stderr
