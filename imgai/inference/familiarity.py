"""Is this picture like the ones the classifier learned from? A softmax answers "8 · 98% sure" for a cat
photo shown to a digits CNN; this says when an answer is a guess about something the model never saw.

    fam = fit_familiarity(clf)            # None when the model's training pictures are not at hand
    fam.judge(clf, x)                     # {"familiar": False, "score": 0.64, "threshold": 0.61, ...}

The test is the deep-nearest-neighbour one (Sun et al., "Out-of-Distribution Detection with Deep Nearest
Neighbors", ICML 2022): the penultimate features, scaled to unit length; a picture's score is the distance to
its K-th nearest training picture. The threshold is the 99th percentile of the held-out validation pictures'
scores, so about 1 real picture in 100 is called unfamiliar: a stated false-alarm rate. tests/test_familiarity.py
checks it on the shipped digits CNN: CIFAR-10 photos and a cat photo are flagged, phone photos of digits
seldom are. A digit picture without any ink is said to be blank.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from imgai.data.datasets import DatasetError, load_dataset, normalize
from .feature_map import MapError, features

K = 10                  # the K-th neighbour: steadier than the nearest one, still local (Sun et al. use 50 of 50,000)
PERCENTILE = 99.0       # held-out pictures above the threshold: 1%
MAX_TRAIN = 5000        # training pictures kept (a seeded subset): distances to 5,000 take ~1 ms a picture
SEED = 0


@dataclass
class Familiarity:
    train: np.ndarray       # (N, D) float32 unit-length features of training pictures
    threshold: float        # the PERCENTILE-th percentile of held-out scores
    held_out: int           # how many held-out pictures set it

    def scores(self, f: np.ndarray) -> np.ndarray:
        """Distance from each feature row (B, D) to its K-th nearest training feature, all at unit length."""
        u = f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-12)
        d2 = np.maximum(2.0 - 2.0 * (u @ self.train.T), 0.0)          # |a - b|² = 2 - 2 a·b for unit a, b
        k = min(K, self.train.shape[0]) - 1
        return np.sqrt(np.partition(d2, k, axis=1)[:, k])

    def judge(self, clf, x: torch.Tensor) -> dict:
        """For one model input x (1, C, H, W): familiar or not, its score and the threshold."""
        blank = clf.intake == "digit" and bool(torch.allclose(x, x.flatten()[0].expand_as(x)))
        f, _ = features(clf.model, x)
        score = float(self.scores(f)[0])
        return {"familiar": not blank and score <= self.threshold, "blank": blank, "score": score,
                "threshold": self.threshold, "percentile": PERCENTILE}


def fit_familiarity(clf) -> Familiarity | None:
    """The reference for a classifier checkpoint from its own data set (bundled, or downloaded before);
    None for a model whose training pictures are not here (an uploaded zip, a data set not downloaded, the
    ImageNet and photo models: photos of anything have no "unlike")."""
    name = str(clf.meta.get("dataset", ""))
    if clf.meta.get("kind") != "cnn" or not name or name.startswith("folder:"):
        return None
    try:
        data = load_dataset(name)
    except (DatasetError, OSError, ValueError):
        return None
    if data.channels != clf.meta.get("channels") or data.size != clf.meta.get("image_size"):
        return None
    g = torch.Generator().manual_seed(SEED)
    pick = torch.randperm(len(data.train_x), generator=g)[:MAX_TRAIN]
    try:
        train, _ = features(clf.model, normalize(data.train_x[pick], clf.meta["mean"], clf.meta["std"]))
        held, _ = features(clf.model, normalize(data.val_x, clf.meta["mean"], clf.meta["std"]))
    except MapError:
        return None
    train = train / np.maximum(np.linalg.norm(train, axis=1, keepdims=True), 1e-12)
    fam = Familiarity(train.astype(np.float32), 0.0, len(held))
    fam.threshold = float(np.percentile(fam.scores(held), PERCENTILE))
    return fam
