import gzip
import socket
import struct

import numpy as np
import pytest
import torch

from imgai.data import DatasetError, load_dataset, normalize, split_validation


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
