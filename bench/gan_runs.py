"""What the GAN benchmarks share: train one setting for a CPU budget, score it, run many side by side.

    rows = run_all([{"model": "dcgan", "name": ..., "seconds": 60, "seed": 0, "train": {}, "model_changes": {},
                     "n": 1000, "png": "x.png"}], workers=2, max_minutes=30)

bench_gan.py (the ablation) and bench_cgan.py (the class-conditional comparison) both use it.
"""
import multiprocessing
import os
import statistics
import time
from concurrent.futures import CancelledError, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import replace
from pathlib import Path

import torch
from PIL import Image

from imgai.data.datasets import load_dataset
from imgai.grids import make_grid, upscale
from imgai.inference.classify import load_classifier
from imgai.inference.quality import conditional_accuracy, generator_quality
from imgai.training.runs import LIMITS, RunSpec, default_train_config, prepare_run
from imgai.models.sampling import fixed_noise, grid_labels, sample_images


def train_for(model, cpu_seconds, seed, train_changes, model_changes, data):
    """Train until this process has used cpu_seconds of CPU time (one thread): on a machine shared with other
    work, wall-clock budgets would measure the neighbours' load, not the method. The fast presets' schedule
    is constant, so stopping early changes nothing else."""
    # the most epochs and the sparsest grids a run may ask for (imgai.training.runs.LIMITS): the CPU budget ends it first
    cfg = replace(default_train_config(model, "fast"), epochs=LIMITS["epochs"][1], seconds=None, seed=seed,
                  sample_every=LIMITS["sample_every"][1], **train_changes)
    run = prepare_run(RunSpec(model, "fast", train=cfg, model_overrides=model_changes), data=data, device="cpu")
    last, wall, start = {}, time.perf_counter(), time.process_time()
    for m in run.loop():
        if "loss_d" in m:
            last = m
            if time.process_time() - start >= cpu_seconds:
                break
    last["wall_s"] = time.perf_counter() - wall
    return run, last


def grid_of(gan, n=100):
    """100 samples of fixed noise; for a conditional GAN one class per column of a 10-wide grid."""
    labels = grid_labels(n, gan.config.n_classes) if hasattr(gan.config, "n_classes") else None
    return sample_images(gan.generator, fixed_noise(gan.config.nz, n, 0), labels)


def save_grid(grid, path: Path, nrow=None):
    Image.fromarray(upscale(make_grid(grid[..., 0], nrow=nrow), 3)).save(path)


def summary(values):
    return {"mean": statistics.fmean(values), "sd": statistics.stdev(values) if len(values) > 1 else 0.0,
            "values": values}


_CACHE = {}


def shared_data():
    """The data and the judge, loaded once per process (worker processes load their own)."""
    if not _CACHE:
        torch.set_num_threads(1)  # budgets are CPU seconds of one thread (see train_for)
        _CACHE.update(data=load_dataset("digits"), clf=load_classifier("weights/digits-cnn"))
    return _CACHE["data"], _CACHE["clf"]


def one_run(job: dict) -> dict:
    """Train one (model, setting, seed) for its CPU budget and score it; saves its grid PNG."""
    data, clf = shared_data()
    run, last = train_for(job["model"], job["seconds"], job["seed"], job["train"], job["model_changes"], data)
    save_grid(grid_of(run.model), Path(job["png"]), nrow=10 if job["model"] == "cdcgan" else None)
    g, nz, k = run.model.generator, run.model.config.nz, len(data.class_names)
    row = {"seed": job["seed"], "steps": int(last.get("step", 0)), "wall_s": last["wall_s"], "load_avg": os.getloadavg()[0]}
    if job["model"] == "cdcgan":
        row["asked_class"] = conditional_accuracy(g, nz, clf, k, per_class=job["n"] // k)
        row.update(generator_quality(g, nz, clf, data.val_x, n=job["n"], labels=torch.arange(job["n"]) % k))
    else:
        row.update(generator_quality(g, nz, clf, data.val_x, n=job["n"]))
    print(job["name"], {k: v for k, v in row.items() if k not in ("class_counts", "asked_class")}, flush=True)
    return row


def run_all(jobs: list, workers: int, max_minutes: float) -> list:
    """Rows for the jobs (None for any not run): in this process, or in `workers` processes at once (each
    one thread with its own CPU budget, so running them side by side changes no figure). Past max_minutes
    of wall time, runs not yet finished are dropped (and stopped)."""
    if workers <= 1:
        return [one_run(j) for j in jobs]
    deadline = time.perf_counter() + max_minutes * 60 if max_minutes else None
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    futures, rows = [pool.submit(one_run, j) for j in jobs], []
    for f in futures:
        try:
            left = None if deadline is None else max(1.0, deadline - time.perf_counter())
            rows.append(f.result(timeout=left))
        except (FuturesTimeout, CancelledError):  # past the deadline: this run and those not begun are dropped
            rows.append(None)
    pool.shutdown(wait=deadline is None, cancel_futures=True)
    for p in multiprocessing.active_children():  # runs still going past the deadline are not waited for
        p.terminate()
    return rows
