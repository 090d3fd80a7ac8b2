"""Training throughput on the seed's own network: imgai's engine vs the seed's Keras program, in one run.

Same network (the TensorFlow CIFAR-10 tutorial CNN: valid convs 32/64/64, Dense 64), same batch size (32,
Keras's default), same optimizer (Adam 1e-3), same data (the bundled cifar10-5k), same number of threads, on
the same machine at the same time: rounds alternate imgai, the loop imgai ran before (NCHW, torch's default
Adam) and Keras, so a busy machine slows all alike.
Images/s are training-only (no validation) and skip each round's first epoch (Keras traces its graph then;
imgai warms up its kernels), and the median epoch of all rounds is reported; so are images per CPU-second of
the training process, which a machine shared with other work disturbs less than wall-clock time.

    PYTHONPATH=. python bench/bench_keras.py [--epochs 3] [--rounds 3] [--keras-python PATH] [--dry-run]

Keras runs in its own virtual environment, as a subprocess, so imgai's environment never needs TensorFlow:

    python -m venv /work/venv-keras && /work/venv-keras/bin/pip install tensorflow-cpu

The interpreter is --keras-python, else $KERAS_PYTHON, else /work/venv-keras/bin/python; without one the Keras
side is skipped with a note. A --dry-run runs a few imgai steps only. Writes bench/results/keras.json.
"""
import argparse
import json
import os
import statistics
import subprocess
import time
from dataclasses import replace
from pathlib import Path

from record import add_dry_run, record

from imgai.data import CIFAR_5K_FILE, load_dataset
from imgai.device import configure_threads, pick_device
from imgai.runs import RunSpec, default_train_config, prepare_run

DEFAULT_KERAS_PYTHON = "/work/venv-keras/bin/python"

# The seed's program (the TensorFlow CIFAR-10 tutorial), timed per epoch; the data come from the same
# .npz as imgai's, read without pickle. Prints one JSON line per epoch, then the validation accuracy.
KERAS_PROGRAM = r"""
import json, sys, time
import numpy as np
import tensorflow as tf
from tensorflow.keras import layers, models

path, epochs, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
tf.config.threading.set_intra_op_parallelism_threads(threads)
tf.config.threading.set_inter_op_parallelism_threads(1)
tf.keras.utils.set_random_seed(0)
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

model.fit(train_images, train_labels, epochs=epochs, batch_size=32, verbose=0, callbacks=[Clock()])
_, acc = model.evaluate(test_images, test_labels, verbose=0)
print(json.dumps({"val_acc": float(acc), "tensorflow": tf.__version__}), flush=True)
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


def nchw_epochs(data, epochs: int) -> tuple[list, list, float]:
    """The loop imgai ran before (as pytorch/examples would write it): NCHW tensors and torch's default Adam,
    no augmentation. Same model, batches and rate as the engine's textbook run: shows what the layout and
    the fused optimizer buy."""
    import torch
    import torch.nn.functional as F

    from imgai.data import normalize
    from imgai.runs import build_for_data
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    model = build_for_data("cnn", "textbook", data).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y, B = data.train_x, data.train_y, 32
    rates, cpu_rates = [], []
    for _ in range(epochs):
        t, c = time.perf_counter(), time.process_time()
        perm = torch.randperm(len(y), generator=gen)
        for i in range(len(y) // B):
            idx = perm[i * B:(i + 1) * B]
            loss = F.cross_entropy(model(normalize(x[idx], data.mean, data.std)), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss.item()  # the engine reads the loss every step too
        n = len(y) // B * B
        rates.append(n / (time.perf_counter() - t))
        cpu_rates.append(n / (time.process_time() - c))
    with torch.no_grad():
        acc = (model.eval()(normalize(data.val_x, data.mean, data.std)).argmax(1) == data.val_y).float().mean()
    return rates, cpu_rates, acc.item()


def keras_epochs(python: str, epochs: int, threads: int) -> tuple[list, float, str]:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": "", "KERAS_BACKEND": "tensorflow"}
    r = subprocess.run([python, "-c", KERAS_PROGRAM, str(CIFAR_5K_FILE), str(epochs), str(threads)],
                       capture_output=True, text=True, env=env, timeout=3600)
    if r.returncode != 0:
        last = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else f"exit status {r.returncode}"
        raise SystemExit(f"the Keras program failed: {last}")
    lines = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    epochs = [x for x in lines if "epoch" in x]
    return ([x["images_per_s"] for x in epochs], [x["images_per_cpu_s"] for x in epochs], lines[-1]["val_acc"],
            lines[-1]["tensorflow"])


def main():
    ap = add_dry_run(argparse.ArgumentParser())
    ap.add_argument("--epochs", type=int, default=3, help="epochs per round; the first of each is warm-up")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--keras-python", default=os.environ.get("KERAS_PYTHON") or DEFAULT_KERAS_PYTHON)
    a = ap.parse_args()
    threads, device = configure_threads(), pick_device()
    data = load_dataset("cifar10-5k")
    if a.dry_run:
        small = replace(data, train_x=data.train_x[:256], train_y=data.train_y[:256])
        figures = {"imgai": imgai_epochs(small, 1, device)[:2], "nchw": nchw_epochs(small, 1)[:2]}
        record("keras", figures, dry_run=True, note="dry run: imgai sides only")
        return
    keras = a.keras_python if Path(a.keras_python).is_file() else None
    wall = {"imgai": [], "nchw": [], "keras": []}
    cpu = {"imgai": [], "nchw": [], "keras": []}
    accs, tf_version = {"imgai": [], "nchw": [], "keras": []}, None
    for _ in range(a.rounds):
        for side, fn in (("imgai", lambda: imgai_epochs(data, a.epochs, device)),
                         ("nchw", lambda: nchw_epochs(data, a.epochs))):
            rates, cpu_rates, acc = fn()
            wall[side] += rates[1:]
            cpu[side] += cpu_rates[1:]
            accs[side].append(round(acc, 4))
        if keras:
            rates, cpu_rates, acc, tf_version = keras_epochs(keras, a.epochs, threads)
            wall["keras"] += rates[1:]
            cpu["keras"] += cpu_rates[1:]
            accs["keras"].append(round(acc, 4))
    med = {k: {side: statistics.median(v) for side, v in d.items() if v} for k, d in (("wall", wall), ("cpu", cpu))}
    figures = {"threads": threads, "batch_size": 32, "epochs_per_round": a.epochs, "rounds": a.rounds,
               "images_per_s": {k: [round(r) for r in v] for k, v in wall.items()},
               "images_per_cpu_s": {k: [round(r) for r in v] for k, v in cpu.items()},
               "median": {k: {side: round(v) for side, v in d.items()} for k, d in med.items()},
               "val_acc_after_round": accs, "tensorflow": tf_version}
    w, c = med["wall"], med["cpu"]
    rows = [("Textbook CNN on cifar10-5k, batch 32, images per CPU-second: imgai's engine (channels-last, fused "
             "Adam) / the same loop in NCHW with torch's default Adam, same run",
             f"{c['imgai']:,.0f} / {c['nchw']:,.0f} = {c['imgai'] / c['nchw']:.2f}x")]
    if keras:
        figures["ratio"] = {k: round(d["imgai"] / d["keras"], 3) for k, d in med.items()}
        rows.append(("Textbook CNN on cifar10-5k, batch 32, training images/s: imgai's engine / the seed's Keras "
                     f"program (TensorFlow {tf_version}), median epoch, same run",
                     f"{w['imgai']:,.0f} / {w['keras']:,.0f} = {w['imgai'] / w['keras']:.2f}x"))
        rows.append(("Same, images per CPU-second (less disturbed by other processes on the machine)",
                     f"{c['imgai']:,.0f} / {c['keras']:,.0f} = {c['imgai'] / c['keras']:.2f}x"))
    note = (f"{threads} intra-op thread(s) on both sides; the 2-core machine was shared with other busy processes"
            + ("" if keras else f"; Keras side skipped: no interpreter at {a.keras_python} (see the docstring)"))
    record("keras", figures, readme=rows, device=str(device), note=note)


if __name__ == "__main__":
    main()
