"""Judge saved generators with the digits CNN: Fréchet distance to the held-out digits (beside the floor of
real digits), class coverage, readability and, for a class-conditional GAN, how often it draws the asked class.

    PYTHONPATH=. python bench/judge.py weights/digits-dcgan weights/digits-cdcgan [--record gan-shipped]
    PYTHONPATH=. python bench/judge.py weights/cifar10-dcgan --judge weights/cifar10-cnn --dataset cifar10-5k \
        --record gan-shipped-cifar

Prints one JSON line per checkpoint; with --record NAME, writes bench/results/NAME.json (bench/record.py)
with a README row per checkpoint. The figures are deterministic for a checkpoint: fixed seeds throughout.
"""
import argparse
import json
from pathlib import Path

import torch
from record import add_dry_run, record

from imgai.models.checkpoint import load_checkpoint
from imgai.inference.classify import load_classifier
from imgai.data.datasets import load_dataset
from imgai.inference.quality import conditional_accuracy, generator_quality, real_floor


def judge(path: str, clf, data, n: int = 1000) -> dict:
    gan, meta = load_checkpoint(path)
    g, nz, k = gan.generator, gan.config.nz, len(data.class_names)
    out = {"weights": path, "kind": meta["kind"], "step": meta.get("step"), "train": meta.get("train")}
    if meta["kind"] == "cdcgan":
        out["asked_class"] = conditional_accuracy(g, nz, clf, k, per_class=n // k)
        out.update(generator_quality(g, nz, clf, data.val_x, n=n, labels=torch.arange(n) % k))
    else:
        out.update(generator_quality(g, nz, clf, data.val_x, n=n))
    return out


def main():
    ap = add_dry_run(argparse.ArgumentParser())
    ap.add_argument("weights", nargs="+")
    ap.add_argument("--judge", default="weights/digits-cnn", help="the classifier whose features and labels judge")
    ap.add_argument("--dataset", default="digits", help="the data set whose held-out images are the reference")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--record", metavar="NAME", help="write bench/results/NAME.json")
    a = ap.parse_args()
    if a.dry_run:
        a.n = 100
    torch.set_num_threads(1)
    data, clf = load_dataset(a.dataset), load_classifier(a.judge)
    floors = [real_floor(clf, data.train_x, data.val_x, n=a.n, seed=s) for s in range(3)]
    floor = sum(f["distance"] for f in floors) / len(floors)
    results = []
    for w in a.weights:
        r = judge(w, clf, data, a.n)
        r["times_floor"] = r["distance"] / floor
        results.append(r)
        print(json.dumps({k: v for k, v in r.items() if k != "train"}), flush=True)
    if a.record or a.dry_run:
        rows = []
        for r in results:
            name = Path(r["weights"]).name
            rows.append((f"{name}: Fréchet distance (× the real-image floor, {Path(a.judge).name} features) · read ≥ 90% · "
                         f"classes",
                         f"{r['distance']:.0f} ({r['times_floor']:.1f}×) · {r['readable']:.0%} · {r['classes']}"))
            if "asked_class" in r:
                rows.append((f"{name}: samples read as the asked digit, mean · worst digit",
                             f"{r['asked_class']['mean']:.1%} · {r['asked_class']['min']:.1%}"))
        rows.append((f"Fréchet distance floor ({Path(a.judge).name} features): {a.n:,} real {data.name} training images vs "
                     f"the {len(data.val_x):,} held-out (mean of 3 draws)",
                     f"{floor:.0f}"))
        record(a.record or "judge", {"n": a.n, "floor": {"mean": floor, "draws": floors}, "generators": results},
               readme=rows, dry_run=a.dry_run)


if __name__ == "__main__":
    main()
