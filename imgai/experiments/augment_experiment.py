"""Does generation help recognition? Train the CNN on a few real images per class, with and without
generated images added, and measure validation accuracy over a few seeds.

    rows = list(experiment_loop(AugmentSpec(per_class=[10, 50]), load_dataset("digits")))
    print(summarize(rows))     # per (images per class, with/without generated): mean ± spread over seeds

Generated images come from an ImageSource, a function (label, n, torch.Generator) -> uint8 (n, C, H, W):
- a class-conditional GAN draws the asked class directly (conditional_source);
- a plain GAN's samples are labelled by a classifier and kept above a confidence threshold
  (labelled_source). The labeller is either the shipped digits CNN, or "self": the CNN just trained on
  the few real images (pseudo-labelling).
Read the answer with its conditions: the GAN and the shipped labeller learned from all 4,500 training
digits (the GAN without their labels, the shipped CNN with them). With the shipped labeller, generated
images carry that labelled knowledge into the small training set; only the "self" labeller and a GAN
trained without labels keep to the few labels the run is allowed.

Every training takes the same number of optimiser steps, with or without generated images, so the two
differ only in what the batches are drawn from.
"""
import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

import torch
import torch.nn.functional as F

from imgai.data.datasets import ImageData, normalize
from imgai.training.runs import build_for_data
from imgai.training.augment import augment_batch
from imgai.training.classifier import evaluate
from imgai.training.config import TrainConfig, TrainState, lr_factor, make_optimizer

ImageSource = Callable[[int, int, torch.Generator], torch.Tensor]
MODES = ("real", "real+generated")


class ExperimentError(ValueError):
    """An experiment that cannot be run as asked; str(e) is one line for the user."""


@dataclass
class AugmentSpec:
    per_class: list = field(default_factory=lambda: [10, 50, 100])  # real training images per class
    seeds: list = field(default_factory=lambda: [0, 1, 2])         # which images, initial weights, batch order
    generated_per_class: int = 100   # generated images added per class (the same for every real count)
    steps: int = 300                 # optimiser steps per training, the same with or without generated images
    batch_size: int = 64
    lr: float = 3e-3                 # the fast CNN preset's rate, with its one-cycle schedule
    augment: bool = True             # the usual shifts and rotations, with and without generated images
    threshold: float = 0.9           # a plain GAN's sample is kept when its labeller is this sure
    labeller: str = "shipped"        # shipped | self (the few-shot CNN labels the samples: pseudo-labelling)
    generator: str = "weights/digits-dcgan"   # a dcgan (labelled by a classifier) or a cdcgan checkpoint
    judge: str = "weights/digits-cnn"         # the shipped labeller
    pool: int = 3000                 # plain GAN samples drawn once and labelled; a class the GAN seldom draws
                                     # may get fewer than generated_per_class (result rows say how many)


def few_per_class(data: ImageData, n: int, seed: int) -> tuple:
    """n training images of each class, chosen by seed: (uint8 x, labels)."""
    gen = torch.Generator().manual_seed(seed)
    picks = []
    for c in range(len(data.class_names)):
        rows = torch.nonzero(data.train_y == c).flatten()
        if len(rows) < n:
            raise ExperimentError(f"class {data.class_names[c]} has only {len(rows)} training images, not {n}")
        picks.append(rows[torch.randperm(len(rows), generator=gen)[:n]])
    idx = torch.cat(picks)
    return data.train_x[idx], data.train_y[idx]


@torch.no_grad()
def _samples(generator, z: torch.Tensor, labels=None, chunk: int = 500) -> torch.Tensor:
    """uint8 (n, C, H, W) from a generator whose output is in [-1, 1], in eval mode, batched."""
    was = generator.training
    generator.eval()
    try:
        out = []
        for i in range(0, len(z), chunk):
            x = generator(z[i:i + chunk]) if labels is None else generator(z[i:i + chunk], labels[i:i + chunk])
            out.append(((x + 1) * 127.5).round().clamp(0, 255).byte())
        return torch.cat(out)
    finally:
        generator.train(was)


def conditional_source(gan) -> ImageSource:
    """A class-conditional GAN (kind "cdcgan"): gan.generator(z, labels) -> images in [-1, 1]."""
    nz = gan.config.nz

    def draw(label: int, n: int, gen: torch.Generator) -> torch.Tensor:
        z = torch.randn(n, nz, generator=gen)
        return _samples(gan.generator, z, torch.full((n,), int(label), dtype=torch.long))
    return draw


@torch.no_grad()
def label_pool(images: torch.Tensor, model, mean, std, threshold: float) -> tuple:
    """Labels and confidences a classifier gives uint8 images; keep only those at or above threshold."""
    model.eval()
    dev = next(model.parameters(), torch.empty(0)).device   # the images stay on the CPU; only each chunk visits the model
    probs = torch.cat([torch.softmax(model(normalize(images[i:i + 500].to(dev), mean, std)), 1).cpu()
                       for i in range(0, len(images), 500)])
    conf, label = probs.max(1)
    keep = conf >= threshold
    return images[keep], label[keep]


def labelled_source(images: torch.Tensor, labels: torch.Tensor) -> ImageSource:
    """Draws from a fixed pool of labelled generated images (without replacement, as far as it goes)."""
    def draw(label: int, n: int, gen: torch.Generator) -> torch.Tensor:
        rows = torch.nonzero(labels == label).flatten()
        return images[rows[torch.randperm(len(rows), generator=gen)[:n]]]
    return draw


def _plain_pool(gan, n: int, seed: int) -> torch.Tensor:
    z = torch.randn(n, gan.config.nz, generator=torch.Generator().manual_seed(10_000 + seed))
    return _samples(gan.generator, z)


def fit_steps(x, y, data: ImageData, spec: AugmentSpec, seed: int, device="cpu", state: TrainState | None = None,
              every: int = 20):
    """Train a fresh fast CNN for spec.steps steps on (x, y): batches drawn at random, one-cycle schedule.
    A generator: yields {"run_step", "loss"} every `every` steps (the caller's progress); the model is in
    state.model when it ends."""
    state = state if state is not None else TrainState()
    torch.manual_seed(seed)
    model = build_for_data("cnn", "fast", data).to(device).train()
    cfg = TrainConfig(lr=spec.lr, augment=spec.augment)
    opt = make_optimizer(model.parameters(), cfg, spec.lr)
    state.model, state.optimizers, state.base_lr = model, [opt], spec.lr
    gen = torch.Generator().manual_seed(seed)
    x, y = x.to(device), y.to(device)
    flip = data.intake != "digit"
    for step in range(spec.steps):
        for g in opt.param_groups:
            g["lr"] = state.base_lr * lr_factor("onecycle", step / spec.steps)
        idx = torch.randint(len(y), (spec.batch_size,), generator=gen).to(device)
        xb = normalize(x[idx], data.mean, data.std)
        if spec.augment:
            xb = augment_batch(xb, gen, flip)
        loss = F.cross_entropy(model(xb), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if (step + 1) % every == 0 or step + 1 == spec.steps:
            yield {"run_step": step + 1, "loss": loss.item()}
    model.eval()


def _load_generator(spec: AugmentSpec):
    from imgai.models.checkpoint import CheckpointError, load_checkpoint
    gan, meta = load_checkpoint(spec.generator)
    if meta["kind"] not in ("dcgan", "cdcgan"):
        raise CheckpointError(f"{spec.generator} is a {meta['kind']} model, not a generator (dcgan or cdcgan)")
    return gan, meta["kind"]


def check_spec(spec: AugmentSpec):
    if not spec.per_class or min(spec.per_class) < 1:
        raise ExperimentError("choose at least one number of real images per class, each at least 1")
    if not spec.seeds:
        raise ExperimentError("choose at least one seed")
    if spec.labeller not in ("shipped", "self"):
        raise ExperimentError(f"the labeller is 'shipped' or 'self', not {spec.labeller!r}")
    if not 0 < spec.threshold < 1:
        raise ExperimentError("the confidence threshold must lie between 0 and 1")
    if spec.steps < 1 or spec.generated_per_class < 1:
        raise ExperimentError("steps and generated images per class must be at least 1")
    if len(spec.per_class) * len(spec.seeds) > 30:
        raise ExperimentError("at most 30 settings x seeds (each trains two networks)")


def experiment_loop(spec: AugmentSpec, data: ImageData, device="cpu", state: TrainState | None = None,
                    source: ImageSource | None = None):
    """For each real count and seed: train on the real images alone, then on them plus generated ones.
    Yields progress rows ({"step", "progress", "seconds", "loss"}) and, after each training, a result row
    ({"per_class", "seed", "mode", "val_acc", "generated"}). source: an ImageSource to use instead of
    spec.generator (tests, or a generator already loaded)."""
    check_spec(spec)
    state = state or TrainState()
    t0 = time.perf_counter()
    pool = None
    if source is None:
        gan, kind = _load_generator(spec)
        if kind == "cdcgan":
            source = conditional_source(gan)
        else:
            pool = _plain_pool(gan, spec.pool, 0)
            if spec.labeller == "shipped":
                from imgai.inference.classify import load_classifier
                judge = load_classifier(spec.judge)
                source = labelled_source(*label_pool(pool, judge.model, judge.meta["mean"], judge.meta["std"],
                                                     spec.threshold))
    n_classes = len(data.class_names)
    total = len(spec.per_class) * len(spec.seeds) * 2 * spec.steps
    done = 0
    for n in spec.per_class:
        for seed in spec.seeds:
            x, y = few_per_class(data, n, seed)
            real_model = None
            for mode in MODES:
                counts = None
                x_fit, y_fit = x, y
                if mode == "real+generated":
                    draw = source
                    if draw is None:   # "self": this seed's real-only network labels the plain GAN's pool
                        draw = labelled_source(*label_pool(pool, real_model, data.mean, data.std, spec.threshold))
                    gen = torch.Generator().manual_seed(20_000 + seed)
                    extra = [draw(c, spec.generated_per_class, gen) for c in range(n_classes)]
                    counts = [len(e) for e in extra]
                    x_fit = torch.cat([x] + [e.to(x.device) for e in extra])
                    y_fit = torch.cat([y] + [torch.full((len(e),), c, dtype=torch.long) for c, e in enumerate(extra)])
                for m in fit_steps(x_fit, y_fit, data, spec, seed, device, state):
                    yield {"step": done + m["run_step"], "progress": (done + m["run_step"]) / total,
                           "seconds": time.perf_counter() - t0, "loss": m["loss"]}
                done += spec.steps
                model = state.model
                val_acc, val_loss, _ = evaluate(model, data.val_x.to(device), data.val_y.to(device),
                                                data.mean, data.std)
                if mode == "real":
                    real_model = model
                yield {"step": done, "progress": done / total, "seconds": time.perf_counter() - t0,
                       "per_class": n, "seed": seed, "mode": mode, "val_acc": val_acc, "val_loss": val_loss,
                       **({"generated": sum(counts), "generated_min_class": min(counts)} if counts else {})}


@dataclass
class ExperimentRun:
    """What the job runner needs: loop(state) and meta (as imgai.training.runs.Run has)."""
    spec: AugmentSpec
    data: ImageData
    meta: dict
    device: torch.device
    source: ImageSource | None = None

    def loop(self, state: TrainState | None = None):
        return experiment_loop(self.spec, self.data, self.device, state, self.source)


def prepare_experiment(spec: AugmentSpec, data: ImageData, device=None, source: ImageSource | None = None):
    """Check the spec (and that the generator loads) before a job is queued."""
    from imgai.device import pick_device
    check_spec(spec)
    if source is None:
        _load_generator(spec)
    if max(spec.per_class) > int(torch.bincount(data.train_y).min()):
        raise ExperimentError(f"{data.name} has too few training images of some class for {max(spec.per_class)} per class")
    meta = {"kind": "cnn", "preset": "fast", "dataset": data.name, "class_names": list(data.class_names),
            "image_size": data.size, "channels": data.channels, "mean": list(data.mean), "std": list(data.std),
            "intake": data.intake, "train": {"steps": spec.steps, "batch_size": spec.batch_size, "lr": spec.lr},
            "experiment": asdict(spec)}
    return ExperimentRun(spec, data, meta, device or pick_device(), source)


def summarize(rows: list, spec: AugmentSpec | None = None) -> dict:
    """Per (real images per class, mode): mean and spread (sample standard deviation) of validation accuracy
    over seeds, and the gain of adding generated images (difference of the means)."""
    groups = {}
    for r in rows:
        if "mode" in r and "per_class" in r:
            groups.setdefault((r["per_class"], r["mode"]), []).append(r)
    settings = []
    for (n, mode), rs in sorted(groups.items()):
        accs = [r["val_acc"] for r in rs]
        settings.append({"per_class": n, "mode": mode, "seeds": [r["seed"] for r in rs], "val_acc": accs,
                         "mean": statistics.fmean(accs), "spread": statistics.stdev(accs) if len(accs) > 1 else 0.0,
                         **({"generated": statistics.fmean(r["generated"] for r in rs)} if "generated" in rs[0] else {})})
    by = {(s["per_class"], s["mode"]): s for s in settings}
    gains = [{"per_class": n, "gain": by[(n, MODES[1])]["mean"] - by[(n, MODES[0])]["mean"]}
             for n in sorted({s["per_class"] for s in settings}) if (n, MODES[0]) in by and (n, MODES[1]) in by]
    out = {"settings": settings, "gains": gains}
    if spec is not None:
        out["spec"] = asdict(spec)
        out["complete"] = len(settings) == 2 * len(spec.per_class) and all(
            len(s["val_acc"]) == len(spec.seeds) for s in settings)
    return out
