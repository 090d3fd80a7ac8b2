"""Tests for imgai.inference.explain without Streamlit: the network walk matches each model's own forward, Grad-CAM and
gradient maps have the input's shape and lie in 0..1, saliency falls on the digit (or the cat) rather than
the empty background, activation maps and filters have the shapes each architecture implies."""
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from imgai.inference import explain
from imgai.inference.classify import load_classifier
from imgai.models import CNN, CNN_PRESETS
from imgai.models.imagenet import PhotoClassifier, PhotoHead, PhotoHeadConfig, load_imagenet_model

PHOTOS = Path(__file__).parent / "photos"


@pytest.fixture(scope="module")
def digit_clf(tmp_path_factory):
    """A digits CNN ('fast' preset) trained for half an epoch (~4 s): about 95% on the validation digits."""
    from imgai.models.checkpoint import save_checkpoint
    from imgai.training.runs import RunSpec, default_train_config, prepare_run
    cfg = replace(default_train_config("cnn", "fast"), epochs=0.5)
    run = prepare_run(RunSpec(model="cnn", preset="fast", dataset="digits", train=cfg), device="cpu")
    for _ in run.loop():
        pass
    path = save_checkpoint(tmp_path_factory.mktemp("ckpt") / "digits", run.model, {**run.meta, "metrics": {}})
    return load_classifier(str(path))


@pytest.fixture(scope="module")
def imagenet():
    return load_classifier("imagenet")


def digit_picture(pixels: np.ndarray) -> Image.Image:
    return Image.fromarray(pixels).convert("RGB")


# ----------------------------------------------------------------------------------------------- the walk

@pytest.mark.parametrize("preset,shapes", [
    ("fast", [(32, 28, 28), (64, 14, 14), (128, 7, 7)]),     # 'same' convs, pooled twice
    ("textbook", [(32, 26, 26), (64, 11, 11), (64, 3, 3)]),  # the Keras tutorial's 'valid' convs
])
def test_walk_matches_cnn_forward_and_shapes(preset, shapes):
    torch.manual_seed(0)
    model = CNN(CNN_PRESETS[preset](in_channels=1, image_size=28, num_classes=10)).eval()
    x = torch.randn(1, 1, 28, 28)
    acts, logits = explain.walk(model, x)
    assert torch.allclose(logits, model(x), atol=1e-6)
    assert [tuple(a.shape[1:]) for _, a in acts] == shapes
    layers = explain.activation_maps(model, x)
    assert [m.maps.shape for m in layers] == shapes
    assert layers[0].describe == f"conv 1 · {shapes[0][0]} maps of {shapes[0][1]}×{shapes[0][2]}"
    assert all((m.maps >= 0).all() and not m.signed for m in layers)  # each conv layer ends in a ReLU


def test_walk_matches_imagenet_and_photo_classifier(imagenet):
    x = imagenet.prepare(Image.open(PHOTOS / "chelsea.jpg").convert("RGB"))
    acts, logits = explain.walk(imagenet.model, x)
    with torch.no_grad():
        assert torch.allclose(logits, imagenet.model(x), atol=1e-4)
    widths = [a.shape[1] for _, a in acts]
    assert widths == [32, 16, 24, 40, 80, 112, 192, 320, 1280]  # stem, 7 MBConv stages, head conv
    assert acts[-1][1].shape[-2:] == (7, 7)
    signed = [m.signed for m in explain.activation_maps(imagenet.model, x)]
    assert signed == [False] + [True] * 7 + [False]  # MBConv stages end in a linear projection, no ReLU

    torch.manual_seed(0)
    head = PhotoHead(PhotoHeadConfig(num_classes=3)).eval()
    photo = PhotoClassifier(load_imagenet_model(), head).eval()
    acts2, logits2 = explain.walk(photo, x)
    with torch.no_grad():
        assert torch.allclose(logits2, photo(x), atol=1e-4)
    assert len(acts2) == len(acts)


def test_unsupported_model_and_method_are_refused(digit_clf):
    with pytest.raises(TypeError, match="cannot look inside"):
        explain.walk(torch.nn.Linear(3, 2), torch.zeros(1, 3))
    with pytest.raises(ValueError, match="unknown saliency method"):
        explain.saliency(digit_clf.model, torch.zeros(1, 1, 28, 28), method="magic")


# ---------------------------------------------------------------------------------------------- saliency

@pytest.mark.parametrize("method", explain.METHODS)
def test_saliency_shape_and_range(digit_clf, imagenet, method):
    x = digit_clf.prepare(digit_picture(np.pad(np.full((20, 20), 255, np.uint8), 4)))
    heat = explain.saliency(digit_clf.model, x, method)
    assert heat.shape == (28, 28) and heat.dtype == np.float32
    assert heat.min() >= 0 and heat.max() == pytest.approx(1.0)

    x = imagenet.prepare(Image.open(PHOTOS / "coffee.jpg").convert("RGB"))
    heat = explain.saliency(imagenet.model, x, method)
    assert heat.shape == (224, 224) and 0 <= heat.min() and heat.max() <= 1


def test_saliency_leaves_frozen_and_trained_weights_untouched(digit_clf, imagenet):
    x = digit_clf.prepare(digit_picture(np.pad(np.full((20, 20), 255, np.uint8), 4)))
    explain.grad_cam(digit_clf.model, x)
    explain.input_gradients(digit_clf.model, x)
    assert all(p.grad is None for p in digit_clf.model.parameters())
    assert not any(p.requires_grad for p in imagenet.model.parameters())  # still frozen
    assert not digit_clf.model.training


@pytest.mark.parametrize("method", explain.METHODS)
def test_saliency_highlights_the_digit_not_the_border(digit_clf, digits, method):
    inside, outside = [], []
    for pixels in digits.val_x[:12, 0].numpy():
        x = digit_clf.prepare(digit_picture(pixels))
        heat = explain.saliency(digit_clf.model, x, method)
        ink = digit_clf.preview(x) > 60                  # the digit's strokes in the model's own input
        ys, xs = np.nonzero(ink)
        box = np.zeros_like(ink)
        box[ys.min():ys.max() + 1, xs.min():xs.max() + 1] = True
        inside.append(heat[box].mean())
        outside.append(heat[~box].mean())                # the empty margin MNIST leaves around a digit
    # Grad-CAM works on the last 7×7 maps, so upsampling blurs it into the 4-pixel margin: a smaller margin
    # of victory than pixel gradients, which are exactly zero far from the strokes' receptive fields.
    factor = 1.5 if method == "grad-cam" else 2.0
    assert np.mean(inside) > factor * np.mean(outside), (np.mean(inside), np.mean(outside))


def test_grad_cam_finds_the_cat_not_the_grey_half(imagenet):
    cat = Image.open(PHOTOS / "chelsea.jpg").convert("RGB").resize((224, 224))
    canvas = Image.new("RGB", (448, 224), (128, 128, 128))
    canvas.paste(cat, (224, 0))                          # cat on the right, flat grey on the left
    x = imagenet.prepare(canvas)  # shorter side 224, centre crop: the inner halves of both sides stay
    heat = explain.grad_cam(imagenet.model, x)
    assert heat[:, 112:].mean() > 3 * heat[:, :112].mean()


# ----------------------------------------------------------------------------------- maps, filters, overlay

def test_filters_pictures(digit_clf, imagenet):
    f = explain.filters_to_uint8(digit_clf.model)
    assert f.shape == (32, 3, 3) and f.dtype == np.uint8
    w = explain.first_conv(digit_clf.model).weight.detach()
    assert f.min() == 0 or f.max() == 255                # the largest |weight| reaches black or white
    assert np.sign(f.astype(int) - 127.5).flatten().tolist() == np.sign(w.flatten().numpy()).tolist()
    assert explain.filters_to_uint8(imagenet.model).shape == (32, 3, 3, 3)


def test_maps_to_uint8_and_strongest():
    maps = np.zeros((4, 5, 5), np.float32)
    maps[2] = 3.0
    maps[1, 0, 0] = 1.0
    assert explain.strongest(maps, 2).tolist() == [2, 1]
    u8 = explain.maps_to_uint8(maps)
    assert u8.dtype == np.uint8 and u8[2].min() == 255 and u8[0].max() == 0   # silent map stays black
    assert explain.maps_to_uint8(np.zeros((2, 3, 3))).max() == 0


def test_overlay_and_colormap():
    img = np.zeros((28, 28), np.uint8)
    heat = np.zeros((7, 7), np.float32)
    heat[3, 3] = 1.0
    out = explain.overlay(img, heat, size=168)
    assert out.shape == (168, 168, 3) and out.dtype == np.uint8
    assert out[84, 84, 0] > out[5, 5, 0]                 # hot centre is red, cold corner is not
    cm = explain.colormap(np.array([[0.0, 1.0]]))
    assert cm[0, 1, 0] > cm[0, 1, 2] and cm[0, 0, 2] > cm[0, 0, 0]


def test_explain_image_predicts_exactly_like_the_classifier(digit_clf, imagenet, digits):
    img = digit_picture(digits.val_x[0, 0].numpy())
    out = explain.explain_image(digit_clf, img)
    assert out["prediction"] == digit_clf.predict(img)
    assert out["input"].shape == (28, 28) and out["heat"].shape == (28, 28)
    photo = Image.open(PHOTOS / "chelsea.jpg").convert("RGB")
    assert explain.explain_image(imagenet, photo, "gradients")["prediction"] == imagenet.predict(photo)
