"""Data set registry: every data set is held in memory as uint8 tensors with a fixed validation split.

    data = load_dataset("digits")   # or "cifar10-5k", "mnist", "fashion-mnist", "cifar10", "folder:PATH"

"digits" and "cifar10-5k" ship in imgai/assets; the others are downloaded once; a folder may be a .zip.

Keeping whole data sets as one uint8 tensor (as airbench does) makes batches a single index operation:
no DataLoader workers, no per-image Python, which matters on a 2-core machine.
"""
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

DIGITS_FILE = Path(__file__).resolve().parents[1] / "assets" / "digits.npz"
CIFAR_5K_FILE = Path(__file__).resolve().parents[1] / "assets" / "cifar10-5k.npz"  # made by scripts/make_cifar.py
MNIST_NORM = ((0.1307,), (0.3081,))  # mean/std of MNIST's training pixels on the 0..1 scale
# mean/std per channel of CIFAR-10's 50,000 training pixels on the 0..1 scale (the usual published values)
CIFAR_NORM = ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))
CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


class DatasetError(RuntimeError):
    """A data set that cannot be loaded; str(e) is one line for the user."""


@dataclass
class ImageData:
    name: str
    train_x: torch.Tensor    # uint8 (N, C, H, W)
    train_y: torch.Tensor    # int64 (N,)
    val_x: torch.Tensor
    val_y: torch.Tensor
    class_names: list
    mean: tuple              # per channel, 0..1 scale: the classifier sees (x/255 - mean) / std
    std: tuple
    intake: str = "fit"      # "digit": photos go through the MNIST recipe (digit_photo.digit_from_photo)
    skipped: int = 0         # files in a folder/zip that were not usable images

    @property
    def channels(self) -> int:
        return self.train_x.shape[1]

    @property
    def size(self) -> int:
        return self.train_x.shape[2]

    def describe(self) -> dict:
        counts = torch.bincount(self.train_y, minlength=len(self.class_names)).tolist()
        return {"name": self.name, "train": len(self.train_y), "val": len(self.val_y), "size": self.size,
                "channels": self.channels, "classes": len(self.class_names),
                "class_counts": dict(zip(self.class_names, counts)), "skipped": self.skipped}


def normalize(x: torch.Tensor, mean, std) -> torch.Tensor:
    """uint8 (B, C, H, W) → float classifier input."""
    m = torch.tensor(mean, device=x.device).view(1, -1, 1, 1)
    s = torch.tensor(std, device=x.device).view(1, -1, 1, 1)
    return (x.float() / 255 - m) / s


def data_dir() -> Path:
    return Path(os.environ.get("IMGAI_DATA") or Path.home() / ".cache" / "imgai" / "data")


def _bundled(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as f:
        return {k: torch.from_numpy(f[k]) for k in f.files}


def _digits() -> ImageData:
    t = _bundled(DIGITS_FILE)
    return ImageData("digits", t["train_x"][:, None], t["train_y"].long(), t["val_x"][:, None], t["val_y"].long(),
                     [str(i) for i in range(10)], *MNIST_NORM, intake="digit")


def _cifar10_5k() -> ImageData:
    """4,660 CIFAR-10 training images (32x32 colour), 500 of them (50 per class) held out for validation."""
    t = _bundled(CIFAR_5K_FILE)
    return ImageData("cifar10-5k", t["train_x"], t["train_y"].long(), t["val_x"], t["val_y"].long(),
                     list(CIFAR_CLASSES), *CIFAR_NORM, intake="fit")


# torchvision data sets: (class, class names, normalisation, intake); downloaded once into data_dir()
def _torchvision_specs():
    from torchvision import datasets
    fashion = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    return {
        "mnist": (datasets.MNIST, [str(i) for i in range(10)], MNIST_NORM, "digit"),
        "fashion-mnist": (datasets.FashionMNIST, fashion, ((0.2860,), (0.3530,)), "fit"),
        "cifar10": (datasets.CIFAR10, list(CIFAR_CLASSES), CIFAR_NORM, "fit"),
    }


def _as_nchw(images) -> torch.Tensor:
    x = torch.as_tensor(np.asarray(images), dtype=torch.uint8)
    return x[:, None] if x.ndim == 3 else x.permute(0, 3, 1, 2).contiguous()  # (N,H,W) or (N,H,W,C)


def _torchvision(name: str) -> ImageData:
    cls, classes, (mean, std), intake = _torchvision_specs()[name]
    root = data_dir()
    try:
        root.mkdir(parents=True, exist_ok=True)
        train, val = (cls(str(root), train=t, download=True) for t in (True, False))
    except Exception as e:  # no network, a proxy page instead of the file, a full disk, a bad checksum...
        reason = str(e).splitlines()[0][:120] if str(e) else type(e).__name__
        raise DatasetError(f"could not download the '{name}' data set into {root} ({reason}); use a bundled "
                           f"data set ('digits', 'cifar10-5k'), a folder of images (folder:PATH), or set IMGAI_DATA "
                           f"to a folder that already holds it") from None
    return ImageData(name, _as_nchw(train.data), torch.as_tensor(train.targets).long(),
                     _as_nchw(val.data), torch.as_tensor(val.targets).long(), classes, mean, std, intake)


def split_validation(y: np.ndarray, share: float = 0.2, seed: int = 0) -> np.ndarray:
    """Boolean mask of a stratified validation share: at least one image per class that has two or more."""
    rng = np.random.default_rng(seed)
    is_val = np.zeros(len(y), dtype=bool)
    for c in np.unique(y):
        rows = np.flatnonzero(y == c)
        n = int(round(len(rows) * share)) if len(rows) >= 2 else 0
        n = min(max(n, 1 if len(rows) >= 2 else 0), len(rows) - 1)
        is_val[rng.choice(rows, n, replace=False)] = True
    return is_val


def _folder(path: str, size: int = 32, channels: int = 3, progress=None) -> ImageData:
    from imgai.data.folder import FolderError, load_image_folder
    try:
        x, y, classes, skipped = load_image_folder(path, size=size, channels=channels, progress=progress)
    except FolderError as e:
        raise DatasetError(str(e)) from None
    is_val = split_validation(y)
    x = _as_nchw(x)
    # per-channel statistics of these photos, so any folder gets a well-scaled classifier input
    xf = x[~torch.from_numpy(is_val)].float() / 255
    mean = tuple(xf.mean(dim=(0, 2, 3)).tolist())
    std = tuple(max(s, 1e-3) for s in xf.std(dim=(0, 2, 3)).tolist())
    name = f"folder:{Path(path).name}"
    mask = torch.from_numpy(is_val)
    yt = torch.from_numpy(y).long()
    return ImageData(name, x[~mask], yt[~mask], x[mask], yt[mask], list(classes), mean, std, "fit", skipped)


BUNDLED = {"digits": _digits, "cifar10-5k": _cifar10_5k}  # shipped in imgai/assets: no network
DATASETS = ["digits", "cifar10-5k", "mnist", "fashion-mnist", "cifar10"]  # plus folder:PATH


def load_dataset(name: str, progress=None) -> ImageData:
    """progress(stage, done, total): called between the files of a folder:PATH data set (see imgai.data.folder)."""
    if name in BUNDLED:
        return BUNDLED[name]()
    if name in DATASETS:
        return _torchvision(name)
    if name.startswith("folder:"):
        return _folder(name[len("folder:"):], progress=progress)
    raise DatasetError(f"unknown data set '{name}': choose one of {', '.join(DATASETS)} or folder:PATH")
