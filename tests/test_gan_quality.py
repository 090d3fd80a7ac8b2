"""imgai.inference.quality: the Fréchet distance, class coverage and readability that judge a generator, and the
shipped generators judged by them (deterministic, so tolerant thresholds cannot flake)."""
import numpy as np
import pytest
import torch

from imgai.models.checkpoint import WEIGHTS_DIR, load_checkpoint
from imgai.inference.classify import load_classifier
from imgai.inference.quality import (conditional_accuracy, frechet_distance, generator_quality, images_quality, label_stats,
                           real_floor)


def test_frechet_distance_of_gaussians():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4000, 8))
    assert frechet_distance(a, a) == pytest.approx(0, abs=1e-6)
    shifted = frechet_distance(a, a + 3.0)                               # only the means differ: 8 * 3^2
    assert shifted == pytest.approx(72, rel=1e-6)
    wider = frechet_distance(a, rng.normal(size=(4000, 8)) * 2)          # tr(1 + 4 - 2*2) per dim = 1 * 8
    assert wider == pytest.approx(8, rel=0.1)


def test_label_stats_counts_readable_and_classes():
    p = torch.zeros(10, 10)
    p[:5, 3] = 0.95
    p[5:, 7] = 0.5       # unsure: not readable
    s = label_stats(p)
    assert s["readable"] == 0.5 and s["classes"] == 1 and s["class_counts"][3] == 5
    assert s["label_entropy_bits"] == pytest.approx(1.0)                  # half 3s, half 7s


@pytest.fixture(scope="module")
def clf():
    return load_classifier(str(WEIGHTS_DIR / "digits-cnn"))


def test_real_digits_are_closer_than_noise(digits, clf):
    floor = real_floor(clf, digits.train_x, digits.val_x, n=300)
    noise = torch.randint(0, 256, (300, 1, 28, 28), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    assert floor["readable"] > 0.95 and floor["classes"] == 10
    assert images_quality(clf, noise, digits.val_x)["distance"] > 10 * floor["distance"]


def test_shipped_gan_draws_every_digit_close_to_real(digits, clf):
    gan, _ = load_checkpoint(WEIGHTS_DIR / "digits-dcgan")
    q = generator_quality(gan.generator, gan.config.nz, clf, digits.val_x, n=500)
    floor = real_floor(clf, digits.train_x, digits.val_x, n=500)
    assert q["classes"] == 10 and q["readable"] > 0.7
    # a guard against a broken checkpoint or judge, not the goal: bench/results/gan-shipped.json has the figures
    assert q["distance"] < 20 * floor["distance"]


def test_shipped_conditional_gan_draws_the_asked_digit(clf):
    path = WEIGHTS_DIR / "digits-cdcgan"
    if not path.with_suffix(".json").exists():
        pytest.skip("no shipped conditional GAN in this checkout")
    gan, meta = load_checkpoint(path)
    acc = conditional_accuracy(gan.generator, gan.config.nz, clf, len(meta["class_names"]), per_class=30)
    assert acc["min"] >= 0.9, acc  # 100 per class in bench/results/gan-shipped.json; 30 keeps this quick
