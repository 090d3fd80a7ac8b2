"""The map of what a classifier learned: deterministic per seed, PCA placing a new picture exactly where its
features project, t-SNE placing it among its nearest neighbours, GAN samples read by the classifier."""
import numpy as np
import pytest
import torch

from imgai.inference import feature_map as fm
from imgai.inference.classify import load_classifier
from imgai.models.checkpoint import WEIGHTS_DIR


@pytest.fixture(scope="module")
def clf():
    return load_classifier(str(WEIGHTS_DIR / "digits-cnn"))


def test_pca_map_is_deterministic_per_seed(clf):
    a = fm.build_map(clf, "pca", 200, seed=1, key="a")
    b = fm.build_map(clf, "pca", 200, seed=1, key="b")        # a fresh computation, not the cached one
    c = fm.build_map(clf, "pca", 200, seed=2, key="c")
    assert a is not b and np.array_equal(a.xy, b.xy)
    assert not np.array_equal(a.xy, c.xy)
    assert a.xy.shape == (200, 2) and len(a.labels) == len(a.predicted) == len(a.images) == 200
    assert fm.build_map(clf, "pca", 200, seed=1, key="a") is a   # cached


def test_pca_axes_fix_their_sign_and_order():
    rng = np.random.default_rng(0)
    f = rng.normal(size=(300, 6)) * np.array([5, 3, 1, 1, 1, 1])
    mean, axes = fm.pca(f)
    _, flipped = fm.pca(-f + 0.0)
    assert np.allclose(axes, flipped)                          # mirrored data, same axes
    assert abs(axes[0, 0]) > 0.99 and abs(axes[1, 1]) > 0.99   # the widest spreads first
    assert (axes[np.arange(2), np.abs(axes).argmax(1)] > 0).all()


def test_features_are_the_last_dense_layers_input(clf):
    x = torch.randn(3, 1, 28, 28)
    f, logits = fm.features(clf.model, x)
    last = clf.model.classifier[-1]
    assert f.shape == (3, last.in_features)
    assert np.allclose(last(torch.from_numpy(f)).detach().numpy(), logits, atol=1e-5)


def test_placing_a_validation_image_lands_on_it(clf):
    m = fm.build_map(clf, "pca", 200, seed=0)
    assert np.allclose(fm.place(m, m.features[:5]), m.xy[:5], atol=1e-3)
    assert fm.neighbours(m, m.xy[7], k=3)[0] == 7


def test_tsne_is_deterministic_and_places_by_neighbours(clf):
    pytest.importorskip("openTSNE")
    a = fm.build_map(clf, "tsne", 150, seed=0, key="t1")
    b = fm.build_map(clf, "tsne", 150, seed=0, key="t2")
    assert np.allclose(a.xy, b.xy)
    p = fm.place(a, a.features[:1])
    near = np.argsort(((a.features - a.features[0]) ** 2).sum(1))[:fm.NEIGHBOURS]
    assert np.allclose(p[0], a.xy[near].mean(0))
    assert "nearest" in a.placed_by


def test_tsne_reports_its_progress_up_to_the_end(clf):
    pytest.importorskip("openTSNE")
    seen = []
    fm.build_map(clf, "tsne", 150, seed=1, key="t3", progress=seen.append)
    assert len(seen) >= 10 and seen == sorted(seen) and seen[-1] == 1.0 and 0 < seen[0] < 0.1


def test_gan_samples_are_read_by_the_classifier(clf):
    g = fm.gan_samples(clf, str(WEIGHTS_DIR / "digits-cdcgan"), n=20, seed=0)
    assert g["images"].shape == (20, 28, 28) and g["features"].shape[0] == 20
    assert (g["predicted"] == np.arange(20) % 10).mean() >= 0.7  # a cGAN asked for each class in turn


def test_bad_requests_are_one_line_errors(clf):
    with pytest.raises(fm.MapError):
        fm.build_map(clf, "umap-or-so", 10)
    with pytest.raises(fm.MapError):
        fm.gan_samples(clf, str(WEIGHTS_DIR / "cifar10-dcgan"), n=4)
