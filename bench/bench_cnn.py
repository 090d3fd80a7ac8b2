"""Seconds to 98% validation accuracy on the bundled digits: the fast CNN preset vs the textbook one.

    python bench/bench_cnn.py [--budget 30] [--target 0.98]

Both train in this process under the same time budget (training time only, validation excluded, as the
job runner counts it); each epoch end is scored on the 500 held-out digits.
"""
import argparse
import json
import time

from imgai.data import load_dataset
from imgai.device import configure_threads, pick_device
from imgai.runs import RunSpec, default_train_config, prepare_run


def time_to_accuracy(preset: str, data, budget: float, target: float, device) -> dict:
    cfg = default_train_config("cnn", preset)
    run = prepare_run(RunSpec("cnn", preset, train=cfg), data=data, device=device)
    reached, best, last, wall = None, 0.0, {}, time.perf_counter()
    for m in run.loop():
        if "val_acc" not in m:
            continue
        last, best = m, max(best, m["val_acc"])
        if reached is None and m["val_acc"] >= target:
            reached = m["seconds"]
        if m["seconds"] > budget:
            break
    return {"preset": preset, "seconds_to_target": reached and round(reached, 1), "best_val_acc": best,
            "final_val_acc": last.get("val_acc"), "epochs": round(last.get("epoch", 0), 1),
            "images_per_s": round(last.get("images_per_s", 0), 1), "wall_s": round(time.perf_counter() - wall, 1)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=float, default=60, help="stop a preset after this many training seconds")
    ap.add_argument("--target", type=float, default=0.98)
    a = ap.parse_args()
    configure_threads()
    data, device = load_dataset("digits"), pick_device()
    for preset in ("fast", "textbook"):
        print(json.dumps({"device": str(device), "target": a.target, **time_to_accuracy(preset, data, a.budget, a.target, device)}), flush=True)


if __name__ == "__main__":
    main()
