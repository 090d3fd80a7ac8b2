"""A map of what a classifier learned: its penultimate features (the input of its last dense layer) for the
validation images, projected to 2-D by PCA (instant) or t-SNE (openTSNE, slower, with progress, cached per model), with
the student's own picture, the misclassified images and a GAN's samples placed on the same map.

    fmap = build_map(clf, method="pca", n=1000, seed=0); xy = place(fmap, features(clf.model, x))

PCA places a new point exactly (the same linear projection). t-SNE has no projection for new points: a new
point is put at the mean map position of its 5 nearest validation images in feature space (`placed_by`).
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

METHODS = ("pca", "tsne")
NEIGHBOURS = 5           # t-SNE placement of a new point: mean position of this many nearest validation images
CACHE_MAPS = 8           # maps kept in memory (each ~100 KB for 1,000 images): a few models × methods
_cache: OrderedDict = OrderedDict()
_lock = threading.Lock()


class MapError(ValueError):
    """A map that cannot be made (no validation data, unknown method); str(e) is one line for the user."""


@dataclass
class FeatureMap:
    method: str
    seed: int
    xy: np.ndarray          # (N, 2) float32 map positions of the validation images
    features: np.ndarray    # (N, D) float32 penultimate features
    labels: np.ndarray      # (N,) true class
    predicted: np.ndarray   # (N,) the network's answer
    images: np.ndarray      # (N, H, W) or (N, H, W, 3) uint8: thumbnails
    class_names: list
    mean: np.ndarray        # (D,) PCA centre
    components: np.ndarray  # (2, D) PCA axes (for t-SNE: still the PCA axes, used only for its init)
    seconds: float          # how long the projection took when it was made (the forward pass not counted)

    @property
    def wrong(self) -> np.ndarray:
        return np.flatnonzero(self.labels != self.predicted)

    @property
    def placed_by(self) -> str:
        return ("the same PCA projection" if self.method == "pca" else
                f"the mean map position of its {NEIGHBOURS} nearest validation images in feature space "
                "(t-SNE cannot project a new point)")


def _last_linear(model: nn.Module) -> nn.Linear:
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise MapError(f"a {type(model).__name__} has no dense layer whose input could be mapped")
    return linears[-1]


@torch.no_grad()
def features(model: nn.Module, x: torch.Tensor, batch: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """(penultimate features (B, D), logits (B, classes)) of model on x (B, C, H, W), by a hook on the
    input of the last dense layer, in the same forward pass that gives the logits."""
    last, me, feats, outs = _last_linear(model), threading.get_ident(), [], []

    def keep(module, inputs):
        if threading.get_ident() == me:
            feats.append(inputs[0].detach().flatten(1).clone())
    handle = last.register_forward_pre_hook(keep)
    try:
        model.eval()
        for k in range(0, len(x), batch):
            part = x[k:k + batch]
            if part.dim() == 4:  # NHWC: oneDNN's convolutions on this CPU take half the time (bench_views.py)
                part = part.contiguous(memory_format=torch.channels_last)
            outs.append(model(part))
    finally:
        handle.remove()
    return torch.cat(feats).float().numpy(), torch.cat(outs).float().numpy()


def pca(f: np.ndarray, k: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """(mean (D,), axes (k, D)) of f (N, D): the top eigenvectors of the D×D covariance (for N ≫ D far quicker
    than an SVD of the data), each signed so its largest-magnitude loading is positive (as scikit-learn's
    svd_flip): the same data always gives the same map, never a mirrored one."""
    f = np.asarray(f, dtype=np.float64)
    mean = f.mean(axis=0)
    c = f - mean
    _, vecs = np.linalg.eigh(c.T @ c)                 # ascending eigenvalues
    axes = vecs[:, ::-1][:, :k].T
    signs = np.sign(axes[np.arange(len(axes)), np.abs(axes).argmax(axis=1)])
    return mean, axes * signs[:, None]


TSNE_ITERATIONS = (250, 500)   # openTSNE's defaults: early exaggeration, then the embedding proper
PROGRESS_EVERY = 25            # iterations between two progress reports


def tsne(f: np.ndarray, seed: int, init: np.ndarray, progress=None) -> np.ndarray:
    """t-SNE of f (N, D) from a PCA start, by openTSNE (its callbacks report progress: progress(fraction)
    is called every PROGRESS_EVERY iterations; scikit-learn's t-SNE has no such hook. bench/bench_views.py
    times both)."""
    try:
        from openTSNE import TSNE
    except ImportError:
        raise MapError("t-SNE needs openTSNE (pip install openTSNE); PCA works without it") from None
    init = (init - init.mean(0)) / (init[:, 0].std() + 1e-12) * 1e-4   # a PCA start at openTSNE's own scale
    total, phase = sum(TSNE_ITERATIONS), {"base": 0, "last": 0}

    def report(iteration, error, embedding):
        if iteration < phase["last"]:                      # the second phase counts from 0 again
            phase["base"] += TSNE_ITERATIONS[0]
        phase["last"] = iteration
        if progress is not None:
            progress(min(1.0, (phase["base"] + iteration) / total))
        return False                                       # never stop early
    embedding = TSNE(n_components=2, perplexity=30, initialization=init.astype(np.float32), random_state=seed,
                     early_exaggeration_iter=TSNE_ITERATIONS[0], n_iter=TSNE_ITERATIONS[1], n_jobs=1,
                     callbacks=report, callbacks_every_iters=PROGRESS_EVERY,
                     verbose=False).fit(np.asarray(f, dtype=np.float32))
    return np.asarray(embedding, dtype=np.float32)


def _validation(clf, n: int, seed: int):
    from imgai.data.datasets import DatasetError, load_dataset, normalize
    try:
        data = load_dataset(clf.meta.get("dataset", ""))
    except (DatasetError, OSError, ValueError) as e:
        raise MapError(f"the validation images of this model's data set cannot be loaded: {e}") from None
    g = torch.Generator().manual_seed(int(seed))
    idx = torch.randperm(len(data.val_y), generator=g)[:n].sort().values  # a fixed sample per seed
    u8 = data.val_x[idx]
    x = normalize(u8, clf.meta["mean"], clf.meta["std"])
    thumbs = u8.permute(0, 2, 3, 1).numpy()
    return x, data.val_y[idx].numpy(), thumbs[..., 0] if thumbs.shape[-1] == 1 else thumbs


def build_map(clf, method: str = "pca", n: int = 1000, seed: int = 0, key: str | None = None,
              progress=None) -> FeatureMap:
    """The map of n validation images (a fixed sample per seed). Cached in memory under (key, method, n, seed);
    key defaults to the checkpoint's weights hash, so a retrained model of the same name gets a new map.
    progress(fraction), if given, hears how far a t-SNE has got."""
    if method not in METHODS:
        raise MapError(f"unknown projection {method!r}; expected one of {', '.join(METHODS)}")
    if clf.meta.get("kind") != "cnn":
        raise MapError("the map is made for imgai's own classifiers (their validation images are bundled)")
    key = (key or clf.meta.get("weights_sha256") or clf.name, method, int(n), int(seed))
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    fkey = (key[0], "features", int(n), int(seed))  # t-SNE and PCA of one model share one forward pass
    with _lock:
        hit = _cache.get(fkey)
    if hit is None:
        x, labels, thumbs = _validation(clf, n, seed)
        hit = (*features(clf.model, x), labels, thumbs)
        with _lock:
            _cache[fkey] = hit
    f, logits, labels, thumbs = hit
    t = time.perf_counter()
    mean, axes = pca(f)
    xy = (f - mean) @ axes.T
    if method == "tsne":
        xy = tsne(f, seed, xy, progress)
    fmap = FeatureMap(method, int(seed), xy.astype(np.float32), f, labels, logits.argmax(1), thumbs,
                      list(clf.class_names), mean.astype(np.float32), axes.astype(np.float32),
                      time.perf_counter() - t)
    with _lock:
        _cache[key] = fmap
        while len(_cache) > CACHE_MAPS:
            _cache.popitem(last=False)
    return fmap


def place(fmap: FeatureMap, f: np.ndarray) -> np.ndarray:
    """Map positions (B, 2) of new feature vectors f (B, D): see FeatureMap.placed_by."""
    f = np.atleast_2d(np.asarray(f, dtype=np.float32))
    if fmap.method == "pca":
        return ((f - fmap.mean) @ fmap.components.T).astype(np.float32)
    d = ((f[:, None, :] - fmap.features[None]) ** 2).sum(-1)         # (B, N) squared distances
    near = np.argsort(d, axis=1)[:, :NEIGHBOURS]
    return fmap.xy[near].mean(axis=1)


def neighbours(fmap: FeatureMap, xy, k: int = 8) -> np.ndarray:
    """Indices of the k validation images nearest to a map position: the thumbnails beside a picked point."""
    d = ((fmap.xy - np.asarray(xy, dtype=np.float32)[None]) ** 2).sum(1)
    return np.argsort(d)[:k]


def gan_samples(clf, generator_weights: str, n: int = 100, seed: int = 0) -> dict:
    """n samples of a DCGAN/cDCGAN, read by the classifier: {images uint8, features, predicted, probs}. The
    samples go through the classifier's own normalisation, as its validation images do."""
    from imgai.data.datasets import normalize
    from imgai.inference.latent import seed_latents_fast
    from imgai.models.checkpoint import CheckpointError, load_checkpoint
    from imgai.models.sampling import grid_labels, sample_images
    model, meta = load_checkpoint(generator_weights)
    if meta["kind"] not in ("dcgan", "cdcgan"):
        raise CheckpointError(f"{generator_weights} is a {meta['kind']} model, not a generator")
    G, nz = model.generator, model.config.nz
    y = grid_labels(n, model.config.n_classes) if meta["kind"] == "cdcgan" else None
    u8 = sample_images(G, seed_latents_fast(seed, n, nz), y)            # (n, H, W, C)
    if u8.shape[-1] != clf.meta["channels"] or u8.shape[1] != clf.meta["image_size"]:
        raise MapError(f"{generator_weights} draws {u8.shape[1]}×{u8.shape[2]}×{u8.shape[3]} pictures; this "
                       f"classifier reads {clf.meta['image_size']}×{clf.meta['image_size']}×{clf.meta['channels']}")
    x = normalize(torch.from_numpy(u8).permute(0, 3, 1, 2), clf.meta["mean"], clf.meta["std"])
    f, logits = features(clf.model, x)
    p = torch.softmax(torch.from_numpy(logits), 1).numpy()
    return {"images": u8[..., 0] if u8.shape[-1] == 1 else u8, "features": f, "predicted": p.argmax(1),
            "probs": p.max(1)}


def sits_among(fmap: FeatureMap, f: np.ndarray) -> np.ndarray:
    """For each new feature vector (B, D): the true class most common among its nearest validation images
    in feature space — which real class a generated picture sits among."""
    f = np.atleast_2d(np.asarray(f, dtype=np.float32))
    d = ((f[:, None, :] - fmap.features[None]) ** 2).sum(-1)
    near = fmap.labels[np.argsort(d, axis=1)[:, :NEIGHBOURS]]
    return np.array([np.bincount(row, minlength=len(fmap.class_names)).argmax() for row in near])
