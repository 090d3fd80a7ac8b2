"""Training throughput on the seed's own network: imgai's engine vs the seed's Keras program, in one run.

Same network (the TensorFlow CIFAR-10 tutorial CNN: valid convs 32/64/64, Dense 64), same batch size (32,
Keras's default), same optimizer (Adam 1e-3), same data (the bundled cifar10-5k), same number of threads, on
the same machine at the same time. Three sides, each at every thread count of --threads (default: 1 and
every core), both frameworks with that many intra-op threads and one inter-op thread:

- imgai: the engine's textbook run (imgai.training.runs.prepare_run(...).loop()), as the CLI and the app train;
- plain: the loop as pytorch/examples would write it (NCHW, torch's default Adam, the network's blocks as
  built, glibc's default malloc), in its own process: what imgai's engine adds over plain PyTorch;
- keras: the seed's program (model.fit), in its own process and virtual environment.

Rounds alternate the sides, so a busy machine slows all alike. Images/s are training-only (no validation)
and the median epoch of all rounds is reported, without each round's first epoch (Keras traces and compiles
its graph then, imgai warms up its kernels); that first epoch's seconds are reported too, so any compile
time is in the figures. So are images per CPU-second of the training process, which a machine shared with
other work disturbs less than wall-clock time.

    PYTHONPATH=. python bench/bench_keras.py [--epochs 3] [--rounds 3] [--threads 1,2] [--keras-python PATH] [--dry-run]

Keras runs in its own virtual environment, as a subprocess, so imgai's environment never needs TensorFlow:

    python -m venv /work/venv-keras && /work/venv-keras/bin/pip install tensorflow-cpu

The interpreter is --keras-python, else $KERAS_PYTHON, else /work/venv-keras/bin/python; without one the Keras
side is skipped with a note. A --dry-run runs a few imgai and plain steps only. Writes bench/results/keras.json.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from record import LOAD_AT_START, add_dry_run, load_note, record

from imgai.data.datasets import CIFAR_5K_FILE, load_dataset
from imgai.device import configure_threads, pick_device
from imgai.training.runs import RunSpec, default_train_config, prepare_run

DEFAULT_KERAS_PYTHON = "/work/venv-keras/bin/python"
ROOT = Path(__file__).resolve().parent.parent

# The seed's program (the TensorFlow CIFAR-10 tutorial), timed per epoch; the data come from the same
# .npz as imgai's, read without pickle. Prints one JSON line per epoch, then the validation accuracy.
# Optional 4th and 5th arguments: a training-time budget in seconds (fit stops at the first batch past it, as
# imgai's time-budget runs do) and the seed; a 6th: an .npz of other images (x, y) to score on as well.
KERAS_PROGRAM = r"""
import json, sys, time
import numpy as np
import tensorflow as tf
from tensorflow.keras import layers, models

path, epochs, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
budget = float(sys.argv[4]) if len(sys.argv) > 4 else None
tf.config.threading.set_intra_op_parallelism_threads(threads)
tf.config.threading.set_inter_op_parallelism_threads(1)
tf.keras.utils.set_random_seed(int(sys.argv[5]) if len(sys.argv) > 5 else 0)
with np.load(path, allow_pickle=False) as f:
    to_nhwc = lambda x: x.transpose(0, 2, 3, 1).astype("float32") / 255.0
    train_images, train_labels = to_nhwc(f["train_x"]), f["train_y"]
    test_images, test_labels = to_nhwc(f["val_x"]), f["val_y"]

model = models.Sequential()
model.add(layers.Input(shape=(32, 32, 3)))
model.add(layers.Conv2D(32, (3, 3), activation="relu"))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Conv2D(64, (3, 3), activation="relu"))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Conv2D(64, (3, 3), activation="relu"))
model.add(layers.Flatten())
model.add(layers.Dense(64, activation="relu"))
model.add(layers.Dense(10))
model.compile(optimizer="adam", loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])

class Clock(tf.keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.t, self.c = time.perf_counter(), time.process_time()
    def on_epoch_end(self, epoch, logs=None):
        s, c = time.perf_counter() - self.t, time.process_time() - self.c
        n = len(train_labels)  # fit() trains on every image each epoch, the ragged last batch included
        print(json.dumps({"epoch": epoch + 1, "seconds": s, "images_per_s": n / s, "images_per_cpu_s": n / c}),
              flush=True)

class Budget(tf.keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.t, self.steps = time.perf_counter(), 0
    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        if budget is not None and time.perf_counter() - self.t >= budget:
            self.model.stop_training = True
    def on_train_end(self, logs=None):
        print(json.dumps({"trained_s": time.perf_counter() - self.t, "steps": self.steps}), flush=True)

model.fit(train_images, train_labels, epochs=epochs, batch_size=32, verbose=0, callbacks=[Clock(), Budget()])
_, acc = model.evaluate(test_images, test_labels, verbose=0)
extra = {}
if len(sys.argv) > 6:  # another set of images to score on (x uint8 N,C,H,W and y), e.g. CIFAR-10's test set
    with np.load(sys.argv[6], allow_pickle=False) as f:
        extra["test_acc"] = float(model.evaluate(to_nhwc(f["x"]), f["y"], verbose=0)[1])
print(json.dumps({"val_acc": float(acc), **extra, "tensorflow": tf.__version__,
                  "jit_compile": bool(getattr(model, "jit_compile", False))}), flush=True)
"""


def imgai_epochs(data, epochs: float, device) -> tuple[list, list, float]:
    """imgai's engine on the textbook preset: images/s and images per CPU-second of each epoch's training
    (validation excluded), and the final validation accuracy."""
    cfg = replace(default_train_config("cnn", "textbook", data.name), epochs=epochs, seed=0)
    run = prepare_run(RunSpec("cnn", "textbook", dataset=data.name, train=cfg), data=data, device=device)
    rates, cpu_rates, last_s, last_step, acc = [], [], 0.0, 0, None
    cpu, since = 0.0, time.process_time()
    for m in run.loop():
        if "loss" in m:  # a training step: the CPU time since the previous one is training
            now = time.process_time()
            cpu, since = cpu + now - since, now
        elif "val_acc" in m:
            secs, step = m["seconds"], m["step"]
            rates.append((step - last_step) * cfg.batch_size / max(secs - last_s, 1e-9))
            cpu_rates.append((step - last_step) * cfg.batch_size / max(cpu, 1e-9))
            last_s, last_step, acc, cpu = secs, step, m["val_acc"], 0.0
        if "loss" not in m:
            since = time.process_time()  # validation, sample grids and the confusion matrix are not training
    return rates, cpu_rates, acc


# The loop as pytorch/examples would write it, run by this script in a fresh process (--plain-side), so that
# nothing imgai sets process-wide (imgai.device.keep_freed_memory) applies to it.
def plain_epochs(epochs: int, threads: int, n_train: int | None = None) -> dict:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    from imgai.data.datasets import normalize
    from imgai.training.runs import build_for_data
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    data = load_dataset("cifar10-5k")
    x, y, B = data.train_x[:n_train], data.train_y[:n_train], 32
    gen = torch.Generator().manual_seed(0)
    cnn = build_for_data("cnn", "textbook", data)
    model = nn.Sequential(cnn.features, cnn.classifier).train()  # the blocks as built: each ReLU, then its pool
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    rates, cpu_rates = [], []
    for _ in range(epochs):
        t, c = time.perf_counter(), time.process_time()
        perm = torch.randperm(len(y), generator=gen)
        for i in range(len(y) // B):
            idx = perm[i * B:(i + 1) * B]
            logits = model(normalize(x[idx], data.mean, data.std))
            loss = F.cross_entropy(logits, y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss.item(), (logits.argmax(1) == y[idx]).float().mean().item()  # the engine reads both every step
        n = len(y) // B * B
        rates.append(n / (time.perf_counter() - t))
        cpu_rates.append(n / (time.process_time() - c))
    with torch.no_grad():
        acc = (model.eval()(normalize(data.val_x, data.mean, data.std)).argmax(1) == data.val_y).float().mean()
    return {"rates": rates, "cpu_rates": cpu_rates, "val_acc": acc.item()}


def plain_side(epochs: int, threads: int, dry_run: bool = False) -> tuple[list, list, float]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    args = [sys.executable, str(Path(__file__).resolve()), "--plain-side", str(epochs), str(threads)]
    r = subprocess.run(args + (["--dry-run"] if dry_run else []), capture_output=True, text=True, env=env,
                       timeout=3600)
    if r.returncode != 0:
        last = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else f"exit status {r.returncode}"
        raise SystemExit(f"the plain PyTorch loop failed: {last}")
    out = json.loads(r.stdout.strip().splitlines()[-1])
    return out["rates"], out["cpu_rates"], out["val_acc"]


def keras_epochs(python: str, epochs: int, threads: int, budget_s: float | None = None,
                 seed: int = 0, test=None) -> tuple[list, list, float, dict]:
    """The seed's program in its own interpreter: images/s and images per CPU-second of each epoch, the held-out
    accuracy, and its last line (TensorFlow's version, trained_s and steps when a budget stopped it, and
    test_acc: the accuracy on `test`, uint8 images N,C,H,W and labels, when given)."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": "", "KERAS_BACKEND": "tensorflow"}
    extra = [] if budget_s is None and test is None else [str(budget_s or 1e9), str(seed)]
    with tempfile.TemporaryDirectory() as tmp:
        if test is not None:
            np.savez(Path(tmp) / "test.npz", x=np.asarray(test[0]), y=np.asarray(test[1]))
            extra.append(str(Path(tmp) / "test.npz"))
        r = subprocess.run([python, "-c", KERAS_PROGRAM, str(CIFAR_5K_FILE), str(epochs), str(threads), *extra],
                           capture_output=True, text=True, env=env, timeout=3600)
    if r.returncode != 0:
        last = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else f"exit status {r.returncode}"
        raise SystemExit(f"the Keras program failed: {last}")
    lines = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    epochs = [x for x in lines if "epoch" in x]
    info = {k: v for x in lines if "epoch" not in x for k, v in x.items()}
    return [x["images_per_s"] for x in epochs], [x["images_per_cpu_s"] for x in epochs], info["val_acc"], info


def main():
    ap = add_dry_run(argparse.ArgumentParser())
    ap.add_argument("--epochs", type=int, default=3, help="epochs per round; the first of each is warm-up")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", default=None,
                    help="comma-separated intra-op thread counts, each side runs at each (default: 1 and every core)")
    ap.add_argument("--keras-python", default=os.environ.get("KERAS_PYTHON") or DEFAULT_KERAS_PYTHON)
    ap.add_argument("--note", default="", help="how busy the machine was, for the record")
    ap.add_argument("--plain-side", nargs=2, type=int, metavar=("EPOCHS", "THREADS"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.plain_side:  # this script's own subprocess: the plain loop in a fresh process
        print(json.dumps(plain_epochs(*a.plain_side, n_train=256 if a.dry_run else None)))
        return
    configure_threads()  # one inter-op thread, memory reuse; each setting below sets the intra-op count itself
    threads = sorted({int(t) for t in a.threads.split(",")}) if a.threads else sorted({1, os.cpu_count() or 1})
    device = pick_device()
    data = load_dataset("cifar10-5k")
    if a.dry_run:
        small = replace(data, train_x=data.train_x[:256], train_y=data.train_y[:256])
        torch.set_num_threads(1)
        figures = {"imgai": imgai_epochs(small, 1, device)[:2], "plain": plain_side(1, 1, dry_run=True)[:2]}
        record("keras", figures, dry_run=True, note="dry run: imgai and plain sides only")
        return
    keras = a.keras_python if Path(a.keras_python).is_file() else None
    sides = ("imgai", "plain", "keras") if keras else ("imgai", "plain")
    per = {t: {k: {s: [] for s in sides} for k in ("wall", "cpu", "first_epoch_s", "val_acc")} for t in threads}
    info = {}
    for r in range(a.rounds):
        for t in threads:
            for side in (sides if r % 2 == 0 else sides[::-1]):
                if side == "imgai":
                    torch.set_num_threads(t)
                    rates, cpu_rates, acc = imgai_epochs(data, a.epochs, device)
                elif side == "plain":
                    rates, cpu_rates, acc = plain_side(a.epochs, t)
                else:
                    rates, cpu_rates, acc, info = keras_epochs(keras, a.epochs, t)
                d = per[t]
                d["wall"][side] += rates[1:]
                d["cpu"][side] += cpu_rates[1:]
                d["first_epoch_s"][side].append(round(len(data.train_y) // 32 * 32 / rates[0], 2))
                d["val_acc"][side].append(round(acc, 4))
                print(f"round {r + 1}/{a.rounds}, {t} thread(s), {side}: images/s {[round(x) for x in rates]}, "
                      f"per CPU-second {[round(x) for x in cpu_rates]}", file=sys.stderr, flush=True)
    figures = {"threads": threads, "interop_threads": 1, "batch_size": 32, "epochs_per_round": a.epochs,
               "rounds": a.rounds, "tensorflow": info.get("tensorflow"), "keras_jit_compile": info.get("jit_compile"),
               "torch_intraop_backend": torch.__config__.parallel_info().splitlines()[-1].strip(),
               "load_average_1min": {"before": round(LOAD_AT_START, 1), "after": round(os.getloadavg()[0], 1)},
               "by_threads": {}}
    rows = []
    for t in threads:
        d = per[t]
        med = {k: {s: statistics.median(v) for s, v in d[k].items() if v} for k in ("wall", "cpu")}
        f = {"images_per_s": {s: [round(x) for x in v] for s, v in d["wall"].items()},
             "images_per_cpu_s": {s: [round(x) for x in v] for s, v in d["cpu"].items()},
             "median": {k: {s: round(x) for s, x in m.items()} for k, m in med.items()},
             "first_epoch_s": d["first_epoch_s"], "val_acc_after_round": d["val_acc"]}
        w, c = med["wall"], med["cpu"]
        f["ratio_to_plain"] = {k: round(m["imgai"] / m["plain"], 3) for k, m in med.items()}
        if keras:
            f["ratio"] = {k: round(m["imgai"] / m["keras"], 3) for k, m in med.items()}
            rows.append((f"Textbook CNN on cifar10-5k, batch 32, {t} thread(s) each: training images/s, imgai's engine / "
                         f"the seed's Keras program (TensorFlow {info.get('tensorflow')}), median epoch, same run",
                         f"{w['imgai']:,.0f} / {w['keras']:,.0f} = {w['imgai'] / w['keras']:.2f}x"))
            rows.append((f"Same ({t} thread(s)), images per CPU-second",
                         f"{c['imgai']:,.0f} / {c['keras']:,.0f} = {c['imgai'] / c['keras']:.2f}x"))
        if t == threads[0]:
            rows.append((f"Same ({t} thread(s)), training images/s: imgai's engine / the plain PyTorch loop "
                         "(NCHW, default Adam, default malloc)",
                         f"{w['imgai']:,.0f} / {w['plain']:,.0f} = {w['imgai'] / w['plain']:.2f}x"))
        figures["by_threads"][str(t)] = f
    note = (f"intra-op threads {threads} on every side, one inter-op thread; {load_note()}"
            + (f"; {a.note}" if a.note else "")
            + ("" if keras else f"; Keras side skipped: no interpreter at {a.keras_python} (see the docstring)"))
    record("keras", figures, readme=rows, device=str(device), note=note)


if __name__ == "__main__":
    main()
