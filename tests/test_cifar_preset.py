"""The fast preset's colour settings: the whitening conv, test-time augmentation, the airbench training tricks,
and the preset on a folder of photos end to end (imgai.models.whitening, imgai.models.tta,
imgai.training.augment, imgai.training.presets: the cnn fast preset's colour_train)."""
from dataclasses import replace
from itertools import islice

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from imgai.data.datasets import load_dataset, normalize
from imgai.inference.classify import load_classifier
from imgai.models.tta import TTAError, tta_logits, tta_views
from imgai.models import CNN, CNNConfig, CNN_PRESETS, build_seeded
from imgai.models.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from imgai.models.whitening import fit_whitening, patches, whitening_filters
from imgai.training.augment import alternating_flip
from imgai.training.averaging import Lookahead
from imgai.training.config import param_groups
from imgai.training.runs import RunSpec, default_train_config, prepare_run

TINY = {"stages": [[4], [8]]}  # the whitened network at test size


def correlated_images(n=64, seed=0) -> torch.Tensor:
    """Smooth colour noise whose channels share most of their signal: patches far from white."""
    g = torch.Generator().manual_seed(seed)
    base = 5 * F.avg_pool2d(torch.randn(n, 1, 36, 36, generator=g), 5, stride=1)  # (n, 1, 32, 32), neighbours alike
    return base * torch.tensor([1.0, 0.8, 0.6]).view(1, 3, 1, 1) + 0.3 * torch.randn(n, 3, 32, 32, generator=g)


def test_whitening_filters_decorrelate_the_training_patches():
    x = correlated_images()
    w = whitening_filters(x, 2)
    assert w.shape == (24, 3, 2, 2)                        # 2 x (3 channels x 2 x 2) filters
    assert torch.equal(w[12:], -w[:12])                    # each direction with both signs
    rows = patches(x.double(), 2)                           # (N*31*31, 12)
    raw = rows.T @ rows / len(rows)
    corr = raw / raw.diagonal().sqrt().outer(raw.diagonal().sqrt())
    assert corr[~torch.eye(12, dtype=torch.bool)].min() > 0.5    # far from white: every pair strongly correlated
    out = rows @ w[:12].double().reshape(12, -1).T        # the conv's outputs over every patch
    cov = out.T @ out / len(out)
    assert torch.allclose(cov, torch.eye(12, dtype=cov.dtype), atol=0.02)  # white: identity covariance


def test_patches_are_laid_out_like_a_conv_weight():
    x = torch.randn(2, 3, 5, 5)
    w = torch.randn(7, 3, 2, 2)
    by_conv = F.conv2d(x, w).permute(0, 2, 3, 1).reshape(-1, 7)
    assert torch.allclose(patches(x, 2) @ w.reshape(7, -1).T, by_conv, atol=1e-5)


def test_the_whitened_network_fits_its_first_conv_to_the_data_and_never_trains_it():
    data = load_dataset("cifar10-5k")
    small = replace(data, train_x=data.train_x[:64], train_y=data.train_y[:64], val_x=data.val_x[:16],
                    val_y=data.val_y[:16])
    cfg = replace(default_train_config("cnn", "fast", "cifar10-5k"), epochs=3, batch_size=16)
    cfg = replace(cfg, bn_bias_lr_scale=64)  # airbench's batch norm (off in the preset: bench/results/cifar.json)
    spec = RunSpec("cnn", "fast", "cifar10-5k", train=cfg, model_overrides={**TINY, "bn_scale": False})
    run = prepare_run(spec, data=small, device="cpu")
    model = run.model
    assert model.config.whiten == 2 and not model.whiten_conv.weight.requires_grad
    list(run.loop())
    want = whitening_filters(normalize(small.train_x, small.mean, small.std), 2)
    assert torch.allclose(model.whiten_conv.weight.detach().contiguous(), want)
    bn = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert bn and all(torch.equal(m.weight, torch.ones_like(m.weight)) for m in bn)  # no scale learned
    assert any(m.bias.abs().sum() > 0 for m in bn)                                      # biases did learn


def test_fit_whitening_refuses_a_conv_of_the_wrong_shape():
    with pytest.raises(ValueError, match="needs weight"):
        fit_whitening(torch.nn.Conv2d(3, 12, 2), torch.randn(4, 3, 8, 8))


def test_tta_is_the_weighted_mean_of_the_predictions_on_the_moved_copies():
    torch.manual_seed(0)
    model = build_seeded(lambda: CNN(CNN_PRESETS["fast"](in_channels=3, image_size=32, **TINY)), 1).eval()
    x = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        one = lambda v: model(v)
        mirror = lambda v: v.flip(-1)
        # 1-px moves built pixel by pixel: row i of the up-left copy is row i-1 of the image, row -1 reflected to 1
        rows = torch.tensor([1] + list(range(31)))
        up_left = x[:, :, rows][:, :, :, rows]
        rows2 = torch.tensor(list(range(1, 32)) + [30])
        down_right = x[:, :, rows2][:, :, :, rows2]
        assert torch.allclose(tta_logits(model, x, "none"), one(x))
        assert torch.allclose(tta_logits(model, x, "flip"), (one(x) + one(mirror(x))) / 2, atol=1e-5)
        want = (0.5 * (one(x) + one(mirror(x))) / 2 + 0.25 * (one(up_left) + one(mirror(up_left))) / 2
                + 0.25 * (one(down_right) + one(mirror(down_right))) / 2)
        assert torch.allclose(tta_logits(model, x, "flip-translate"), want, atol=1e-5)
        assert not torch.allclose(tta_logits(model, x, "flip-translate"), one(x), atol=1e-3)
    assert sum(w for w, _ in tta_views(x, "flip-translate")) == 1
    with pytest.raises(TTAError, match="unknown test-time augmentation 'rotate'"):
        tta_logits(model, x, "rotate")


def test_alternating_flip_mirrors_each_image_in_exactly_one_of_two_epochs():
    x = torch.arange(4 * 3 * 2 * 5, dtype=torch.float).view(4, 3, 2, 5)
    first = torch.tensor([True, False, True, False])
    idx = torch.arange(4)
    e0, e1 = alternating_flip(x, idx, 0, first), alternating_flip(x, idx, 1, first)
    for i in range(4):
        flipped = [torch.equal(e[i], x[i].flip(-1)) for e in (e0, e1)]
        assert sorted(flipped) == [False, True] and flipped[0] == bool(first[i])
    assert torch.equal(alternating_flip(x, idx, 2, first), e0)


def test_param_groups_speed_up_batch_norm_biases_only_and_leave_frozen_weights_out():
    model = CNN(CNN_PRESETS["fast"](in_channels=3, image_size=32, **TINY))
    rest, biases = param_groups(model, 64, 1e-3)
    assert biases["lr_scale"] == 64 and biases["weight_decay"] == pytest.approx(1e-3 / 64)
    bn_biases = {id(m.bias) for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)}
    assert {id(p) for p in biases["params"]} == bn_biases
    assert id(model.whiten_conv.weight) not in {id(p) for p in rest["params"]}  # frozen: not optimised


def test_lookahead_follows_freely_at_the_start_and_holds_back_late():
    model = torch.nn.Linear(2, 1, bias=False)
    la = Lookahead(model)
    with torch.no_grad():
        model.weight.fill_(1.0)
    la.update(model, 5, progress=0.0)                      # decay 0: the slow copy jumps to the weights
    assert torch.equal(model.weight, torch.ones(1, 2))
    with torch.no_grad():
        model.weight.fill_(2.0)
    la.update(model, 7, progress=1.0)                      # not a 5th step: nothing happens
    assert torch.equal(model.weight, torch.full((1, 2), 2.0))
    la.update(model, 10, progress=1.0)                     # decay 0.95^5: mostly the old weights
    assert torch.allclose(model.weight, torch.full((1, 2), 1 + (1 - 0.95 ** 5)))


@pytest.fixture
def photo_folder(tmp_path):
    """Two classes of 12 small colour photos: reddish and bluish noise."""
    rng = np.random.default_rng(0)
    for name, channel in (("red", 0), ("blue", 2)):
        (tmp_path / name).mkdir()
        for i in range(12):
            img = rng.integers(0, 120, (40, 40, 3), dtype=np.uint8)
            img[..., channel] += 120
            Image.fromarray(img).save(tmp_path / name / f"{i}.png")
    return tmp_path


def test_the_colour_preset_trains_on_a_folder_and_classify_answers_with_its_tta(photo_folder, tmp_path):
    spec = RunSpec("cnn", "fast", f"folder:{photo_folder}", model_overrides=TINY)
    run = prepare_run(spec, device="cpu")
    assert run.train == default_train_config("cnn", "fast", f"folder:{photo_folder}")
    assert run.train.tta == "flip-translate" and run.train.augment_style == "flip-translate"
    assert run.meta["tta"] == "flip-translate" and run.model.config.whiten == 2
    run.train = replace(run.train, epochs=2, batch_size=8)
    metrics = list(islice(run.loop(), 200))
    assert any("val_acc" in m for m in metrics) and all(np.isfinite(m["loss"]) for m in metrics if "loss" in m)
    score = run.evaluate(run.model)
    path = save_checkpoint(tmp_path / "models" / "photos", run.model, {**run.meta, **score})
    again, meta = load_checkpoint(path)
    x = normalize(run.data.val_x, run.data.mean, run.data.std)
    run.model.eval().to(memory_format=torch.contiguous_format)  # trained channels-last; loaded contiguous
    with torch.no_grad():
        assert torch.equal(again(x), run.model(x))                      # the round trip keeps every weight
        clf = load_classifier(str(path))
        assert clf.tta == "flip-translate"
        p = clf.probabilities(x[:1])
        assert torch.allclose(p, torch.softmax(tta_logits(again, x[:1], "flip-translate"), 1)[0])
    # the recorded score is the TTA one: Classify's answers on the held-out photos give the same accuracy
    with torch.no_grad():
        pred = torch.stack([clf.probabilities(x[i:i + 1]).argmax() for i in range(len(x))])
    assert (pred == run.data.val_y).float().mean().item() == pytest.approx(meta["val_acc"])


def test_a_checkpoint_naming_an_unknown_tta_is_refused_in_one_line(tmp_path):
    model = build_seeded(lambda: CNN(CNNConfig(in_channels=3, image_size=32, num_classes=2)), 0)
    meta = {"kind": "cnn", "class_names": ["a", "b"], "image_size": 32, "channels": 3, "mean": [0.5] * 3,
            "std": [0.25] * 3, "tta": "spin"}
    path = save_checkpoint(tmp_path / "odd", model, meta)
    with pytest.raises(CheckpointError, match="unknown test-time augmentation 'spin'"):
        load_classifier(str(path))


def test_grey_images_keep_the_fast_preset_they_had():
    assert default_train_config("cnn", "fast", "digits").augment_style == "warp"
    assert default_train_config("cnn", "fast", "digits").tta == "none"
    assert CNN_PRESETS["fast"](in_channels=1).whiten == 0
    assert default_train_config("cnn", "textbook", "cifar10-5k") == default_train_config("cnn", "textbook")
