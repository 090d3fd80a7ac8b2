"""CIFAR-10 in a CPU minute: the fast preset's colour settings (airbench's levers, imgai.training.presets: the cnn fast preset's colour_train)
lever by lever, beside the earlier fast preset, several seeds each, all in one process so they share the machine.

    PYTHONPATH=. python bench/bench_cifar.py [--budget 60] [--seeds 0 1 2] [--dataset cifar10-5k] [--dry-run]

Each run trains for --budget seconds (training time only, as the job runner counts it) and is scored on the data
set's held-out images (cifar10-5k: 500 images, 50 per class, never trained on) three ways: without test-time
augmentation, with flips, and with flips + 1-px moves (imgai.models.tta), so every run also measures TTA.
"all" is the preset itself; each "no X" run is the preset with that one lever taken out (leave-one-out: the
levers lean on each other, e.g. the biases' 64x rate is set for SGD's, so each is measured where it is used).
Beside them, in the same run and on the same threads, the seed's own Keras program (bench/bench_keras.py's
KERAS_PROGRAM in --keras-python's interpreter) trains for the same budget and is scored on the same images.
Seeds run in the outer loop and the file is rewritten after each, so a stopped run keeps its finished seeds.
Writes bench/results/cifar.json.
"""
import argparse
import os
import statistics
import time
from dataclasses import replace

from bench_keras import DEFAULT_KERAS_PYTHON, keras_epochs
from record import add_dry_run, load_note, record

from imgai.data.datasets import load_dataset
from imgai.device import configure_threads
from imgai.models.tta import TTA_MODES
from imgai.training.config import TrainConfig
from imgai.training.runs import RunSpec, default_train_config, prepare_run
from imgai.training.classifier import evaluate

# What cifar10-5k's fast preset was before the colour settings: the small-data CIFAR recipe of random 4-px crops
# and mirroring plus label smoothing 0.1 on the grey-image network; the baseline every lever is measured beside.
EARLIER_CIFAR_PRESET = TrainConfig(epochs=15, batch_size=64, lr=3e-3, schedule="onecycle", augment=True,
                                   augment_style="crop", label_smoothing=0.1)
# The earlier fast network for colour images (imgai.models.cnn.fast before the colour settings)
EARLIER_NET = {"whiten": 0, "bn_scale": True, "pool_early": False, "global_pool": False, "logit_scale": 1.0,
               "hidden": 128, "dropout": 0.25}


def variants(preset):
    """name → (train config, model overrides): all of airbench's levers, each lever taken out in turn (one of
    these, 'no BN-bias lr x64', is the fast preset itself), the earlier preset."""
    ab, scale_free = replace(preset, bn_bias_lr_scale=64), {"bn_scale": False}  # airbench's batch norm
    return {
        "all": (ab, scale_free),
        "no whitening (a learned first conv)": (ab, {**scale_free, "whiten": 0}),
        "no BN-bias lr x64, BN scale learned": (preset, {}),   # the fast preset's colour settings
        "no label smoothing": (replace(ab, label_smoothing=0.0), scale_free),
        "Adam 3e-3 one-cycle instead of Nesterov SGD triangle": (
            replace(ab, optimizer="adam", lr=3e-3, weight_decay=0.0, schedule="onecycle", bn_bias_lr_scale=1),
            scale_free),
        "no lookahead": (replace(ab, lookahead=False), scale_free),
        "random mirror + 4-px crops instead of alternating mirror + 2-px": (replace(ab, augment_style="crop"),
                                                                             scale_free),
        "earlier fast preset": (replace(EARLIER_CIFAR_PRESET, tta="none"), EARLIER_NET),
    }


def train_and_score(data, cfg, overrides, budget) -> dict:
    cfg = replace(cfg, seconds=budget, epochs=None)
    run = prepare_run(RunSpec("cnn", "fast", dataset=data.name, train=cfg, model_overrides=overrides), data=data,
                      device="cpu")
    wall, last = time.perf_counter(), {}
    for m in run.loop():
        if "val_acc" in m:
            last = m
    scores = {mode: round(evaluate(run.model, data.val_x, data.val_y, data.mean, data.std, tta=mode)[0], 4)
              for mode in TTA_MODES}
    return {"seed": cfg.seed, "epochs": round(last["epoch"], 2), "train_s": round(last["seconds"], 1),
            "images_per_s": round(last["images_per_s"], 1), "wall_s": round(time.perf_counter() - wall, 1),
            **{f"val_acc_tta_{mode}": acc for mode, acc in scores.items()}}


def summary(rows: list) -> dict:
    out = {"seeds": len(rows)}
    for mode in TTA_MODES:
        accs = [r[f"val_acc_tta_{mode}"] for r in rows]
        out[f"mean_tta_{mode}"] = round(statistics.mean(accs), 4)
        out[f"sd_tta_{mode}"] = round(statistics.stdev(accs), 4) if len(accs) > 1 else None
    out["mean_epochs"] = round(statistics.mean(r["epochs"] for r in rows), 2)
    return out


def main():
    ap = add_dry_run(argparse.ArgumentParser())
    ap.add_argument("--budget", type=float, default=60, help="training seconds per run")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--dataset", default="cifar10-5k", help="any colour data set: cifar10-5k, cifar10, folder:PATH")
    ap.add_argument("--only", nargs="+", help="run only these variants (names as in the results)")
    ap.add_argument("--name", default="cifar", help="results file name: bench/results/NAME.json")
    ap.add_argument("--keras-python", default=os.environ.get("KERAS_PYTHON") or DEFAULT_KERAS_PYTHON,
                    help="an interpreter with TensorFlow for the seed's program (skipped when it is not there)")
    a = ap.parse_args()
    threads = configure_threads()
    data = load_dataset(a.dataset)
    budget, seeds = (1, [0]) if a.dry_run else (a.budget, a.seeds)
    if a.dry_run:  # a few images, so the dry run proves the path in seconds
        data = replace(data, train_x=data.train_x[:256], train_y=data.train_y[:256], val_x=data.val_x[:50],
                       val_y=data.val_y[:50])
    preset = default_train_config("cnn", "fast", data.name, data.channels)
    chosen = {k: v for k, v in variants(preset).items() if not a.only or k in a.only}
    keras = a.keras_python if os.path.isfile(a.keras_python) and data.name == "cifar10-5k" and not a.dry_run else None
    runs, keras_runs = {name: [] for name in chosen}, []
    for seed in seeds:
        for name, (cfg, overrides) in chosen.items():
            runs[name].append(train_and_score(data, replace(cfg, seed=seed), overrides, budget))
        if keras:
            _, _, acc, info = keras_epochs(keras, 10_000, threads, budget_s=budget, seed=seed)
            keras_runs.append({"seed": seed, "train_s": round(info["trained_s"], 1), "steps": info["steps"],
                               "epochs": round(info["steps"] * 32 / len(data.train_y), 2), "val_acc": round(acc, 4)})
        figures = [{"variant": name, **summary(rows), "runs": rows} for name, rows in runs.items()]
        if keras_runs:
            accs = [r["val_acc"] for r in keras_runs]
            figures.append({"variant": "the seed's Keras program", "seeds": len(accs),
                            "mean": round(statistics.mean(accs), 4),
                            "sd": round(statistics.stdev(accs), 4) if len(accs) > 1 else None, "runs": keras_runs})
        readme = []
        for name, mode, what in (("no BN-bias lr x64, BN scale learned", preset.tta, "the fast preset's colour settings"),
                                 ("no BN-bias lr x64, BN scale learned", "none", "the same runs scored without test-time augmentation"),
                                 ("all", preset.tta, "all of airbench's levers"),
                                 ("earlier fast preset", "none", "the earlier fast preset")):
            if name in runs:
                m = summary(runs[name])
                readme.append((f"CNN on {data.name} after {budget:g} s of training ({threads} thread), {what}: accuracy "
                               f"on the {len(data.val_y)} held-out images, mean ± sd of {m['seeds']} seeds",
                               f"{m[f'mean_tta_{mode}']:.1%} ± {(m[f'sd_tta_{mode}'] or 0):.1%}"))
        preset_name = "no BN-bias lr x64, BN scale learned"
        if keras_runs and preset_name in runs:
            ours = [r[f"val_acc_tta_{preset.tta}"] for r in runs[preset_name]]
            theirs = [r["val_acc"] for r in keras_runs]
            readme.append((f"The seed's Keras program (the TensorFlow CIFAR-10 tutorial) in the same run, {budget:g} s on "
                           f"{threads} thread: accuracy on the same held-out images, mean of {len(theirs)} seeds; "
                           "imgai's fast preset above it",
                           f"{statistics.mean(theirs):.1%} (imgai "
                           f"{100 * (statistics.mean(ours) - statistics.mean(theirs)):+.1f} points)"))
        record(a.name, figures, readme=readme, dry_run=a.dry_run,
               note=f"{threads} intra-op thread(s); {load_note()}; accuracies on {len(data.val_y)} held-out images of "
                    f"{data.name} (no CIFAR-10 test set on this machine); 'all' is the fast preset's colour settings")


if __name__ == "__main__":
    main()
