"""Validation accuracy of the fast CNN preset beside the textbook network, on digits and on cifar10-5k:
after a 60-s time budget, and after a full run of each preset's own epochs (with the seconds it took to
reach a target accuracy), all in one process so the presets share the machine's state.

    PYTHONPATH=. python bench/bench_cnn.py [--budget 60] [--datasets digits cifar10-5k] [--dry-run]

Seconds are training time only (validation excluded), as the job runner counts them; every epoch end is
scored on the data set's 500 held-out images. Writes bench/results/cnn.json (cnn-cuda.json on a GPU).
"""
import argparse
import time
from dataclasses import replace

from record import add_dry_run, load_note, record

from imgai.data.datasets import load_dataset
from imgai.device import configure_threads, pick_device
from imgai.training.runs import RunSpec, default_train_config, prepare_run

TARGETS = {"digits": 0.98, "cifar10-5k": 0.60}  # the "seconds to" accuracy per data set


def train_and_score(data, preset: str, device, seconds=None, epochs=None, target=None) -> dict:
    """One run of a preset (its own settings for this data set), with a time budget or a number of epochs."""
    cfg = default_train_config("cnn", preset, data.name)
    cfg = replace(cfg, seconds=seconds, epochs=None) if seconds else replace(cfg, epochs=epochs or cfg.epochs)
    run = prepare_run(RunSpec("cnn", preset, dataset=data.name, train=cfg), data=data, device=device)
    reached, best, last, wall = None, 0.0, {}, time.perf_counter()
    for m in run.loop():
        if "val_acc" not in m:
            continue
        last, best = m, max(best, m["val_acc"])
        if reached is None and target and m["val_acc"] >= target:
            reached = round(m["seconds"], 1)
    return {"preset": preset, "dataset": data.name, "budget_s": seconds, "epochs": round(last["epoch"], 2),
            "val_acc": round(last["val_acc"], 4), "best_val_acc": round(best, 4), "target": target,
            "seconds_to_target": reached, "train_s": round(last["seconds"], 1),
            "images_per_s": round(last["images_per_s"], 1), "wall_s": round(time.perf_counter() - wall, 1)}


def main():
    ap = add_dry_run(argparse.ArgumentParser())
    ap.add_argument("--budget", type=float, default=60, help="training seconds of the time-budget runs")
    ap.add_argument("--datasets", nargs="+", default=list(TARGETS))
    a = ap.parse_args()
    threads = configure_threads()
    device = pick_device()
    budget, full_epochs = (1, 0.03) if a.dry_run else (a.budget, None)
    figures, rows = [], []
    for name in a.datasets:
        data = load_dataset(name)
        target = TARGETS.get(name)
        res = {}
        for preset in ("fast", "textbook"):
            res[preset, "budget"] = train_and_score(data, preset, device, seconds=budget)
            res[preset, "full"] = train_and_score(data, preset, device, epochs=full_epochs, target=target)
            figures += [res[preset, "budget"], res[preset, "full"]]
        fb, tb, ff, tf = res["fast", "budget"], res["textbook", "budget"], res["fast", "full"], res["textbook", "full"]
        rows.append((f"CNN on {name}: validation accuracy after {budget:g} s of training, fast preset (textbook)",
                     f"{fb['val_acc']:.1%} ({tb['val_acc']:.1%})"))
        rows.append((f"CNN on {name}: validation accuracy after a full run, fast preset {ff['epochs']:g} epochs "
                     f"in {ff['train_s']:g} s (textbook {tf['epochs']:g} epochs in {tf['train_s']:g} s)",
                     f"{ff['val_acc']:.1%} ({tf['val_acc']:.1%})"))
        if target:
            shown = lambda r: f"{r['seconds_to_target']:g} s" if r["seconds_to_target"] else "not reached"
            rows.append((f"CNN on {name}: training seconds to {target:.0%} in the full run, fast preset (textbook)",
                         f"{shown(ff)} ({shown(tf)})"))
    name = "cnn" if device.type == "cpu" else f"cnn-{device.type}"  # a GPU run never overwrites the CPU figures
    rows = [(f"{what} [{device.type}]", fig) for what, fig in rows] if device.type != "cpu" else rows
    record(name, figures, readme=rows, device=str(device), dry_run=a.dry_run,
           note=(f"{threads} intra-op thread(s)" if device.type == "cpu" else f"one {device.type} device")
                + f"; {load_note()}; accuracies are per run (one seed)")


if __name__ == "__main__":
    main()
