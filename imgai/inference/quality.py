"""How good are a generator's pictures? A Fréchet distance in a classifier's feature space, class coverage and
readability, judged by a trained classifier (for digits: the shipped digits CNN).

    q = generator_quality(gan.generator, gan.config.nz, load_classifier("weights/digits-cnn"), data.val_x)
    judge = judge_for(run)    # a prepared GAN run on digits → gan → the figures its stored run is kept with

Fréchet distance (Heusel et al. 2017, "FID" when the features are Inception's): fit a Gaussian to the
features of each image set and measure ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^1/2). Here the features are
the classifier's penultimate layer (the CNN's hidden dense layer), which knows digits far better than an
ImageNet network does. The distance is biased upward for small sets, so compare it only with the floor
measured on real images of the same set sizes (real_floor) — never with published FIDs.
"""
import warnings
from functools import partial

import numpy as np
import torch
from scipy import linalg

from imgai.data.datasets import normalize
from imgai.inference.latent import seed_latents
from imgai.models.checkpoint import WEIGHTS_DIR
from imgai.models.sampling import generate

READ_CONFIDENCE = 0.9  # "readable": the classifier's top class has at least this probability
BOARD_SAMPLES = 1000   # samples a GAN run is judged on when it ends: as bench/results/gan.json
MIN_REFERENCE = 200    # held-out images a Fréchet distance needs: fewer cannot fit a 128-dimensional Gaussian


@torch.no_grad()
def features_and_probs(classifier, x_u8: torch.Tensor, batch_size: int = 500):
    """uint8 images (N, C, H, W) → (penultimate features (N, F) float64 numpy, class probabilities (N, K))."""
    model, meta = classifier.model.eval(), classifier.meta
    feats, probs = [], []
    for i in range(0, len(x_u8), batch_size):
        h = model.classifier[:-1](model.features(normalize(x_u8[i:i + batch_size], meta["mean"], meta["std"])))
        feats.append(h.double())
        scale = getattr(model.config, "logit_scale", 1.0)  # the whitened CNN cools its logits (imgai.models.cnn)
        probs.append(torch.softmax(model.classifier[-1](h) * scale, 1))
    return torch.cat(feats).numpy(), torch.cat(probs)


def frechet_distance(f1: np.ndarray, f2: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (N1, F) and (N2, F)."""
    mu1, mu2 = f1.mean(0), f2.mean(0)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    with warnings.catch_warnings():
        # ReLU features that are never active make the covariances singular; sqrtm warns but copes
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(s1 @ s2)
        if not np.isfinite(covmean).all():  # nudge both diagonals and retry (as pytorch-fid does)
            eps = np.eye(len(s1)) * 1e-6
            covmean = linalg.sqrtm((s1 + eps) @ (s2 + eps))
    covmean = covmean.real  # tiny imaginary parts are rounding noise
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def label_stats(probs: torch.Tensor) -> dict:
    """Class coverage and readability of a set of images from the classifier's probabilities.

    readable: the share read with >= READ_CONFIDENCE; classes: how many classes hold at least 3% of the
    readable images (few = mode collapse); entropy: of the predicted labels' histogram, in bits
    (log2 of 10 = 3.32 for ten equally common digits)."""
    conf, label = probs.max(1)
    k = probs.shape[1]
    readable = conf >= READ_CONFIDENCE
    counts = torch.bincount(label[readable], minlength=k)
    share = counts.float() / max(1, int(readable.sum()))
    p = torch.bincount(label, minlength=k).double() / len(label)
    entropy = float(-(p[p > 0] * p[p > 0].log2()).sum())
    return {"readable": float(readable.float().mean()), "classes": int((share >= 0.03).sum()),
            "label_entropy_bits": entropy, "class_counts": counts.tolist()}


def generated_u8(generator, nz: int, n: int = 1000, seed: int = 12345, labels: torch.Tensor | None = None):
    """n samples of seeds' latents (the CLI's `generate --seed`), as uint8 (n, C, H, W)."""
    x = generate(generator.cpu(), seed_latents(seed, n, nz), labels)
    return ((x + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)


def images_quality(classifier, x_u8: torch.Tensor, real_u8: torch.Tensor) -> dict:
    """Fréchet distance of x_u8 to real_u8 in the classifier's features, plus label_stats of x_u8."""
    f, p = features_and_probs(classifier, x_u8)
    f_real, _ = features_and_probs(classifier, real_u8)
    return {"distance": frechet_distance(f, f_real), **label_stats(p)}


def generator_quality(generator, nz: int, classifier, real_u8: torch.Tensor, n: int = 1000,
                      seed: int = 12345, labels: torch.Tensor | None = None) -> dict:
    """images_quality of n samples of a generator (conditional: pass their labels) against real images."""
    return images_quality(classifier, generated_u8(generator, nz, n, seed, labels), real_u8)


def real_floor(classifier, train_u8: torch.Tensor, held_out_u8: torch.Tensor, n: int = 1000, seed: int = 0) -> dict:
    """The same figures for n real training images against the held-out ones: the best a generator of the
    training set can hope for with these set sizes (the distance is never 0 for finite sets)."""
    idx = torch.randperm(len(train_u8), generator=torch.Generator().manual_seed(seed))[:n]
    return images_quality(classifier, train_u8[idx], held_out_u8)


def conditional_accuracy(generator, nz: int, classifier, n_classes: int, per_class: int = 100,
                         seed: int = 12345) -> dict:
    """A conditional generator asked for each class per_class times: the share the classifier reads as the
    asked class, per class and overall (its argmax, whatever its confidence)."""
    labels = torch.arange(n_classes).repeat_interleave(per_class)
    _, p = features_and_probs(classifier, generated_u8(generator, nz, len(labels), seed, labels))
    hit = (p.argmax(1) == labels).float()
    per = hit.view(n_classes, per_class).mean(1)
    return {"per_class": per.tolist(), "min": float(per.min()), "mean": float(hit.mean())}


def sample_quality(images, judge: str | None = None) -> float | None:
    """GAN sample quality on digit data, 0..1: the share of samples the shipped digits CNN reads with at least
    90% confidence (as bench/judge.py), times the share of the ten classes those cover. The second factor
    keeps a collapsed generator from scoring well: the CNN reads a blank image confidently (as one class).
    None when the samples are not 28x28 grey digits."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[1:] != (28, 28, 1) or len(images) == 0:
        return None
    from imgai.inference.classify import load_classifier   # here: the judge is only loaded for digit GANs
    clf = load_classifier(judge or str(WEIGHTS_DIR / "digits-cnn"))
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2)
    with torch.no_grad():
        p = torch.softmax(clf.model(normalize(x, clf.meta["mean"], clf.meta["std"])), 1)
    conf, label = p.max(1)
    readable = conf >= 0.9
    covered = len(torch.unique(label[readable])) / p.shape[1]
    return round(float(readable.float().mean()) * covered, 4)


def can_judge(data) -> bool:
    """Can a GAN trained on this data be judged by the shipped digits CNN? Grey 28x28 images (its input) with a
    held-out split big enough for a Fréchet distance."""
    return data.channels == 1 and data.size == 28 and len(data.val_x) >= MIN_REFERENCE


def judge_for(run):
    """What judges a prepared run (imgai.training.runs.Run) when it ends: gan → board_judgement of its
    generator (the moving average, where the run keeps one) against the run's own data; None for
    classifiers and for data the digits CNN cannot read. A plain partial, so a job's thread or its Ray worker
    can call it with the final model."""
    kind, data = getattr(getattr(run, "spec", None), "model", None), getattr(run, "data", None)
    if kind not in ("dcgan", "cdcgan") or data is None or not can_judge(data):   # an experiment's run: no judge
        return None
    return partial(_judge_gan, data=data, n_classes=len(data.class_names) if kind == "cdcgan" else None)


def _judge_gan(gan, data, n_classes: int | None = None) -> dict:
    return board_judgement(gan.generator, gan.config.nz, data, n_classes)


def board_judgement(generator, nz: int, data, n_classes: int | None = None, judge: str | None = None) -> dict:
    """The figures a GAN run is kept with (and the class board ranks it by): the Fréchet distance of
    BOARD_SAMPLES samples to the data's held-out images in the shipped digits CNN's features ("frechet"),
    the same distance for as many real training images ("frechet_real": the floor for these set sizes), the
    share of samples read with >= 90% confidence and how many classes they cover. A conditional generator
    (n_classes given) is asked for every class equally often. Costs a second or two on a CPU."""
    from imgai.inference.classify import load_classifier   # here: a run on other data never loads the judge
    clf = load_classifier(judge or str(WEIGHTS_DIR / "digits-cnn"))
    labels = None
    if n_classes:
        labels = torch.arange(n_classes).repeat_interleave(-(-BOARD_SAMPLES // n_classes))[:BOARD_SAMPLES]
    q = generator_quality(generator, nz, clf, data.val_x, n=BOARD_SAMPLES, labels=labels)
    floor = real_floor(clf, data.train_x, data.val_x, n=BOARD_SAMPLES)
    return {"frechet": q["distance"], "frechet_real": floor["distance"], "readable": q["readable"],
            "classes_drawn": q["classes"]}
