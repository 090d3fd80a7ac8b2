"""scripts/make_cifar.py reads truncated CIFAR-10 python batches without unpickling them."""
import importlib.util
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest

ROW = 3072
SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "make_cifar.py"


@pytest.fixture(scope="module")
def make_cifar():
    spec = importlib.util.spec_from_file_location("make_cifar", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def no_unpickling(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("a downloaded batch must never be unpickled")
    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)


def python2_batch(labels, images) -> bytes:
    """The byte layout of CIFAR-10's data_batch_N as Python 2's cPickle (protocol 2) wrote it."""
    out = bytearray(b"\x80\x02}q\x01(U\x0bbatch_labelq\x02U\x15training batch 1 of 5q\x03U\x06labelsq\x04]q\x05")
    for i in range(0, len(labels), 1000):  # protocol 2 appends in runs of 1,000
        out += b"(" + b"".join(b"K" + bytes([v]) for v in labels[i:i + 1000]) + b"e"
    out += (b"U\x04dataq\x06cnumpy.core.multiarray\n_reconstruct\nq\x07cnumpy\nndarray\nq\x08K\x00\x85U\x01b\x87Rq\t"
            b"(K\x01M" + struct.pack("<H", len(labels)) + b"M\x00\x0c\x86cnumpy\ndtype\nq\nU\x02u1K\x00K\x01\x87Rq\x0b"
            b"(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89T" + struct.pack("<i", len(labels) * ROW))
    out += images.tobytes()
    out += b"tbU\tfilenamesq\x0c]q\r(U\x05a.pngq\x0eeu."  # what the truncation cut off
    return bytes(out)


def test_a_truncated_batch_gives_all_labels_and_the_whole_images_only(make_cifar, no_unpickling):
    rng = np.random.default_rng(0)
    labels = (np.arange(2500) * 7) % 10
    images = rng.integers(0, 256, (2500, ROW), dtype=np.uint8)
    raw = python2_batch(labels.tolist(), images)
    start = raw.index(images[:1].tobytes())
    cut = raw[:start + 12 * ROW + 1000]  # 12 whole images and part of the 13th
    got_labels, got_images = make_cifar.read_batch(cut)
    assert got_labels.tolist() == labels.tolist()
    assert got_images.shape == (12, 3, 32, 32) and got_images.dtype == np.uint8
    assert np.array_equal(got_images.reshape(12, ROW), images[:12])
    # planes are red, green, blue: the first 1,024 bytes of a row are the red channel, row-major
    assert got_images[3, 0, 1, 0] == images[3, 32] and got_images[3, 2, 0, 5] == images[3, 2048 + 5]
    whole_labels, whole = make_cifar.read_batch(raw)  # an untruncated batch reads too
    assert len(whole) == 2500 and np.array_equal(whole.reshape(2500, ROW), images)


def test_other_files_are_refused_with_one_line(make_cifar, no_unpickling):
    labels = [1, 2, 3]
    raw = python2_batch(labels, np.zeros((3, ROW), np.uint8))
    bad = [
        (b"\x80\x03" + raw[2:], "protocol-2"),
        (raw.replace(b"numpy.core.multiarray\n_reconstruct", b"os\nsystem"), "not a numpy array"),
        (raw.replace(b"K\x02", b"G\x02", 1), "unexpected pickle opcode"),  # an opcode outside the layout
        (raw.replace(b"U\x06labels", b"U\x06lab3ls"), "labels"),
        (raw.replace(b"K\x02", b"K\x0c", 1), "0..9"),
        (raw.replace(b"U\x02u1", b"U\x02f8"), "uint8"),
        (raw[:40], "labels"),
    ]
    for data, words in bad:
        with pytest.raises(make_cifar.LayoutError, match=words) as e:
            make_cifar.read_batch(data)
        assert "\n" not in str(e.value)


def test_build_holds_out_fifty_per_class_the_same_way_each_time(make_cifar, tmp_path, no_unpickling):
    rng = np.random.default_rng(1)
    batches = []
    for b in range(2):
        labels = rng.permutation(np.arange(1000) % 10)
        images = rng.integers(0, 256, (1000, ROW), dtype=np.uint8)
        raw = python2_batch(labels.tolist(), images)
        batches.append(raw[:raw.index(images[:1].tobytes()) + 600 * ROW + 5])  # 600 whole images each
    out = tmp_path / "c.npz"
    make_cifar.main([_write(tmp_path / f"b{i}", r) for i, r in enumerate(batches)], out)
    with np.load(out, allow_pickle=False) as f:
        a = {k: f[k] for k in f.files}
    assert a["train_x"].shape == (700, 3, 32, 32) and a["val_x"].shape == (500, 3, 32, 32)
    assert np.bincount(a["val_y"]).tolist() == [50] * 10
    again = make_cifar.build(batches)
    assert all(np.array_equal(again[k], a[k]) for k in a)


def _write(path, raw):
    path.write_bytes(raw)
    return str(path)


def test_crop_flip_moves_real_pixels_the_same_way_for_a_seed():
    import torch

    from imgai.training.augment import crop_flip_batch
    x = torch.rand(16, 3, 32, 32)
    a = crop_flip_batch(x, torch.Generator().manual_seed(3))
    b = crop_flip_batch(x, torch.Generator().manual_seed(3))
    c = crop_flip_batch(x, torch.Generator().manual_seed(4))
    assert a.shape == x.shape and torch.equal(a, b) and not torch.equal(a, c)
    # every output pixel is one of the image's own (reflect padding invents no values) ...
    for i in range(16):
        assert set(a[i].flatten().tolist()) <= set(x[i].flatten().tolist())
    # ... and a crop keeps rows whole: each output row is a (possibly mirrored) window of an input row
    row = a[0, 0, 10]
    padded = torch.nn.functional.pad(x[:1], (4, 4, 4, 4), mode="reflect")[0, 0]
    windows = [padded[r, s:s + 32] for r in range(40) for s in range(9)]
    assert any(torch.equal(row, w) or torch.equal(row, w.flip(0)) for w in windows)
    # half of a large batch is mirrored: an image full of one left-to-right ramp shows which
    ramp = torch.linspace(0, 1, 32).expand(256, 3, 32, 32)
    out = crop_flip_batch(ramp, torch.Generator().manual_seed(0))
    rising = (out[:, 0, 0, -1] > out[:, 0, 0, 0]).float().mean().item()
    assert 0.35 < rising < 0.65
    out = crop_flip_batch(ramp, torch.Generator().manual_seed(0), flip=False)
    assert (out[:, 0, 0, -1] > out[:, 0, 0, 0]).all()


def test_digits_are_never_mirrored():
    import torch

    from imgai.training.augment import augment
    x = torch.zeros(64, 1, 32, 32)
    x[:, :, 8:24, 4:8] = 1  # a bar near the left edge
    y = augment(x, torch.Generator().manual_seed(0), "crop", "digit")
    assert (y[..., :16].sum() > y[..., 16:].sum())  # shifted by at most 4 px: still on the left
    flipped = augment(x, torch.Generator().manual_seed(0), "crop", "fit")
    assert (flipped[..., 16:].sum(dim=(1, 2, 3)) > flipped[..., :16].sum(dim=(1, 2, 3))).any()
    with pytest.raises(ValueError, match="warp, crop or flip-translate"):
        augment(x, torch.Generator(), "mixup", "fit")


def test_the_fast_preset_on_cifar10_5k_moves_mirrors_and_smooths_labels():
    from dataclasses import replace
    from itertools import islice

    from imgai.training.runs import RunSpec, default_train_config, prepare_run
    cfg = default_train_config("cnn", "fast", "cifar10-5k")
    assert cfg.augment and cfg.augment_style == "flip-translate" and cfg.label_smoothing > 0
    assert default_train_config("cnn", "fast", "digits").augment_style == "warp"
    assert default_train_config("cnn", "textbook", "cifar10-5k") == default_train_config("cnn", "textbook")
    run = prepare_run(RunSpec("cnn", "fast", dataset="cifar10-5k"), device="cpu")
    assert run.train == cfg and run.meta["intake"] == "fit" and run.meta["class_names"][3] == "cat"
    d = run.data
    small = replace(d, train_x=d.train_x[:128], train_y=d.train_y[:128], val_x=d.val_x[:20], val_y=d.val_y[:20])

    def first_loss(smoothing):
        c = replace(cfg, epochs=1, label_smoothing=smoothing)
        spec = RunSpec("cnn", "fast", dataset="cifar10-5k", train=c)
        return next(m for m in islice(prepare_run(spec, data=small, device="cpu").loop(), 3) if "loss" in m)["loss"]
    # same seed, same weights, same batch: only the loss's targets differ
    assert first_loss(0.1) != first_loss(0.0) and np.isfinite(first_loss(0.1))


def test_the_shipped_cifar10_cnn_reads_colour_photos():
    from PIL import Image

    from imgai.models.checkpoint import WEIGHTS_DIR, list_checkpoints
    from imgai.inference.classify import load_classifier
    from imgai.data.datasets import CIFAR_CLASSES
    clf = load_classifier(str(WEIGHTS_DIR / "cifar10-cnn"))
    assert clf.class_names == CIFAR_CLASSES and clf.meta["dataset"] == "cifar10-5k"
    photo = Image.open(Path(__file__).parent / "photos" / "chelsea.jpg")
    x = clf.prepare(photo)
    assert x.shape == (1, 3, 32, 32) and clf.preview(x).shape == (32, 32, 3)
    out = clf.predict(photo, top=3)
    assert out["label"] in CIFAR_CLASSES and len(out["top"]) == 3 and sum(p for _, p in out["top"]) <= 1.0001
    # pickers open on the digits models; the shipped CIFAR ones follow
    shipped = [m for m in list_checkpoints() if m["shipped"]]
    assert shipped[0]["dataset"] == "digits" and "cifar10-cnn" in [m["name"] for m in shipped]


def test_the_classify_page_points_cifar_models_to_imagenet_for_anything_else():
    from imgai.models.checkpoint import WEIGHTS_DIR
    from imgai.inference.classify import load_classifier
    from ui.classify.results import describe_model
    text = describe_model(load_classifier(str(WEIGHTS_DIR / "cifar10-cnn")))
    assert "cifar10\\-5k" in text and "colour" in text and "**imagenet**" in text  # markdown-escaped name


def test_the_shipped_cifar10_dcgan_draws_colour_pictures_the_cifar_cnn_can_read():
    from imgai.inference import latent
    from imgai.models.checkpoint import WEIGHTS_DIR, load_checkpoint
    from imgai.inference.classify import load_classifier
    from imgai.models.sampling import sample_images
    gan, meta = load_checkpoint(WEIGHTS_DIR / "cifar10-dcgan")
    clf = load_classifier(str(WEIGHTS_DIR / "cifar10-cnn"))
    assert meta["dataset"] == "cifar10-5k" and latent.fits(meta, clf.meta)
    z = latent.seed_latents(1, 4, gan.config.nz)
    images = sample_images(gan.generator, z)
    assert images.shape == (4, 32, 32, 3) and images.std() > 10  # not a flat colour
    p = latent.class_probabilities(gan.generator, clf, z)
    assert p.shape == (4, 10)


def test_the_train_page_offers_cifar10_5k_with_its_own_preset():
    from streamlit.testing.v1 import AppTest

    from imgai.training.runs import default_train_config
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app_pages" / "train.py"),
                           default_timeout=60).run()
    assert "cifar10-5k (colour photos, bundled)" in at.selectbox(key="train_dataset").options  # labels shown
    at.selectbox(key="train_dataset").set_value("cifar10-5k").run()
    assert not at.exception and not at.error
    assert any("4,160 training + 500 validation images · 32×32 colour · 10 classes" in c.value for c in at.caption)
    cfg = default_train_config("cnn", "fast", "cifar10-5k")  # the colour settings, as for any colour photos
    assert at.number_input(key="knob_epochs_cnn_fast_colour").value == cfg.epochs
    assert at.select_slider(key="knob_batch_cnn_fast_colour").value == cfg.batch_size
    assert at.select_slider(key="knob_wd_cnn_fast_colour").value == cfg.weight_decay
    assert at.slider(key="knob_drop_cnn_fast_colour").value == 0.0  # the whitened network has no dropout
