"""The command line: train, classify, generate and interpolate, as scripts and tests use them.

    python -m imgai train --model cnn --dataset digits --seconds 30 --out models/digits-cnn

Human-readable progress goes to stderr; stdout carries JSON only (one object per line), so the output
of every command can be piped into another program.
"""
import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


MAX_PICTURES = 4096  # generate --n / interpolate --steps: a 64x64 grid; 10^8 pictures would fill the memory


class _Parser(argparse.ArgumentParser):
    """A refused argument is one line on stderr (exit 2), not a usage block: like every other refusal here."""
    def error(self, message):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def _positive(kind, most=None):
    def parse(text):
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text}") from None
        if not v > 0:
            raise argparse.ArgumentTypeError(f"must be positive, not {text}")
        if most is not None and v > most:
            raise argparse.ArgumentTypeError(f"at most {most}, not {text}")
        return v
    return parse


def _number(kind):
    """Any number the type takes, inf and nan included: imgai.training.runs.check_settings says what is out of range."""
    def parse(text):
        try:
            return kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a{' whole' if kind is int else ''} number: {text}") from None
    parse.__name__ = kind.__name__
    return parse


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m imgai", description="Train, classify and generate images.")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train a CNN classifier or a (class-conditional) DCGAN; writes OUT.safetensors + OUT.json")
    t.add_argument("--model", choices=["cnn", "dcgan", "cdcgan"], required=True)
    t.add_argument("--preset", choices=["fast", "textbook"], default="fast")
    t.add_argument("--dataset", default="digits", help="digits | cifar10-5k | mnist | fashion-mnist | cifar10 | folder:PATH")
    budget = t.add_mutually_exclusive_group()
    budget.add_argument("--epochs", type=_number(float))
    budget.add_argument("--seconds", type=_number(float), help="a time budget instead of epochs")
    t.add_argument("--batch-size", type=_number(int))
    t.add_argument("--lr", type=_number(float))
    t.add_argument("--weight-decay", type=_number(float))
    t.add_argument("--optimizer", choices=["adam", "sgd", "rmsprop"])
    t.add_argument("--seed", type=_number(int), default=0)
    t.add_argument("--out", required=True, help="checkpoint path, without extension")
    t.add_argument("--fallback-out", help="where to save if OUT cannot be written at the end (default: a folder "
                                          "in the system's temporary directory)")
    c = sub.add_parser("classify", help="classify image files; one JSON line per file")
    c.add_argument("--weights", required=True, help="a checkpoint path, or 'imagenet' for photos of anything")
    c.add_argument("--top", type=_positive(int), default=5)
    c.add_argument("files", nargs="+")
    g = sub.add_parser("generate", help="draw samples from a trained GAN")
    g.add_argument("--weights", required=True)
    g.add_argument("--n", type=_positive(int, MAX_PICTURES), default=64)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--label", help="class-conditional GAN (cdcgan): the class to draw, by name or index "
                                   "(default: every class in turn)")
    g.add_argument("--out", required=True, help=".png (a grid) or .npy (uint8 samples)")
    i = sub.add_parser("interpolate", help="walk the latent space between two seeds")
    i.add_argument("--weights", required=True)
    i.add_argument("--seeds", type=int, nargs=2, required=True, metavar=("A", "B"))
    i.add_argument("--steps", type=_positive(int, MAX_PICTURES), default=8)
    i.add_argument("--method", choices=["slerp", "lerp"], default="slerp")
    i.add_argument("--out", required=True, help=".gif or .npy")
    add_experiment_parsers(sub)
    from imgai.inference import inspect_cli
    inspect_cli.add_parser(sub)
    from imgai.playground.cli import add_parser as add_playground_parser
    add_playground_parser(sub)
    from imgai.export.cli import add_parser as add_export_parser
    add_export_parser(sub)
    return p


def _train_config(a):
    """The preset's settings with the command line's changes, checked against imgai.training.runs.LIMITS."""
    from dataclasses import replace

    from imgai.training.runs import check_settings, default_train_config
    changes = {k: v for k, v in dict(batch_size=a.batch_size, lr=a.lr, weight_decay=a.weight_decay,
                                     optimizer=a.optimizer).items() if v is not None}
    if a.seconds is not None:
        changes.update(seconds=a.seconds, epochs=None)
    elif a.epochs is not None:
        changes.update(epochs=a.epochs)
    return check_settings(replace(default_train_config(a.model, a.preset, a.dataset), seed=a.seed, **changes),
                          a.model)


def _save_or_rescue(a, model, meta) -> tuple[Path | None, str | None]:
    """Save to --out; if that fails now (disk filled up, folder made read-only during the run), save the run
    to the fallback instead rather than lose it. Returns (where it was saved or None, one-line error or None)."""
    from imgai.models.checkpoint import CheckpointError, save_checkpoint
    try:
        return save_checkpoint(a.out, model, meta), None
    except CheckpointError as e:
        failed = str(e)
    fallback = Path(a.fallback_out) if a.fallback_out else \
        Path(tempfile.gettempdir()) / "imgai-rescue" / f"{Path(a.out).name}-{time.strftime('%Y%m%d-%H%M%S')}"
    try:
        saved = save_checkpoint(fallback, model, meta)
    except CheckpointError as e:
        return None, f"{failed}; nor to the fallback: {e}"
    return saved, f"{failed}; saved it to {saved} instead"


def cmd_train(a) -> int:
    import torch
    from tqdm import tqdm

    from imgai.models.checkpoint import check_writable
    from imgai.training.runs import RunSpec, prepare_run
    cfg = _train_config(a)
    check_writable(a.out)  # refuse an unwritable --out before the run, not after it
    run = prepare_run(RunSpec(model=a.model, preset=a.preset, dataset=a.dataset, train=cfg))
    last, hint, t0 = {}, None, time.perf_counter()
    with tqdm(total=1000, file=sys.stderr, unit="‰", bar_format="{l_bar}{bar}| {elapsed}<{remaining} {postfix}",
              mininterval=0.5) as bar:
        for m in run.loop():
            if m.get("event") == "hint":
                hint = m["text"]
            if "event" in m:
                continue
            last.update(m)
            bar.update(int(m["progress"] * 1000) - bar.n)
            shown = {k: f"{last[k]:.3g}" for k in ("loss", "val_acc", "loss_d", "loss_g") if k in last}
            bar.set_postfix(shown, refresh=False)
    model = run.model.to("cpu").eval()
    metrics = {k: v for k, v in last.items() if isinstance(v, float)}
    if run.evaluate is not None:
        metrics.update(run.evaluate(model))  # the figures of exactly the weights saved
    path, error = _save_or_rescue(a, model, {**run.meta, "step": int(last.get("step", 0)), "metrics": metrics})
    summary = {"model": a.model, "preset": a.preset, "dataset": run.data.name, "steps": int(last.get("step", 0)),
               "seconds": round(time.perf_counter() - t0, 2), "train_seconds": round(last.get("seconds", 0.0), 2),
               "images_per_s": round(last.get("images_per_s", 0.0), 1), "device": str(run.device),
               "threads": torch.get_num_threads()}
    keys = ("val_acc", "val_loss") if a.model == "cnn" else ("loss_d", "loss_g", "d_x", "d_g_z")
    summary.update({k: round(metrics[k], 4) for k in keys if k in metrics})
    if hint:
        summary["hint"] = hint
        print(f"hint: {hint}", file=sys.stderr)
    summary["checkpoint"] = str(path) if path else None
    print(json.dumps(summary))
    if error:
        print(f"error: {error}", file=sys.stderr)
        return 1 if path else 2
    return 0


def cmd_classify(a) -> int:
    from imgai.inference.classify import load_classifier
    from imgai.data.intake import ImageError, open_image
    clf = load_classifier(a.weights)
    failed = 0
    for f in a.files:
        try:
            result = {"file": f, **clf.predict(open_image(f, name=Path(f).name), top=a.top)}
        except ImageError as e:
            result, failed = {"file": f, "error": str(e)}, failed + 1
        print(json.dumps(result), flush=True)
    return 1 if failed else 0


def _generator(weights):
    from imgai.models.checkpoint import CheckpointError, load_checkpoint
    model, meta = load_checkpoint(weights)
    if meta["kind"] != "dcgan":
        raise CheckpointError(f"{weights} is a {meta['kind']} model, not a generator (dcgan)")
    return model.generator, model.config.nz


def _write_images(images: np.ndarray, out: str, gif=False):
    """images uint8 (N, H, W, C): .npy keeps them (C dropped for grey); .png is a grid; .gif an animation."""
    from PIL import Image

    from imgai.grids import gif_bytes, make_grid
    images = images[..., 0] if images.shape[-1] == 1 else images
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    suffix = out.suffix.lower()
    if suffix == ".npy":
        np.save(out, images, allow_pickle=False)
    elif suffix == ".png" and not gif:
        Image.fromarray(make_grid(images)).save(out)
    elif suffix == ".gif" and gif:
        out.write_bytes(gif_bytes(images))
    else:
        raise ValueError(f"cannot write {out.name}: use {'.gif' if gif else '.png'} or .npy")
    return out


def _class_index(label: str, class_names: list) -> int:
    if label in class_names:
        return class_names.index(label)
    if label.lstrip("-").isdigit() and 0 <= int(label) < len(class_names):
        return int(label)
    raise ValueError(f"--label {label}: not a class of this model ({', '.join(map(str, class_names))})")


def _conditional_samples(a) -> np.ndarray:
    """Samples of a class-conditional GAN: all of class --label, or every class in turn without it."""
    import torch

    from imgai.models.checkpoint import load_checkpoint
    from imgai.inference.latent import seed_latents
    from imgai.models.sampling import grid_labels, sample_images
    model, meta = load_checkpoint(a.weights)
    if meta["kind"] != "cdcgan":
        raise ValueError(f"--label needs a class-conditional GAN (cdcgan); {a.weights} is a {meta['kind']} model")
    names = [str(c) for c in meta["class_names"]]
    labels = (torch.full((a.n,), _class_index(a.label, names), dtype=torch.long) if a.label is not None
              else grid_labels(a.n, len(names)))
    return sample_images(model.generator, seed_latents(a.seed, a.n, model.config.nz), labels)


def cmd_generate(a) -> int:
    from imgai.models.checkpoint import read_meta
    from imgai.inference.latent import seed_latents
    from imgai.models.sampling import sample_images
    if a.label is not None or read_meta(a.weights)["kind"] == "cdcgan":
        images = _conditional_samples(a)
    else:
        G, nz = _generator(a.weights)
        images = sample_images(G, seed_latents(a.seed, a.n, nz))
    out = _write_images(images, a.out)
    print(json.dumps({"out": str(out), "n": a.n, "seed": a.seed, **({"label": a.label} if a.label is not None else {})}))
    return 0


def cmd_interpolate(a) -> int:
    from imgai.inference.latent import interpolate, seed_latent
    from imgai.models.sampling import sample_images
    G, nz = _generator(a.weights)
    if a.steps < 2:
        raise ValueError("--steps must be at least 2")
    z = interpolate(seed_latent(a.seeds[0], nz), seed_latent(a.seeds[1], nz), a.steps, a.method)
    out = _write_images(sample_images(G, z), a.out, gif=True)
    print(json.dumps({"out": str(out), "steps": a.steps, "seeds": a.seeds, "method": a.method}))
    return 0


def add_experiment_parsers(sub):
    """The Experiments page's commands: sweep and augment-experiment (each sets its own func)."""
    s = sub.add_parser("sweep", help="train a grid of one or two knobs with k-fold cross-validation; ranks the settings")
    s.add_argument("--knob", action="append", required=True, metavar="NAME=V1,V2",
                   help="lr | batch_size | optimizer | weight_decay | augment | dropout, with a few values; once or twice")
    s.add_argument("--folds", type=int, default=3, help="k of k-fold cross-validation; 1 = the fixed validation split")
    s.add_argument("--epochs", type=_positive(float), default=2.0, help="epochs per run")
    s.add_argument("--preset", choices=["fast", "textbook"], default="fast")
    s.add_argument("--dataset", default="digits")
    s.add_argument("--seed", type=int, default=0)
    s.set_defaults(func=cmd_sweep)
    e = sub.add_parser("augment-experiment", help="train the CNN on a few real images per class, with and without "
                                                  "generated images added; validation accuracy over seeds")
    e.add_argument("--per-class", type=_positive(int), nargs="+", default=[10, 50, 100])
    e.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    e.add_argument("--generated-per-class", type=_positive(int), default=100)
    e.add_argument("--steps", type=_positive(int), default=300, help="optimiser steps per training")
    e.add_argument("--generator", default="weights/digits-dcgan", help="a dcgan (labelled by a classifier) or cdcgan")
    e.add_argument("--labeller", choices=["shipped", "self"], default="shipped",
                   help="who labels a plain GAN's samples: the shipped digits CNN, or the few-shot CNN itself")
    e.add_argument("--threshold", type=float, default=0.9, help="keep a sample its labeller is this sure of")
    e.add_argument("--pool", type=_positive(int), default=3000, help="plain GAN samples drawn and labelled")
    e.add_argument("--dataset", default="digits")
    e.set_defaults(func=cmd_augment_experiment)


def _progress_bar(total: int):
    from tqdm import tqdm
    return tqdm(total=total, file=sys.stderr, unit="‰", bar_format="{l_bar}{bar}| {elapsed}<{remaining} {postfix}",
                mininterval=0.5)


def cmd_sweep(a) -> int:
    from imgai.experiments.sweep import SweepSpec, parse_knob, prepare_sweep, summarize
    knobs = dict(parse_knob(k) for k in a.knob)
    if len(knobs) != len(a.knob):
        raise ValueError("each knob may be given once")
    sweep = prepare_sweep(SweepSpec(knobs=knobs, folds=a.folds, epochs=a.epochs, preset=a.preset,
                                    dataset=a.dataset, seed=a.seed))
    rows, t0 = [], time.perf_counter()
    with _progress_bar(1000) as bar:
        for m in sweep.loop():
            rows.append(m)
            bar.update(int(m["progress"] * 1000) - bar.n)
            bar.set_postfix({"run": f"{m['setting'] * max(1, a.folds) + m['fold'] + 1}/{sweep.n_runs}"}, refresh=False)
    summary = summarize(rows, sweep.spec)
    summary.update(dataset=sweep.data.name, runs=sweep.n_runs, seconds=round(time.perf_counter() - t0, 2),
                   device=str(sweep.device))
    print(json.dumps(summary))
    return 0


def cmd_augment_experiment(a) -> int:
    from imgai.experiments.augment_experiment import AugmentSpec, prepare_experiment, summarize
    from imgai.data.datasets import load_dataset
    spec = AugmentSpec(per_class=a.per_class, seeds=a.seeds, generated_per_class=a.generated_per_class,
                       steps=a.steps, generator=a.generator, labeller=a.labeller, threshold=a.threshold,
                       pool=a.pool)
    exp = prepare_experiment(spec, load_dataset(a.dataset))
    rows, t0 = [], time.perf_counter()
    with _progress_bar(1000) as bar:
        for m in exp.loop():
            rows.append(m)
            bar.update(int(m["progress"] * 1000) - bar.n)
            if "val_acc" in m:
                print(json.dumps({k: m[k] for k in ("per_class", "seed", "mode", "val_acc", "generated") if k in m}),
                      flush=True)
    summary = summarize(rows, spec)
    summary.update(dataset=exp.data.name, seconds=round(time.perf_counter() - t0, 2), device=str(exp.device))
    print(json.dumps(summary))
    return 0


def main(argv=None) -> int:
    from imgai.models.checkpoint import CheckpointError
    from imgai.data.datasets import DatasetError
    from imgai.training.config import TrainingDiverged
    args = build_parser().parse_args(argv)
    from imgai.device import configure_threads
    configure_threads()
    try:
        return {"train": cmd_train, "classify": cmd_classify, "generate": cmd_generate,
                "interpolate": cmd_interpolate}.get(args.command, getattr(args, "func", None))(args)
    except (CheckpointError, DatasetError, TrainingDiverged, ValueError, OSError) as e:
        line = (str(e).strip().splitlines() or [type(e).__name__])[0]
        print(f"error: {line}", file=sys.stderr)  # one line, no traceback: these are the user's to fix
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
