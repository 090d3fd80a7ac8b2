"""Tests for imgai.models.imagenet: the ImageNet model on real photos, features, teach-your-own, head save/load."""
import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw
from safetensors.torch import load_file, save_file

from imgai.data.intake import open_image
from imgai.models.imagenet import (
    IMAGENET_CLASSES,
    NUM_FEATURES,
    PhotoClassifier,
    PhotoHead,
    PhotoHeadConfig,
    imagenet_input,
    imagenet_preview,
    load_imagenet_model,
    photo_features,
    photo_head_meta,
    split_holdout,
    train_photo_head,
)

PHOTOS = Path(__file__).parent / "photos"
CAT_CLASSES = {"tabby", "tiger cat", "Egyptian cat", "Persian cat", "Siamese cat"}
COFFEE_CLASSES = {"espresso", "cup", "coffee mug"}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    # On the shared 2-core machine one intra-op thread is 4-8x faster than two (no spinning on a busy core).
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def model():
    return load_imagenet_model()  # lru_cached: loaded once for the whole file


def disc_photo(rng: np.random.Generator) -> Image.Image:
    """A red disc of random size and place on a noisy grey background."""
    w, h = int(rng.integers(160, 260)), int(rng.integers(160, 260))
    bg = np.clip(rng.normal(128, 40, (h, w, 3)), 0, 255).astype(np.uint8)
    img = Image.fromarray(bg)
    r = int(rng.integers(20, min(w, h) // 2 - 5))
    cx, cy = int(rng.integers(r, w - r)), int(rng.integers(r, h - r))
    ImageDraw.Draw(img).ellipse([cx - r, cy - r, cx + r, cy + r], fill=(int(rng.integers(180, 256)), 20, 20))
    return img


def stripes_photo(rng: np.random.Generator) -> Image.Image:
    """Blue and green stripes of random width and direction, with noise."""
    w, h = int(rng.integers(160, 260)), int(rng.integers(160, 260))
    period = int(rng.integers(10, 40))
    yy, xx = np.mgrid[:h, :w]
    along = xx if rng.random() < 0.5 else yy
    band = (along // (period // 2)) % 2 == 0
    a = np.where(band[..., None], [20, 60, 200], [30, 180, 60]).astype(np.float64)
    a += rng.normal(0, 25, a.shape)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def test_imagenet_classes():
    assert len(IMAGENET_CLASSES) == 1000
    assert IMAGENET_CLASSES[281] == "tabby"


@pytest.mark.parametrize("name, right", [("chelsea.jpg", CAT_CLASSES), ("coffee.jpg", COFFEE_CLASSES)])
def test_imagenet_model_names_real_photo(model, name, right):
    x = imagenet_input(Image.open(PHOTOS / name))
    with torch.no_grad():
        top5 = model(x)[0].topk(5).indices.tolist()
    names = [IMAGENET_CLASSES[i] for i in top5]
    assert right & set(names), names
    assert names[0] in right, names  # both photos come out right at top-1 too (see the evidence in photo.py)


def test_imagenet_input_shape_and_preview_inverse():
    img = Image.new("RGB", (300, 200), (10, 127, 250))
    x = imagenet_input(img)
    assert x.shape == (1, 3, 224, 224) and x.dtype == torch.float32
    assert x.min() >= -1 and x.max() <= 1
    back = imagenet_preview(x)
    assert back.shape == (224, 224, 3) and back.dtype == np.uint8
    assert (back == np.array([10, 127, 250], dtype=np.uint8)).all()
    assert imagenet_input(Image.new("L", (50, 80))).shape == (1, 3, 224, 224)  # grey and tiny photos work


def test_photo_features_shape_and_batching(model):
    rng = np.random.default_rng(0)
    imgs = [disc_photo(rng) for _ in range(3)]
    f = photo_features(model, imgs, batch_size=2)
    assert f.shape == (3, NUM_FEATURES) and not f.requires_grad
    # The pooled features are exactly what the ImageNet classifier layer sees.
    with torch.no_grad():
        logits = model(torch.cat([imagenet_input(im) for im in imgs]))
    torch.testing.assert_close(model._fc(f), logits, atol=1e-4, rtol=1e-4)
    assert photo_features(model, []).shape == (0, NUM_FEATURES)


def test_split_holdout_is_stratified():
    labels = torch.tensor([0] * 10 + [1] * 2 + [2] * 1)
    tr, va = split_holdout(labels, 3, holdout=0.2, seed=0)
    assert sorted(tr.tolist() + va.tolist()) == list(range(13))
    assert torch.bincount(labels[va], minlength=3).tolist() == [2, 1, 0]  # >=1 per class with >=2 photos
    assert len(split_holdout(labels, 3, holdout=0.0, seed=0)[1]) == 0


def test_teach_your_own_separates_generated_photos(model):
    rng = np.random.default_rng(0)
    imgs = [disc_photo(rng) for _ in range(10)] + [stripes_photo(rng) for _ in range(10)]
    labels = torch.tensor([0] * 10 + [1] * 10)
    feats = photo_features(model, imgs)
    head, report = train_photo_head(feats, labels, ["red disc", "stripes"], holdout=0.3, seed=0)
    assert report["n_train"] == 14 and report["n_val"] == 6
    assert report["val_acc"] == 1.0
    assert report["per_class_acc"] == {"red disc": 1.0, "stripes": 1.0}

    # Fresh photos through the full classifier (backbone + head), which also gives input gradients.
    clf = PhotoClassifier(model, head).eval()
    new = [disc_photo(rng) for _ in range(3)] + [stripes_photo(rng) for _ in range(3)]
    x = torch.cat([imagenet_input(im) for im in new]).requires_grad_(True)
    logits = clf(x)
    assert logits.argmax(1).tolist() == [0, 0, 0, 1, 1, 1]
    logits[:, 0].sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert clf.feature_maps(x[:1]).shape == (1, NUM_FEATURES, 7, 7)


def test_train_photo_head_refuses_bad_input():
    f = torch.randn(4, 8)
    with pytest.raises(ValueError, match="two classes"):
        train_photo_head(f, [0, 0, 0, 0], ["only"])
    with pytest.raises(ValueError, match="no photos for class b"):
        train_photo_head(f, [0, 0, 0, 0], ["a", "b"])
    with pytest.raises(ValueError, match="labels"):
        train_photo_head(f, [0, 1, 2, 0], ["a", "b"])


def test_train_without_holdout_reports_none():
    f = torch.cat([torch.randn(3, 8) + 3, torch.randn(3, 8) - 3])
    head, report = train_photo_head(f, [0, 0, 0, 1, 1, 1], ["a", "b"], holdout=0)
    assert report["val_acc"] is None and report["n_val"] == 0 and report["per_class_acc"]["a"] is None
    assert head(f).argmax(1).tolist() == [0, 0, 0, 1, 1, 1]


def test_photo_head_save_load_round_trip(tmp_path):
    f = torch.cat([torch.randn(6, 32) + 1, torch.randn(6, 32) - 1])
    head, report = train_photo_head(f, [0] * 6 + [1] * 6, ["a", "b"], seed=1, epochs=20)
    meta = photo_head_meta(head, ["a", "b"], report)
    assert meta["kind"] == "photo-head" and meta["intake"] == "photo" and meta["dataset"] == "photos"
    assert meta["image_size"] == 224 and meta["channels"] == 3 and meta["class_names"] == ["a", "b"]
    assert meta["metrics"]["val_acc"] == report["val_acc"]

    save_file(head.state_dict(), tmp_path / "head.safetensors")
    rebuilt = PhotoHead(PhotoHeadConfig(**meta["config"]))
    rebuilt.load_state_dict(load_file(tmp_path / "head.safetensors"), strict=True)
    rebuilt.eval()
    with torch.no_grad():
        assert torch.equal(rebuilt(f), head(f))  # standardisation travels with the head


def test_a_big_photo_is_read_shrunk_and_still_named(model):
    # open_image decodes a 13.5-megapixel JPEG at half scale; the ImageNet model still names the cat.
    big = Image.open(PHOTOS / "chelsea.jpg").convert("RGB").resize((4510, 3000), Image.Resampling.BICUBIC)
    buf = io.BytesIO()
    big.save(buf, "JPEG", quality=90)
    img = open_image(buf.getvalue())
    assert img.size == (2255, 1500)
    with torch.no_grad():
        top = model(imagenet_input(img))[0].argmax().item()
    assert IMAGENET_CLASSES[top] in CAT_CLASSES, IMAGENET_CLASSES[top]


def test_report_counts_each_held_back_photo_once_in_its_true_row():
    # a known case: class a at +e0, class b at +e1, and one of a's held-back photos placed right on b, so the
    # head (trained on the others) must call it b: one a→b, every other held-back photo on the diagonal
    labels = [0] * 6 + [1] * 4 + [2] * 5
    f = torch.zeros(len(labels), 3)
    for i, c in enumerate(labels):
        f[i, c] = 5.0
    _, val = split_holdout(torch.tensor(labels), 3, 0.4, 0)
    odd = next(i for i in val.tolist() if labels[i] == 0)
    f[odd] = torch.tensor([0.0, 5.0, 0.0])
    _, report = train_photo_head(f, labels, ["a", "b", "c"], holdout=0.4, seed=0)

    n_val = [sum(labels[i] == c for i in val.tolist()) for c in range(3)]  # 2 of a, 2 of b, 2 of c
    assert report["confusion"] == [[n_val[0] - 1, 1, 0], [0, n_val[1], 0], [0, 0, n_val[2]]]
    assert report["per_class_acc"] == {"a": (n_val[0] - 1) / n_val[0], "b": 1.0, "c": 1.0}
    assert report["n_val"] == sum(n_val) and report["val_acc"] == pytest.approx((sum(n_val) - 1) / sum(n_val))


def test_report_without_holdout_has_no_confusion_matrix():
    f = torch.cat([torch.randn(3, 8) + 3, torch.randn(3, 8) - 3])
    _, report = train_photo_head(f, [0, 0, 0, 1, 1, 1], ["a", "b"], holdout=0)
    assert report["confusion"] is None
