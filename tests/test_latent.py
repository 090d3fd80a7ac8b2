"""imgai.inference.latent: seeds, interpolation, truncation, GANSpace directions and the classifier in the loop.

Uses the shipped weights/digits-dcgan and weights/digits-cnn when present, otherwise a GAN and a CNN
trained for a few seconds here (tiny_models, shared with tests/test_latent_page.py).
"""
import functools
import math
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from imgai.models.checkpoint import WEIGHTS_DIR, load_checkpoint, save_checkpoint
from imgai.inference.classify import load_classifier
from imgai.data.datasets import load_dataset, normalize
from imgai.inference.latent import (Directions, class_histogram, class_probabilities, classifier_input, direction_sweeps,
                          edit_latents, fits,
                          interpolate, label_samples, lerp, principal_directions, render, seed_latent, seed_latents,
                          slerp, steer, truncate)
from imgai.models.sampling import sample_images

NZ = 100


def _train(model: str, epochs: float, out: Path) -> Path:
    from imgai.training.runs import RunSpec, default_train_config, prepare_run
    cfg = replace(default_train_config(model, "fast"), epochs=epochs, seed=0)
    run = prepare_run(RunSpec(model=model, dataset="digits", train=cfg), device="cpu")
    last = {}
    for m in run.loop():
        last.update({k: v for k, v in m.items() if k != "images"})
    return save_checkpoint(out, run.model, {**run.meta, "step": int(last.get("step", 0))})


@functools.lru_cache(maxsize=1)
def tiny_models() -> tuple[str, str]:
    """(generator path, classifier path): the shipped ones, or ones trained once per test session.
    Two epochs are enough for a GAN whose principal directions beat random ones (it draws blobs that
    are mostly one digit; the shipped GAN draws all ten)."""
    gan, cnn = WEIGHTS_DIR / "digits-dcgan", WEIGHTS_DIR / "digits-cnn"
    if all(p.with_suffix(s).exists() for p in (gan, cnn) for s in (".json", ".safetensors")):
        return str(gan), str(cnn)
    out = Path(tempfile.mkdtemp(prefix="imgai-latent-test-"))
    return str(_train("dcgan", 2, out / "test-dcgan")), str(_train("cnn", 0.5, out / "test-cnn"))


@pytest.fixture(scope="module")
def gan():
    model, meta = load_checkpoint(tiny_models()[0])
    return model.generator, meta


@pytest.fixture(scope="module")
def clf():
    return load_classifier(tiny_models()[1])


# --- seeds and interpolation ---------------------------------------------------------------------------

def test_a_seed_names_one_latent_whatever_the_batch():
    assert torch.equal(seed_latents(7, 5, NZ)[0], seed_latent(7, NZ))
    assert torch.equal(seed_latents(7, 5, NZ)[:3], seed_latents(7, 3, NZ))
    assert not torch.equal(seed_latent(7, NZ), seed_latent(8, NZ))


@pytest.mark.parametrize("method", ["slerp", "lerp"])
def test_interpolation_endpoints_are_the_seeds_own_samples(gan, method):
    G, _ = gan
    a, b = seed_latent(3, NZ), seed_latent(11, NZ)
    frames = interpolate(a, b, 6, method)
    assert frames.shape == (6, NZ)
    assert torch.equal(frames[0], a) and torch.equal(frames[-1], b)
    images = sample_images(G, frames)
    assert (images[0] == sample_images(G, a[None])[0]).all()
    assert (images[-1] == sample_images(G, b[None])[0]).all()
    assert (images[0] != images[-1]).any()


def test_slerp_keeps_the_norm_of_equal_norm_endpoints():
    a, b = seed_latent(1, NZ), seed_latent(2, NZ)
    b = b * a.norm() / b.norm()
    norms = interpolate(a, b, 9, "slerp").norm(dim=1)
    assert torch.allclose(norms, a.norm().expand(9), rtol=1e-5)
    # a straight line cuts inside the sphere: its midpoint is shorter
    assert lerp(a, b, 0.5).norm() < 0.9 * a.norm()


def test_slerp_interpolates_the_norms_and_walks_the_great_circle():
    a, b = seed_latent(1, NZ), 2.5 * seed_latent(2, NZ)
    for t in (0.0, 0.25, 0.5, 0.9, 1.0):
        z = slerp(a, b, t)
        assert math.isclose(z.norm().item(), ((1 - t) * a.norm() + t * b.norm()).item(), rel_tol=1e-5)
    # the angle to a grows linearly with t
    ang = lambda u, v: torch.arccos((u @ v) / (u.norm() * v.norm())).item()
    total = ang(a, b)
    assert math.isclose(ang(a, slerp(a, b, 0.3)), 0.3 * total, rel_tol=1e-3)


def test_lerp_midpoint_is_the_average():
    a, b = seed_latent(1, NZ), seed_latent(2, NZ)
    assert torch.allclose(lerp(a, b, 0.5), (a + b) / 2)
    assert torch.allclose(interpolate(a, b, 3, "lerp")[1], (a + b) / 2)


def test_interpolate_refuses_bad_input():
    a = seed_latent(1, NZ)
    with pytest.raises(ValueError, match="at least 2"):
        interpolate(a, a, 1)
    with pytest.raises(ValueError, match="slerp or lerp"):
        interpolate(a, a, 4, "cubic")


# --- truncation and directions ---------------------------------------------------------------------------

def test_truncation_psi_zero_gives_the_mean_image(gan):
    G, _ = gan
    z = seed_latents(5, 4, NZ)
    assert torch.equal(truncate(z, 1.0), z)
    assert torch.allclose(truncate(z, 0.5), z / 2)
    images = sample_images(G, truncate(z, 0.0))
    mean_image = sample_images(G, torch.zeros(1, NZ))[0]
    assert all((img == mean_image).all() for img in images)
    # a different mean latent: psi=0 lands exactly on it
    m = seed_latent(9, NZ)
    assert torch.allclose(truncate(z, 0.0, mean=m), m.expand(4, NZ))


@pytest.fixture(scope="module")
def directions(gan):
    return principal_directions(gan[0], NZ, k=6)


def test_directions_are_orthonormal_and_deterministic(gan, directions):
    v = directions.vectors
    assert v.shape == (6, NZ)
    assert torch.allclose(v @ v.T, torch.eye(6), atol=1e-5)
    assert torch.equal(principal_directions(gan[0], NZ, k=6).vectors, v)
    e = directions.explained
    assert (e[:-1] >= e[1:] - 1e-6).all() and 0 < e.sum() <= 1
    assert not gan[0].training  # the generator's mode is left as it was


def test_directions_leave_other_threads_random_numbers_alone(gan, directions):
    """The randomized PCA draws from its own generator: no global seeding (a job training in another
    thread would be rewound by fork_rng + manual_seed), and the global state does not change the result."""
    torch.manual_seed(11)
    state = torch.get_rng_state()
    again = principal_directions(gan[0], NZ, k=6)
    assert torch.equal(state, torch.get_rng_state())
    assert torch.equal(again.vectors, directions.vectors)


def test_first_direction_changes_the_image_more_than_random_ones(gan, directions):
    G, _ = gan
    z = seed_latents(0, 32, NZ)
    with torch.no_grad():
        base = G(z)
        change = lambda v: (G(z + 3 * v) - base).abs().mean().item()
        g = torch.Generator().manual_seed(1)
        random_dirs = torch.nn.functional.normalize(torch.randn(10, NZ, generator=g), dim=1)
        random_change = sum(change(v) for v in random_dirs) / len(random_dirs)
        first = change(directions.vectors[0])
    print(f"\nmean |Δimage| for 3 std: first direction {first:.3f}, random directions {random_change:.3f}")
    assert first > 1.2 * random_change


def test_edit_latents_moves_by_offsets_along_the_directions(directions):
    z = seed_latents(2, 3, NZ)
    edited = edit_latents(z, directions, [2.0, 0.0, -1.5], psi=0.7)
    moved = edited - truncate(z, 0.7)
    coords = moved @ directions.vectors.T                                # (3, 6)
    assert torch.allclose(coords, torch.tensor([2.0, 0, -1.5, 0, 0, 0]).expand(3, 6), atol=1e-5)
    assert torch.equal(edit_latents(z), z)
    assert torch.allclose(edit_latents(z[0], directions.vectors, [1.0]), z[0] + directions.vectors[0])
    with pytest.raises(ValueError, match="offsets"):
        edit_latents(z, Directions(directions.vectors[:2], directions.explained[:2]), [1, 2, 3])


def test_direction_sweeps_move_one_slider_at_a_time(directions):
    offsets, stops = [1.0, -0.5, 0.0], [-3.0, 0.0, 1.0, 3.0]
    z = edit_latents(seed_latent(3, NZ), directions, offsets, psi=0.8)
    sweeps = direction_sweeps(z, directions, offsets, stops)                          # (3, 4, nz)
    assert sweeps.shape == (3, 4, NZ)
    coords = (sweeps - z) @ directions.vectors.T                                      # (3, 4, 6)
    for d in range(3):
        expected = torch.zeros(4, 6)
        expected[:, d] = torch.tensor(stops) - offsets[d]
        assert torch.allclose(coords[d], expected, atol=1e-5)
    # the stop equal to a slider's current value is the current picture itself
    assert torch.allclose(direction_sweeps(z, directions, [0.0], [0.0])[0, 0], z)


def test_principal_directions_refuses_bad_k(gan):
    with pytest.raises(ValueError, match="between 1"):
        principal_directions(gan[0], NZ, k=0)


# --- the classifier in the loop ---------------------------------------------------------------------------

def test_classifier_input_maps_generator_range_to_the_classifier_normalisation(clf):
    data = load_dataset("digits")
    x = data.val_x[:4]                                                   # uint8 (4, 1, 28, 28)
    as_generated = x.float() / 255 * 2 - 1                               # what a perfect G would output
    assert torch.allclose(classifier_input(as_generated, clf.meta), normalize(x, clf.meta["mean"], clf.meta["std"]),
                          atol=1e-5)
    with pytest.raises(ValueError, match="1x28x28"):
        classifier_input(torch.zeros(2, 3, 32, 32), clf.meta)


def test_fits_checks_size_channels_and_kind(clf, gan):
    assert fits(gan[1], clf.meta)
    assert not fits({**gan[1], "channels": 3}, clf.meta)
    assert not fits(gan[1], {**clf.meta, "image_size": 32})
    assert not fits(gan[1], {**clf.meta, "kind": "photo-head"})


def test_labels_and_histogram(gan, clf):
    G, _ = gan
    z = seed_latents(0, 5, NZ)
    labels = label_samples(G, clf, z)
    assert len(labels) == 5
    assert all(lab in clf.class_names and 0.1 <= conf <= 1 for lab, conf in labels)
    p = class_probabilities(G, clf, z)
    assert torch.allclose(p.sum(1), torch.ones(5), atol=1e-5)
    h = class_histogram(G, clf, NZ, n=200, seed=3)
    assert sum(h["counts"]) == 200 and len(h["counts"]) == len(clf.class_names) == len(h["confidence"])
    assert h == class_histogram(G, clf, NZ, n=200, seed=3)  # seeded: the same picture every time
    assert not clf.model.training


def test_render_draws_and_labels_in_one_pass(gan, clf):
    G, _ = gan
    z = seed_latents(4, 6, NZ)
    images, labels = render(G, z, clf)
    assert (images == sample_images(G, z)).all()
    batched = label_samples(G, clf, z)  # one batch through G: the same labels, confidences up to rounding
    assert [name for name, _ in labels] == [name for name, _ in batched]
    assert np.allclose([c for _, c in labels], [c for _, c in batched], atol=1e-4)
    assert render(G, z)[1] is None


def test_steering_raises_the_chosen_class_probability(gan, clf):
    G, _ = gan
    z0 = seed_latent(0, NZ)
    p0 = class_probabilities(G, clf, z0[None])[0]
    target = int(p0.topk(2).indices[1])   # the runner-up: reachable even for a GAN that draws one digit
    before = {k: v.clone() for k, v in list(G.state_dict().items()) + list(clf.model.state_dict().items())}
    path = steer(G, clf, z0, target, steps=15)
    print(f"\np(class {target}) along the path: " + " ".join(f"{p:.2f}" for p in path.prob))
    assert torch.equal(path.latents[0], z0)
    assert path.latents.shape == (16, NZ) and len(path.prob) == len(path.labels) == 16
    assert math.isclose(path.prob[0], float(p0[target]), rel_tol=1e-4)
    assert path.prob[-1] > path.prob[0] + 0.3
    assert path.prob[-1] == pytest.approx(float(class_probabilities(G, clf, path.latents[-1:])[0, target]), rel=1e-4)
    # stays on the Gaussian shell where it started
    assert torch.allclose(path.latents.norm(dim=1), z0.norm().expand(16), rtol=1e-4)
    # the networks are untouched: same weights, no gradients left behind, still in eval mode
    after = list(G.state_dict().items()) + list(clf.model.state_dict().items())
    assert all(torch.equal(v, before[k]) for k, v in after)
    assert all(p.grad is None for p in list(G.parameters()) + list(clf.model.parameters()))
    assert not G.training and not clf.model.training


def test_steering_stops_early_and_refuses_unknown_classes(gan, clf):
    G, _ = gan
    z0 = seed_latent(0, NZ)
    top = int(class_probabilities(G, clf, z0[None])[0].argmax())
    path = steer(G, clf, z0, top, steps=10, stop_at=0.0)
    assert len(path.prob) == 1  # already there
    with pytest.raises(ValueError, match="not one of"):
        steer(G, clf, z0, 10)
