"""Sweeps: the grid, stratified folds, a tiny real cross-validated sweep ranked over its folds, and the CLI."""
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from imgai.experiments.sweep import (SweepError, SweepSpec, curves, fold_indices, grid, label, parse_knob, prepare_sweep,
                         summarize)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def small():
    """300 training and 100 validation digits: enough for 3 folds with every class in each."""
    from imgai.data.datasets import load_dataset
    d = load_dataset("digits")
    return replace(d, train_x=d.train_x[:300], train_y=d.train_y[:300], val_x=d.val_x[:100], val_y=d.val_y[:100])


def test_grid_is_every_combination_of_one_or_two_knobs():
    g = grid({"lr": [1e-3, 1e-2], "optimizer": ["adam", "sgd", "rmsprop"]})
    assert len(g) == 6 and g[0] == {"lr": 1e-3, "optimizer": "adam"} and g[-1] == {"lr": 1e-2, "optimizer": "rmsprop"}
    assert label(g[1]) == "learning rate 0.001 · optimiser sgd"
    assert grid({"augment": [True, False]}) == [{"augment": True}, {"augment": False}]


@pytest.mark.parametrize("knobs, message", [
    ({}, "one or two"), ({"lr": [1], "dropout": [0.1], "batch_size": [8]}, "one or two"),
    ({"momentum": [0.9]}, "unknown knob"), ({"lr": []}, "at least one"), ({"lr": [-1.0]}, "learning rate"),
    ({"optimizer": ["adamw"]}, "optimiser"), ({"dropout": [0.2, 0.2]}, "repeat")])
def test_bad_grids_are_refused_with_one_line(knobs, message):
    with pytest.raises(SweepError, match=message):
        grid(knobs)


def test_knobs_are_read_from_text():
    assert parse_knob("lr=1e-3, 3e-3") == ("lr", [1e-3, 3e-3])
    assert parse_knob("batch-size=32,64") == ("batch_size", [32, 64])
    assert parse_knob("augment=on,off") == ("augment", [True, False])
    for bad in ("lr", "speed=1", "lr=fast"):
        with pytest.raises(SweepError):
            parse_knob(bad)


def test_folds_are_stratified_disjoint_and_cover_the_training_split():
    y = torch.arange(10).repeat(31)                         # 310 labels, 31 per class
    folds = fold_indices(y, 3, seed=1)
    vals = torch.cat([v for _, v in folds])
    assert sorted(vals.tolist()) == list(range(310))       # each image is validated exactly once
    for tr, v in folds:
        assert set(tr.tolist()).isdisjoint(v.tolist()) and len(tr) + len(v) == 310
        assert torch.bincount(y[v], minlength=10).min() >= 10   # every class in every fold
    assert [v.tolist() for _, v in fold_indices(y, 3, seed=1)] == [v.tolist() for _, v in folds]
    with pytest.raises(SweepError):
        fold_indices(y, 1)


def test_a_tiny_cross_validated_sweep_is_ranked_by_mean_over_folds(small):
    # a learning rate of 1e-6 learns nothing in one epoch; 3e-3 learns a lot: the ranking must say so
    spec = SweepSpec(knobs={"lr": [1e-6, 3e-3]}, folds=2, epochs=1, base={"batch_size": 32})
    sweep = prepare_sweep(spec, data=small, device="cpu")
    assert sweep.n_runs == 4 and sweep.meta["sweep"]["folds"] == 2
    rows = list(sweep.loop())
    steps = [r["step"] for r in rows]
    assert steps == sorted(steps) and rows[-1]["progress"] == pytest.approx(1.0)
    assert {(r["setting"], r["fold"]) for r in rows} == {(0, 0), (0, 1), (1, 0), (1, 1)}
    out = summarize(rows, spec)
    assert out["complete"] and [r["setting"] for r in out["results"]] == [{"lr": 3e-3}, {"lr": 1e-6}]
    best = out["best"]
    assert len(best["folds"]) == 2 and best["mean"] == pytest.approx(sum(best["folds"]) / 2)
    assert best["spread"] >= 0 and best["mean"] > out["results"][1]["mean"]
    c = curves(rows, best["index"])
    assert c and {"train_loss", "val_loss", "train_acc", "val_acc"} <= set(c[-1])
    partial = summarize(rows[: len(rows) // 2], spec)   # while it runs: only finished settings are ranked
    assert not partial["complete"] and len(partial["results"]) <= 1


def test_the_quick_sweep_scores_on_the_fixed_validation_split(small):
    spec = SweepSpec(knobs={"dropout": [0.0, 0.5]}, folds=1, epochs=0.2, base={"batch_size": 32})
    rows = list(prepare_sweep(spec, data=small, device="cpu").loop())
    out = summarize(rows, spec)
    assert out["complete"] and all(len(r["folds"]) == 1 and r["spread"] == 0 for r in out["results"])


def test_oversized_sweeps_are_refused_before_training(small):
    with pytest.raises(SweepError, match="at most"):
        prepare_sweep(SweepSpec(knobs={"lr": [1e-4, 1e-3, 1e-2, 0.1], "batch_size": [8, 16, 32, 64]}, folds=5),
                      data=small)
    with pytest.raises(SweepError, match="folds"):
        prepare_sweep(SweepSpec(knobs={"lr": [1e-3]}, folds=0), data=small)


def test_cli_sweep_prints_a_json_summary_last(tmp_path):
    r = subprocess.run([sys.executable, "-m", "imgai", "sweep", "--knob", "batch_size=64,128", "--folds", "1",
                        "--epochs", "0.05"], cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["complete"] and out["runs"] == 2 and len(out["results"]) == 2
    assert out["results"][0]["mean"] >= out["results"][1]["mean"]
    bad = subprocess.run([sys.executable, "-m", "imgai", "sweep", "--knob", "speed=1"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.startswith("error:") and len(bad.stderr.strip().splitlines()) == 1
