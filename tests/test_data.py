import gzip
import socket
import struct

import numpy as np
import pytest
import torch

from imgai.data.datasets import DatasetError, load_dataset, normalize, split_validation


def test_digits_is_bundled_with_a_fixed_split(digits):
    assert digits.train_x.shape == (4500, 1, 28, 28) and digits.train_x.dtype == torch.uint8
    assert digits.val_x.shape == (500, 1, 28, 28)
    assert torch.bincount(digits.val_y).tolist() == [50] * 10
    assert digits.class_names == [str(i) for i in range(10)] and digits.intake == "digit"
    again = load_dataset("digits")
    assert torch.equal(again.val_x, digits.val_x)  # the same validation digits every time
    x = normalize(digits.train_x[:500], digits.mean, digits.std)
    assert abs(x.mean().item()) < 0.2 and 0.8 < x.std().item() < 1.2  # MNIST statistics fit these digits


def _no_network(monkeypatch):
    def refuse(*a, **k):
        raise OSError("network is unreachable")
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist", "cifar10"])
def test_download_offline_fails_with_one_clear_line(name, monkeypatch):
    _no_network(monkeypatch)
    with pytest.raises(DatasetError) as e:
        load_dataset(name)
    msg = str(e.value)
    assert "\n" not in msg and name in msg and "digits" in msg and "folder:" in msg


def _idx(path, array):
    """Write an MNIST idx file (big-endian header, then uint8 data), gzipped like the originals."""
    dims = array.shape
    header = struct.pack(">HBB", 0, 0x08, len(dims)) + struct.pack(f">{len(dims)}I", *dims)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_mnist_loads_from_a_prepared_data_folder(tmp_path, monkeypatch):
    """The torchvision path, on small files in MNIST's own format placed where a download would put them."""
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 30), ("t10k", 10)):
        _idx(raw / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
        _idx(raw / f"{prefix}-labels-idx1-ubyte.gz", np.arange(n) % 10)
        for kind in ("images-idx3", "labels-idx1"):  # torchvision reads the unpacked files
            src = raw / f"{prefix}-{kind}-ubyte.gz"
            (raw / src.stem).write_bytes(gzip.decompress(src.read_bytes()))
    monkeypatch.setenv("IMGAI_DATA", str(tmp_path))
    _no_network(monkeypatch)  # present files must not need the network
    data = load_dataset("mnist")
    assert data.train_x.shape == (30, 1, 28, 28) and data.val_x.shape == (10, 1, 28, 28)
    assert data.train_y.tolist()[:12] == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]


def test_unknown_dataset_names_the_choices():
    with pytest.raises(DatasetError, match="digits"):
        load_dataset("imagenet-21k")


def test_split_validation_keeps_every_class_in_training():
    y = np.array([0] * 10 + [1] * 2 + [2])
    val = split_validation(y, share=0.2)
    assert val[:10].sum() == 2 and val[10:12].sum() == 1 and not val[12]


def test_a_zip_of_class_folders_is_a_data_set(tmp_path):
    """folder:PATH takes a .zip of one sub-folder per class: images resized, split, normalised, junk counted."""
    import io
    import zipfile

    from PIL import Image
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, colour in (("red", (220, 30, 30)), ("blue", (30, 30, 220))):
            for i in range(6):
                img = np.clip(np.array(colour) + rng.normal(0, 20, (40, 50, 3)), 0, 255).astype(np.uint8)
                png = io.BytesIO()
                Image.fromarray(img).save(png, "PNG")
                z.writestr(f"shapes/{name}/{i}.png", png.getvalue())
        z.writestr("shapes/red/notes.txt", "not an image")
    path = tmp_path / "shapes.zip"
    path.write_bytes(buf.getvalue())
    data = load_dataset(f"folder:{path}")
    assert data.class_names == ["blue", "red"] and data.skipped == 1
    assert data.train_x.shape[1:] == (3, 32, 32) and len(data.train_y) + len(data.val_y) == 12
    assert sorted(set(data.val_y.tolist())) == [0, 1]  # every class is scored
    x = normalize(data.train_x, data.mean, data.std)
    assert abs(x.mean().item()) < 0.1


def test_a_folder_with_one_class_is_refused_in_one_line(tmp_path):
    from PIL import Image
    (tmp_path / "only").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "only" / "a.png")
    with pytest.raises(DatasetError) as e:
        load_dataset(f"folder:{tmp_path}")
    assert "\n" not in str(e.value) and "two" in str(e.value).lower()


def test_cifar10_5k_is_bundled_balanced_and_split_the_same_way_each_time(monkeypatch):
    import pickle

    def refuse(*a, **k):
        raise AssertionError("the bundled data set must load without unpickling")
    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)
    data = load_dataset("cifar10-5k")
    assert data.train_x.shape == (4160, 3, 32, 32) and data.train_x.dtype == torch.uint8
    assert data.val_x.shape == (500, 3, 32, 32) and data.val_y.dtype == torch.int64
    assert data.class_names[:2] == ["airplane", "automobile"] and len(data.class_names) == 10
    assert data.intake == "fit" and data.channels == 3 and data.size == 32
    for y in (data.train_y, data.val_y):
        assert 0 <= y.min() and y.max() < 10
    assert torch.bincount(data.val_y).tolist() == [50] * 10
    counts = torch.bincount(data.train_y, minlength=10)
    assert counts.min() > 0.8 * counts.float().mean()  # the first images of CIFAR's batches are near-balanced
    again = load_dataset("cifar10-5k")
    assert torch.equal(again.val_x, data.val_x) and torch.equal(again.train_y, data.train_y)
    # the validation images are not training images
    train_rows = {bytes(r) for r in data.train_x.flatten(1).numpy()}
    assert not any(bytes(r) in train_rows for r in data.val_x.flatten(1).numpy())
    x = normalize(data.train_x[:1000], data.mean, data.std)
    assert abs(x.mean().item()) < 0.2 and 0.8 < x.std().item() < 1.2  # CIFAR-10's statistics fit this share
