"""The sweep section: choose one or two knobs and a few values, start the grid as a background job, watch it,
then read the ranked table, the chart per setting and the train-vs-validation curves.

    sweep_section(store, owner)

The grid runs as this browser's one job (queued under the server's cap like any training run). Its rows
come from the job while it is on the server and from the run store afterwards (after a restart too).
"""
import pandas as pd
import streamlit as st

from imgai.experiments.sweep import KNOBS, SweepError, SweepSpec, curves, grid, prepare_sweep, summarize
from ui.charts import CHART_CONFIG
from ui.experiments.charts import sweep_figure, train_val_figure
from ui.experiments.queued import queued_section
from ui.resources import cached_dataset

VALUES = {  # what a student picks from; the first values are the defaults
    "lr": ([3e-4, 3e-3, 3e-2], [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1]),
    "batch_size": ([32, 128], [8, 16, 32, 64, 128, 256, 512]),
    "optimizer": (["adam", "sgd"], ["adam", "sgd", "rmsprop"]),
    "dropout": ([0.0, 0.5], [0.0, 0.1, 0.25, 0.5, 0.75]),
    "weight_decay": ([0.0, 1e-3], [0.0, 1e-5, 1e-4, 1e-3, 1e-2]),
    "augment": ([True, False], [True, False]),
}
FOLDS = {1: "quick: the fixed validation split", 2: "2-fold cross-validation", 3: "3-fold cross-validation",
         5: "5-fold cross-validation"}
HELP = {
    "knob": "A knob is a setting you choose before training. A sweep trains one network per value and "
            "compares them on images they did not learn from.",
    "folds": "k-fold cross-validation splits the training images into k parts; each setting is trained k times, "
             "each time scored on the part it did not see. The mean over the folds is a fairer score than one "
             "split, and the spread tells you how much of a difference is luck. The 500 validation digits stay "
             "unseen, for checking the winner at the end. Quick: one run per setting, scored on them.",
    "epochs": "Epochs per run: enough to tell settings apart. Longer runs show overfitting better.",
}


def _fmt(v) -> str:
    return "on" if v is True else "off" if v is False else f"{v:g}" if isinstance(v, float) else str(v)


def _setup() -> SweepSpec | None:
    keep = {"persist_state": "session"}
    a, b = st.columns(2)
    k1 = a.selectbox("Knob", list(KNOBS), format_func=lambda k: KNOBS[k][2], key="exp_sweep_k1", help=HELP["knob"],
                     **keep)
    v1 = a.multiselect(f"Values of {KNOBS[k1][2]}", VALUES[k1][1], default=VALUES[k1][0], format_func=_fmt,
                       key=f"exp_sweep_v1_{k1}", **keep)
    others = ["none"] + [k for k in KNOBS if k != k1]
    k2 = b.selectbox("Second knob (optional)", others, format_func=lambda k: "—" if k == "none" else KNOBS[k][2],
                     key="exp_sweep_k2", **keep)
    knobs = {k1: sorted(v1, key=VALUES[k1][1].index)}
    if k2 != "none":
        v2 = b.multiselect(f"Values of {KNOBS[k2][2]}", VALUES[k2][1], default=VALUES[k2][0], format_func=_fmt,
                           key=f"exp_sweep_v2_{k2}", **keep)
        knobs[k2] = sorted(v2, key=VALUES[k2][1].index)
    a, b, c = st.columns(3)
    folds = a.selectbox("Validation", list(FOLDS), index=2, format_func=FOLDS.get, key="exp_sweep_folds",
                        help=HELP["folds"], **keep)
    epochs = b.number_input("Epochs per run", 0.1, 20.0, 2.0, step=0.5, format="%g", key="exp_sweep_epochs",
                            help=HELP["epochs"], **keep)
    dataset = c.selectbox("Data set", ["digits", "mnist", "fashion-mnist", "cifar10"], key="exp_sweep_dataset", **keep)
    try:
        n = len(grid(knobs))
    except SweepError as e:
        st.warning(str(e))
        return None
    st.caption(f"{n} setting{'s' if n > 1 else ''} × {folds} run{'s' if folds > 1 else ''} each = "
               f"**{n * folds} trainings** of {epochs:g} epoch{'s' if epochs != 1 else ''}, one after the other.")
    return SweepSpec(knobs=knobs, folds=int(folds), epochs=float(epochs), dataset=dataset)


def _prepare(spec: SweepSpec):
    return prepare_sweep(spec, data=cached_dataset(spec.dataset))


def sweep_section(store, owner: str):
    run = queued_section("exp_sweep", "sweep", "Start sweep", _setup(), _prepare, (SweepError,), _live, store, owner)
    if run is not None:
        last = SweepSpec(**run["settings"]["sweep"])
        st.caption(f"Your last sweep ({run['status']}): {' and '.join(KNOBS[k][2] for k in last.knobs)}, "
                   f"{FOLDS.get(last.folds, f'{last.folds}-fold cross-validation')}, {last.epochs:g} epochs per run, "
                   f"{last.dataset}")
        show_results(run["history"], last)


def _live(job):
    spec = SweepSpec(**job.meta["sweep"])
    rows = job.metrics()
    n_runs = len(grid(spec.knobs)) * spec.folds
    last = rows[-1] if rows else {}
    i = last.get("setting", 0) * spec.folds + last.get("fold", 0) + 1
    status = {"running": f"training run {i} of {n_runs}", "paused": "paused", "done": "finished",
              "stopped": "stopped", "error": f"stopped by an error: {job.error}"}.get(job.status, job.status)
    st.progress(min(1.0, float(last.get("progress", 0.0))), text=f"Sweep: {status} · {last.get('progress', 0):.0%}")
    show_results(rows, spec)


def show_results(rows: list, spec: SweepSpec):
    out = summarize(rows, spec)
    results = out["results"]
    if not results:
        st.caption("The first setting's results appear when all its folds are trained.")
        return
    best = out["best"]
    spread = f" ± {best['spread']:.1%}" if spec.folds > 1 else ""
    head = "Best" if out["complete"] else "Best so far"
    st.markdown(f"**{head}: {best['label']}** — {best['mean']:.1%}{spread} validation accuracy"
                + (f" (mean ± spread over {spec.folds} folds)" if spec.folds > 1 else
                   " (one fixed validation split: no spread, so a small lead may be luck)"))
    table = pd.DataFrame([{"rank": r["rank"], "setting": r["label"], "mean": 100 * r["mean"],
                           "spread": 100 * r["spread"] if spec.folds > 1 else None,   # one fold: no spread
                           "folds": ", ".join(f"{a:.1%}" for a in r["folds"]), "seconds per run": r["seconds"]}
                          for r in results]).set_index("rank")
    st.dataframe(table.style.apply(lambda row: ["background-color: #D3F9D8" if row.name == 1 else "" for _ in row],
                                   axis=1),
                 width="stretch", column_config={
                     "mean": st.column_config.NumberColumn("mean validation accuracy", format="%.1f%%"),
                     "spread": st.column_config.NumberColumn("± spread (std. dev.)", format="%.1f%%"),
                     "seconds per run": st.column_config.NumberColumn(format="%.1f")})
    st.plotly_chart(sweep_figure(results), key="exp_sweep_chart", config=CHART_CONFIG)
    labels = {r["index"]: r["label"] for r in results}
    worst = max(results, key=lambda r: r["rank"])
    picked = st.multiselect("Train-vs-validation curves of", list(labels), default=sorted({best["index"], worst["index"]}),
                            format_func=labels.get, key="exp_sweep_curves",
                            help="Solid: on the images it trains on; dashed: on images it never trained on. When "
                                 "the dashed loss turns up while the solid one keeps falling, it is overfitting: "
                                 "memorising the training images. Dropout, weight decay and augmentation fight it.")
    series = {labels[i]: curves(rows, i) for i in picked}
    if spec.folds > 1:
        st.caption("Each point is the mean over the folds at the end of an epoch. Training accuracy is the running "
                   "average over the epoch with dropout and augmentation on, so it can trail validation early on.")
    if series:
        a, b = st.columns(2)
        a.plotly_chart(train_val_figure(series, "train_loss", "val_loss", "Loss: training vs validation", "loss"),
                       key="exp_sweep_tv_loss", config=CHART_CONFIG)
        b.plotly_chart(train_val_figure(series, "train_acc", "val_acc", "Accuracy: training vs validation",
                                        "share correct", ".0%"), key="exp_sweep_tv_acc", config=CHART_CONFIG)
