"""Hyperparameter sweeps with k-fold cross-validation: a grid of one or two knobs, every setting trained on
k-1 folds of the training split and scored on the fold left out, ranked by mean ± spread over the folds.

    sweep = prepare_sweep(SweepSpec(knobs={"lr": [1e-3, 3e-3, 1e-2]}, folds=3, epochs=2))
    rows = list(sweep.loop()); summary = summarize(rows, sweep.spec)

The whole grid is one training loop (a plain generator of metric dicts, like train_classifier's), so the
app runs it as one queued background job and the CLI prints it. Each row carries "setting" and "fold";
"step", "progress" and "seconds" count over the whole sweep. The data set's own validation images are never
used by a cross-validated sweep: they stay unseen for judging the setting finally chosen. folds=1 is the
quick variant: one run per setting, scored on those validation images.
"""
import itertools
import math
import statistics
from dataclasses import asdict, dataclass, field, replace

import torch

from imgai.data.datasets import ImageData, load_dataset
from imgai.training.runs import build_for_data, default_train_config
from imgai.training.classifier import train_classifier
from imgai.training.config import TrainState

# name -> (where it goes, how a value is read from text, what it is called on a chart)
KNOBS = {
    "lr": ("train", float, "learning rate"),
    "batch_size": ("train", int, "batch size"),
    "optimizer": ("train", str, "optimiser"),
    "weight_decay": ("train", float, "weight decay"),
    "augment": ("train", lambda t: str(t).lower() in ("1", "true", "yes", "on"), "augmentation"),
    "dropout": ("model", float, "dropout"),
}
OPTIMIZERS = ("adam", "sgd", "rmsprop")
MAX_RUNS = 60   # settings x folds: a grid larger than this is a typo on a small machine, not a sweep


class SweepError(ValueError):
    """A sweep that cannot be run as asked; str(e) is one line for the user."""


@dataclass
class SweepSpec:
    knobs: dict                   # one or two knob names -> a few values each
    folds: int = 3                # k-fold cross-validation on the training split; 1 = fixed validation split
    epochs: float = 2.0           # per run: a sweep compares settings, it need not train them to the end
    preset: str = "fast"          # the CNN preset whose other settings every run shares
    dataset: str = "digits"
    seed: int = 0                 # the same folds and initial weights for every setting: a fair comparison
    base: dict = field(default_factory=dict)   # other TrainConfig changes shared by all runs


def parse_knob(text: str) -> tuple:
    """'lr=1e-3,3e-3' -> ("lr", [0.001, 0.003])."""
    name, sep, values = str(text).partition("=")
    name = name.strip().replace("-", "_")
    if not sep or name not in KNOBS:
        raise SweepError(f"a knob is NAME=V1,V2,... with NAME one of {', '.join(KNOBS)}, not {text!r}")
    try:
        parsed = [KNOBS[name][1](v.strip()) for v in values.split(",") if v.strip()]
    except ValueError:
        raise SweepError(f"cannot read the values of {name}: {values!r}") from None
    return name, parsed


def _check_value(name: str, v):
    ok = {"lr": lambda x: 0 < x < 10, "batch_size": lambda x: 2 <= x <= 4096, "optimizer": lambda x: x in OPTIMIZERS,
          "weight_decay": lambda x: 0 <= x < 1, "augment": lambda x: isinstance(x, bool),
          "dropout": lambda x: 0 <= x < 1}[name]
    if not ok(v):
        raise SweepError(f"{v!r} is not a usable {KNOBS[name][2]}")


def grid(knobs: dict) -> list:
    """Every combination of the knobs' values, as a list of {name: value} dicts (first knob varies slowest)."""
    if not 1 <= len(knobs) <= 2:
        raise SweepError("choose one or two knobs to sweep")
    for name, values in knobs.items():
        if name not in KNOBS:
            raise SweepError(f"unknown knob {name!r}: choose from {', '.join(KNOBS)}")
        if not values:
            raise SweepError(f"give at least one value for {KNOBS[name][2]}")
        if len(set(map(str, values))) != len(values):
            raise SweepError(f"the values of {KNOBS[name][2]} repeat")
        for v in values:
            _check_value(name, v)
    names = list(knobs)
    return [dict(zip(names, combo)) for combo in itertools.product(*(knobs[n] for n in names))]


def fold_indices(y: torch.Tensor, k: int, seed: int = 0) -> list:
    """k stratified folds of range(len(y)): a list of (train indices, validation indices), each class spread
    evenly over the folds so every fold's validation part has all classes in their usual shares."""
    if k < 2:
        raise SweepError("cross-validation needs at least 2 folds")
    gen = torch.Generator().manual_seed(seed)
    fold_of = torch.empty(len(y), dtype=torch.long)
    offset = 0
    for c in torch.unique(y):
        rows = torch.nonzero(y == c).flatten()
        rows = rows[torch.randperm(len(rows), generator=gen)]
        fold_of[rows] = (torch.arange(len(rows)) + offset) % k   # offset: small classes do not all start at fold 0
        offset += len(rows)
    folds = [(torch.nonzero(fold_of != f).flatten(), torch.nonzero(fold_of == f).flatten()) for f in range(k)]
    if min(len(v) for _, v in folds) == 0:
        raise SweepError(f"too few training images for {k} folds")
    return folds


def fold_data(data: ImageData, train_idx: torch.Tensor, val_idx: torch.Tensor) -> ImageData:
    """A data set whose training and validation images are both taken from data's training split."""
    return replace(data, train_x=data.train_x[train_idx], train_y=data.train_y[train_idx],
                   val_x=data.train_x[val_idx], val_y=data.train_y[val_idx])


def label(setting: dict) -> str:
    """'lr 0.003 · dropout 0.25', for tables and charts."""
    def fmt(v):
        return "on" if v is True else "off" if v is False else f"{v:g}" if isinstance(v, float) else str(v)
    return " · ".join(f"{KNOBS[k][2]} {fmt(v)}" for k, v in setting.items())


@dataclass
class SweepRun:
    """What the job runner needs: loop(state) and meta (as imgai.training.runs.Run has)."""
    spec: SweepSpec
    data: ImageData
    settings: list
    meta: dict
    device: torch.device

    @property
    def n_runs(self) -> int:
        return len(self.settings) * max(1, self.spec.folds)

    def loop(self, state: TrainState | None = None):
        return sweep_loop(self.spec, self.data, self.settings, self.device, state)


def prepare_sweep(spec: SweepSpec, data: ImageData | None = None, device=None) -> SweepRun:
    from imgai.device import pick_device
    settings = grid(spec.knobs)
    if spec.folds < 1 or spec.folds > 10:
        raise SweepError("folds must be 1 (a fixed validation split) or 2 to 10")
    if not 0 < spec.epochs <= 100:
        raise SweepError("epochs per run must be above 0 and at most 100")
    if len(settings) * spec.folds > MAX_RUNS:
        raise SweepError(f"{len(settings)} settings x {spec.folds} folds = {len(settings) * spec.folds} runs; "
                         f"at most {MAX_RUNS}: fewer values or fewer folds")
    data = data or load_dataset(spec.dataset)
    default_train_config("cnn", spec.preset)  # an unknown preset fails here, before the job starts
    meta = {"kind": "cnn", "preset": spec.preset, "dataset": data.name, "class_names": list(data.class_names),
            "image_size": data.size, "channels": data.channels, "mean": list(data.mean), "std": list(data.std),
            "intake": data.intake, "train": asdict(_train_config(spec, {})), "sweep": asdict(spec)}
    return SweepRun(spec, data, settings, meta, device or pick_device())


def _train_config(spec: SweepSpec, setting: dict):
    cfg = replace(default_train_config("cnn", spec.preset), epochs=spec.epochs, seconds=None, seed=spec.seed,
                  **spec.base)
    return replace(cfg, **{k: v for k, v in setting.items() if KNOBS[k][0] == "train"})


def sweep_loop(spec: SweepSpec, data: ImageData, settings: list, device="cpu", state: TrainState | None = None):
    """Train every setting on every fold, one after the other; yields each run's metric rows with "setting",
    "fold" and "run_step" added, and epoch-end rows with "train_acc" (the epoch's running training
    accuracy) beside "val_acc", so train-vs-validation curves need nothing else."""
    state = state or TrainState()
    folds = fold_indices(data.train_y, spec.folds, spec.seed) if spec.folds > 1 else [None]
    n_runs = len(settings) * len(folds)
    step0 = secs0 = 0.0
    for s, setting in enumerate(settings):
        cfg = _train_config(spec, setting)
        overrides = {k: v for k, v in setting.items() if KNOBS[k][0] == "model"}
        for f, split in enumerate(folds):
            part = data if split is None else fold_data(data, *split)
            torch.manual_seed(spec.seed)   # every setting starts from the same weights on a fold
            model = build_for_data("cnn", spec.preset, part, overrides)
            done = s * len(folds) + f
            last_acc, last = None, {}
            for m in train_classifier(model, part, cfg, device, state):
                if "event" in m:
                    continue
                last = m
                if "acc" in m:
                    last_acc = m["acc"]
                row = {**m, "setting": s, "fold": f, "run_step": m["step"], "step": int(step0 + m["step"]),
                       "seconds": secs0 + m["seconds"], "run_seconds": m["seconds"],
                       "progress": (done + m["progress"]) / n_runs}
                if "val_acc" in m and last_acc is not None:
                    row["train_acc"] = last_acc
                yield row
            step0 += last.get("step", 0)
            secs0 += last.get("seconds", 0.0)


def _spread(values: list) -> float:
    """Sample standard deviation (0 for one value)."""
    return statistics.stdev(values) if len(values) > 1 else 0.0


def summarize(rows: list, spec: SweepSpec) -> dict:
    """Per setting: its final validation accuracy on each fold, their mean and spread (standard deviation),
    mean training seconds; ranked best first (ties: the faster). Settings still running are left out."""
    settings = grid(spec.knobs)
    folds = max(1, spec.folds)
    final = {}                   # (setting, fold) -> (val_acc, seconds): the last epoch-end row wins
    for r in rows:
        if "val_acc" in r and "setting" in r:
            final[(r["setting"], r["fold"])] = (r["val_acc"], r.get("run_seconds", r.get("seconds", 0.0)))
    results = []
    for s, setting in enumerate(settings):
        scores = [final[(s, f)] for f in range(folds) if (s, f) in final]
        if len(scores) < folds:
            continue
        accs = [a for a, _ in scores]
        results.append({"setting": setting, "label": label(setting), "index": s, "mean": statistics.fmean(accs),
                        "spread": _spread(accs), "folds": accs,
                        "seconds": statistics.fmean([t for _, t in scores])})
    results.sort(key=lambda r: (-r["mean"], r["seconds"]))
    for rank, r in enumerate(results, 1):
        r["rank"] = rank
    return {"knobs": spec.knobs, "folds": folds, "epochs": spec.epochs, "preset": spec.preset,
            "complete": len(results) == len(settings), "results": results,
            "best": results[0] if results else None}


def curves(rows: list, setting: int) -> list:
    """Epoch-end rows of one setting, averaged over its folds per epoch: epoch, train_loss, val_loss,
    train_acc, val_acc (for the train-vs-validation chart)."""
    by_epoch = {}
    for r in rows:
        if r.get("setting") == setting and "val_acc" in r:
            by_epoch.setdefault(round(r["epoch"], 3), []).append(r)
    out = []
    for epoch in sorted(by_epoch):
        group = by_epoch[epoch]
        avg = {"epoch": epoch}
        for k in ("train_loss", "val_loss", "train_acc", "val_acc"):
            vals = [g[k] for g in group if isinstance(g.get(k), (int, float)) and math.isfinite(g[k])]
            if vals:
                avg[k] = statistics.fmean(vals)
        out.append(avg)
    return out
