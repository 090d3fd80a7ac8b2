"""The Experiments page's two measured questions, on the bundled digits:
1. Does adding generated digits help a CNN trained on few real ones? (imgai.experiments.augment_experiment)
2. Which learning rate, by 3-fold cross-validation? (imgai.experiments.sweep)

    PYTHONPATH=. python bench/bench_experiments.py [--steps 200] [--seeds 0 1 2] [--dry-run]

Writes bench/results/experiments.json. The generated images come from weights/digits-dcgan, labelled by the
shipped weights/digits-cnn above 0.9 confidence (both learned from all 4,500 training digits: see the
module docstring of imgai/experiments/augment_experiment.py for what that means for the answer).
"""
import argparse
import json
import sys
import time
from dataclasses import replace

from record import add_dry_run, record

from imgai.experiments.augment_experiment import AugmentSpec, prepare_experiment
from imgai.experiments.augment_experiment import summarize as summarize_experiment
from imgai.data.datasets import load_dataset
from imgai.device import configure_threads, pick_device
from imgai.experiments.sweep import SweepSpec, prepare_sweep, summarize


def main():
    ap = add_dry_run(argparse.ArgumentParser())
    ap.add_argument("--per-class", type=int, nargs="+", default=[10, 50, 100])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--steps", type=int, default=200, help="optimiser steps per training (batch 64)")
    ap.add_argument("--labeller", choices=["shipped", "self"], default="shipped")
    ap.add_argument("--sweep-lr", type=float, nargs="+", default=[3e-4, 3e-3, 3e-2])
    ap.add_argument("--sweep-epochs", type=float, default=1.0)
    ap.add_argument("--skip-sweep", action="store_true")
    a = ap.parse_args()
    configure_threads()
    data, device = load_dataset("digits"), pick_device()
    if a.dry_run:  # tiny: proves the path runs
        a.per_class, a.seeds, a.steps, a.sweep_lr, a.sweep_epochs = [2], [0], 2, [1e-3, 1e-2], 0.02
        data = replace(data, train_x=data.train_x[:400], train_y=data.train_y[:400], val_x=data.val_x[:50],
                       val_y=data.val_y[:50])
    spec = AugmentSpec(per_class=a.per_class, seeds=a.seeds, steps=a.steps, labeller=a.labeller,
                       pool=300 if a.dry_run else 3000, generated_per_class=5 if a.dry_run else 100)
    t0 = time.perf_counter()
    rows = []
    for m in prepare_experiment(spec, data, device).loop():
        rows.append(m)
        if "mode" in m:  # one line per training on stderr, to follow a long run
            print(json.dumps({k: m[k] for k in ("per_class", "seed", "mode", "val_acc", "seconds") if k in m}),
                  file=sys.stderr, flush=True)
    exp = summarize_experiment(rows, spec)
    exp["wall_s"] = round(time.perf_counter() - t0, 1)
    figures = {"augment": exp}
    readme = []
    by = {(s["per_class"], s["mode"]): s for s in exp["settings"]}
    for n in a.per_class:
        real, both = by[(n, "real")], by[(n, "real+generated")]
        readme.append((f"CNN on {n} real digits/class, {a.steps} steps: val. accuracy without / with "
                       f"{spec.generated_per_class} generated per class ({a.labeller} labeller, {len(a.seeds)} seeds)",
                       f"{real['mean']:.1%} ± {real['spread']:.1%} / {both['mean']:.1%} ± {both['spread']:.1%}"))
    if not a.skip_sweep:
        sspec = SweepSpec(knobs={"lr": a.sweep_lr}, folds=2 if a.dry_run else 3, epochs=a.sweep_epochs)
        t0 = time.perf_counter()
        sweep = prepare_sweep(sspec, data, device)
        out = summarize(list(sweep.loop()), sspec)
        out["wall_s"] = round(time.perf_counter() - t0, 1)
        figures["sweep"] = out
        best = out["best"]
        readme.append((f"Sweep of the fast CNN's learning rate, {sspec.folds}-fold cross-validation, "
                       f"{a.sweep_epochs:g} epoch per run: best", f"{best['label']}: {best['mean']:.1%} ± "
                                                                   f"{best['spread']:.1%}"))
    # the default run keeps the name the page reads; other labellers are written beside it
    name = "experiments" if a.labeller == "shipped" else f"experiments-{a.labeller}-labelled"
    record(name, figures, readme=readme, device=str(device), dry_run=a.dry_run,
           note="measured on a 2-core machine shared with 7 other busy helpers: seconds are slow and noisy; "
                "accuracies do not depend on the load")


if __name__ == "__main__":
    main()
