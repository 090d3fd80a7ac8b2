"""The command line: train, classify, generate and interpolate, as scripts and tests use them.

    python -m imgai train --model cnn --dataset digits --seconds 30 --out models/digits-cnn

Human-readable progress goes to stderr; stdout carries JSON only (one object per line), so the output
of every command can be piped into another program.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np


def _positive(kind):
    def parse(text):
        v = kind(text)
        if not v > 0:
            raise argparse.ArgumentTypeError(f"must be positive, not {text}")
        return v
    return parse


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m imgai", description="Train, classify and generate images.")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train a CNN classifier or a (class-conditional) DCGAN; writes OUT.safetensors + OUT.json")
    t.add_argument("--model", choices=["cnn", "dcgan", "cdcgan"], required=True)
    t.add_argument("--preset", choices=["fast", "textbook"], default="fast")
    t.add_argument("--dataset", default="digits", help="digits | mnist | fashion-mnist | cifar10 | folder:PATH")
    budget = t.add_mutually_exclusive_group()
    budget.add_argument("--epochs", type=_positive(float))
    budget.add_argument("--seconds", type=_positive(float), help="a time budget instead of epochs")
    t.add_argument("--batch-size", type=_positive(int))
    t.add_argument("--lr", type=_positive(float))
    t.add_argument("--optimizer", choices=["adam", "sgd", "rmsprop"])
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--out", required=True, help="checkpoint path, without extension")
    c = sub.add_parser("classify", help="classify image files; one JSON line per file")
    c.add_argument("--weights", required=True, help="a checkpoint path, or 'imagenet' for photos of anything")
    c.add_argument("--top", type=_positive(int), default=5)
    c.add_argument("files", nargs="+")
    g = sub.add_parser("generate", help="draw samples from a trained GAN")
    g.add_argument("--weights", required=True)
    g.add_argument("--n", type=_positive(int), default=64)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--label", help="class-conditional GAN (cdcgan): the class to draw, by name or index "
                                   "(default: every class in turn)")
    g.add_argument("--out", required=True, help=".png (a grid) or .npy (uint8 samples)")
    i = sub.add_parser("interpolate", help="walk the latent space between two seeds")
    i.add_argument("--weights", required=True)
    i.add_argument("--seeds", type=int, nargs=2, required=True, metavar=("A", "B"))
    i.add_argument("--steps", type=_positive(int), default=8)
    i.add_argument("--method", choices=["slerp", "lerp"], default="slerp")
    i.add_argument("--out", required=True, help=".gif or .npy")
    return p


def cmd_train(a) -> int:
    from dataclasses import replace

    from tqdm import tqdm

    from .runs import RunSpec, default_train_config, prepare_run
    cfg = default_train_config(a.model, a.preset)
    changes = {k: v for k, v in dict(batch_size=a.batch_size, lr=a.lr, optimizer=a.optimizer).items() if v}
    if a.seconds:
        changes.update(seconds=a.seconds, epochs=None)
    elif a.epochs:
        changes.update(epochs=a.epochs)
    cfg = replace(cfg, seed=a.seed, **changes)
    run = prepare_run(RunSpec(model=a.model, preset=a.preset, dataset=a.dataset, train=cfg))
    last, t0 = {}, time.perf_counter()
    with tqdm(total=1000, file=sys.stderr, unit="‰", bar_format="{l_bar}{bar}| {elapsed}<{remaining} {postfix}",
              mininterval=0.5) as bar:
        for m in run.loop():
            if "event" in m:
                continue
            last.update(m)
            bar.update(int(m["progress"] * 1000) - bar.n)
            shown = {k: f"{last[k]:.3g}" for k in ("loss", "val_acc", "loss_d", "loss_g") if k in last}
            bar.set_postfix(shown, refresh=False)
    from .checkpoint import save_checkpoint
    metrics = {k: v for k, v in last.items() if isinstance(v, float)}
    path = save_checkpoint(a.out, run.model, {**run.meta, "step": int(last.get("step", 0)), "metrics": metrics})
    summary = {"model": a.model, "preset": a.preset, "dataset": run.data.name, "steps": int(last.get("step", 0)),
               "seconds": round(time.perf_counter() - t0, 2), "train_seconds": round(last.get("seconds", 0.0), 2),
               "images_per_s": round(last.get("images_per_s", 0.0), 1), "device": str(run.device)}
    keys = ("val_acc", "val_loss") if a.model == "cnn" else ("loss_d", "loss_g", "d_x", "d_g_z")
    summary.update({k: round(last[k], 4) for k in keys if k in last})
    summary["checkpoint"] = str(path)
    print(json.dumps(summary))
    return 0


def cmd_classify(a) -> int:
    from .classify import load_classifier
    from .vision import ImageError, open_image
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
    from .checkpoint import CheckpointError, load_checkpoint
    model, meta = load_checkpoint(weights)
    if meta["kind"] != "dcgan":
        raise CheckpointError(f"{weights} is a {meta['kind']} model, not a generator (dcgan)")
    return model.generator, model.config.nz


def _write_images(images: np.ndarray, out: str, gif=False):
    """images uint8 (N, H, W, C): .npy keeps them (C dropped for grey); .png is a grid; .gif an animation."""
    from PIL import Image

    from .grids import gif_bytes, make_grid
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

    from .checkpoint import load_checkpoint
    from .latent import seed_latents
    from .train import grid_labels, sample_images
    model, meta = load_checkpoint(a.weights)
    if meta["kind"] != "cdcgan":
        raise ValueError(f"--label needs a class-conditional GAN (cdcgan); {a.weights} is a {meta['kind']} model")
    names = [str(c) for c in meta["class_names"]]
    labels = (torch.full((a.n,), _class_index(a.label, names), dtype=torch.long) if a.label is not None
              else grid_labels(a.n, len(names)))
    return sample_images(model.generator, seed_latents(a.seed, a.n, model.config.nz), labels)


def cmd_generate(a) -> int:
    from .checkpoint import read_meta
    from .latent import seed_latents
    from .train import sample_images
    if a.label is not None or read_meta(a.weights)["kind"] == "cdcgan":
        images = _conditional_samples(a)
    else:
        G, nz = _generator(a.weights)
        images = sample_images(G, seed_latents(a.seed, a.n, nz))
    out = _write_images(images, a.out)
    print(json.dumps({"out": str(out), "n": a.n, "seed": a.seed, **({"label": a.label} if a.label is not None else {})}))
    return 0


def cmd_interpolate(a) -> int:
    from .latent import interpolate, seed_latent
    from .train import sample_images
    G, nz = _generator(a.weights)
    if a.steps < 2:
        raise ValueError("--steps must be at least 2")
    z = interpolate(seed_latent(a.seeds[0], nz), seed_latent(a.seeds[1], nz), a.steps, a.method)
    out = _write_images(sample_images(G, z), a.out, gif=True)
    print(json.dumps({"out": str(out), "steps": a.steps, "seeds": a.seeds, "method": a.method}))
    return 0


def main(argv=None) -> int:
    from .checkpoint import CheckpointError
    from .data import DatasetError
    from .train import TrainingDiverged
    args = build_parser().parse_args(argv)
    from .device import configure_threads
    configure_threads()
    try:
        return {"train": cmd_train, "classify": cmd_classify, "generate": cmd_generate,
                "interpolate": cmd_interpolate}[args.command](args)
    except (CheckpointError, DatasetError, TrainingDiverged, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)  # one line, no traceback: these are the user's to fix
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
