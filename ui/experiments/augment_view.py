"""Generation feeds recognition: the CNN trained on a few real digits per class, with and without generated
ones added, as measured (by this browser's own run, or by the project's benchmark).

    augment_section(store, owner)
"""
import json
from pathlib import Path

import pandas as pd
import streamlit as st

from imgai.experiments.augment_experiment import AugmentSpec, ExperimentError, prepare_experiment, summarize
from imgai.models.checkpoint import CheckpointError, list_checkpoints
from ui.charts import CHART_CONFIG
from ui.experiments.charts import augment_figure
from ui.experiments.queued import queued_section
from ui.safe_text import md
from ui.resources import cached_dataset

BENCH = Path(__file__).resolve().parents[2] / "bench" / "results" / "experiments.json"
LABELLERS = {"shipped": "the shipped digits CNN (it learned from all 4,500 labelled digits)",
             "self": "the network trained on the few real images itself (pseudo-labels)"}
EXPLAIN = (
    "Can a generator make up for missing training data? Each setting trains the CNN twice on the same few real "
    "digits per class — once alone, once with generated digits added — for the same number of steps, and "
    "scores both on the 500 validation digits. Repeated over a few seeds (other real images, other starting "
    "weights), so the spread shows how much is luck. A plain GAN does not know which digit it draws, so a "
    "classifier labels its samples and only those it is sure of are kept; a conditional GAN draws the asked "
    "digit itself. Mind what the helpers knew: the GAN saw all 4,500 training digits (without labels) and the "
    "shipped labeller learned from all their labels, so with that labeller the generated images carry "
    "knowledge the few-shot network was not given. Labelling with the few-shot network itself avoids that.")


def _generators() -> dict:
    return {m["path"]: f"{m['name']} · {m['kind']}" + (" · shipped" if m.get("shipped") else "")
            for m in list_checkpoints() if m["kind"] in ("dcgan", "cdcgan")}


def _setup() -> AugmentSpec | None:
    keep = {"persist_state": "session"}
    gens = _generators()
    if not gens:
        st.warning("No generator to draw from: train a GAN on the Train page and save it first.")
        return None
    a, b, c = st.columns(3)
    per_class = a.multiselect("Real images per class", [5, 10, 20, 50, 100, 200], default=[10, 50, 100],
                              key="exp_aug_per_class", **keep)
    seeds = b.slider("Seeds per setting", 1, 5, 3, key="exp_aug_seeds", help="Repeats with other real images and "
                     "other starting weights; the spread over them shows how much of a difference is luck.", **keep)
    extra = c.select_slider("Generated images added per class", [25, 50, 100, 200, 400], value=100,
                            key="exp_aug_extra", **keep)
    a, b, c = st.columns(3)
    generator = a.selectbox("Generator", list(gens), format_func=gens.get, key="exp_aug_gen", **keep)
    labeller = b.radio("Who labels a plain GAN's digits", list(LABELLERS), format_func=LABELLERS.get,
                       key="exp_aug_labeller", help="Ignored for a conditional GAN, which draws the asked digit.",
                       **keep)
    steps = c.select_slider("Training steps per network", [50, 100, 200, 300, 500], value=200, key="exp_aug_steps",
                            help="The same with or without generated images (batches of 64).", **keep)
    if not per_class:
        st.caption("Pick at least one number of real images per class.")
        return None
    n = len(per_class) * seeds * 2
    st.caption(f"{len(per_class)} sizes × {seeds} seed{'s' if seeds > 1 else ''} × 2 = **{n} trainings** of "
               f"{steps} steps.")
    return AugmentSpec(per_class=sorted(per_class), seeds=list(range(seeds)), generated_per_class=int(extra),
                       steps=int(steps), labeller=labeller, generator=generator)


def _prepare(spec: AugmentSpec):
    return prepare_experiment(spec, cached_dataset("digits"))


def augment_section(store, owner: str):
    st.caption(EXPLAIN)
    _benchmark()
    st.markdown("##### Run it yourself")
    run = queued_section("exp_aug", "experiment", "Start experiment", _setup(), _prepare,
                         (ExperimentError, CheckpointError), _live, store, owner)
    if run is not None:
        e = run["settings"]["experiment"]
        st.caption(f"Your last experiment ({run['status']}): {md(Path(str(e.get('generator', '?'))).name)}, "
                   f"{md(e.get('labeller', '?'))} labeller, {e.get('steps', '?')} steps per network, "
                   f"{e.get('generated_per_class', '?')} generated per class")
        show_results(summarize(run["history"]), key="exp_aug_chart_stored")


def _live(job):
    rows = job.metrics()
    p = float(rows[-1]["progress"]) if rows else 0.0
    status = {"error": f"stopped by an error: {job.error}"}.get(job.status, job.status)
    st.progress(min(1.0, p), text=f"Experiment: {status} · {p:.0%}")
    show_results(summarize(rows), key="exp_aug_chart_live")


def show_results(out: dict, key: str):
    settings = out["settings"]
    if not settings:
        st.caption("Results appear after the first two trainings.")
        return
    by = {(s["per_class"], s["mode"]): s for s in settings}
    one_seed = all(len(s["val_acc"]) < 2 for s in settings)
    if one_seed:
        st.markdown("With **one seed** there is no spread to compare a difference with, so none of these is a "
                    "finding yet: run two or more seeds to tell a real effect from luck.")
    for g in out["gains"]:
        pts = f"{abs(g['gain']) * 100:.1f} points"
        noise = max(by[(g["per_class"], m)]["spread"] for m in ("real", "real+generated"))
        if one_seed or not g["gain"]:
            text = (f"with generated digits {'+' if g['gain'] >= 0 else '−'}{pts} (one seed each: not a finding)"
                    if one_seed else "adding generated digits did not change validation accuracy")
        elif abs(g["gain"]) > noise:   # a finding only when larger than the spread over seeds
            text = f"adding generated digits {'raised' if g['gain'] > 0 else 'lowered'} validation accuracy by {pts}"
        else:
            text = (f"with generated digits {'+' if g['gain'] > 0 else '−'}{pts}, less than the spread over seeds "
                    f"({noise * 100:.1f} points): no finding, it may be luck")
        st.markdown(f"- **{g['per_class']} real per class:** {text}")
    st.plotly_chart(augment_figure(settings), key=key, config=CHART_CONFIG)
    table = pd.DataFrame([{"real per class": s["per_class"], "training data": s["mode"], "mean": 100 * s["mean"],
                           "spread": 100 * s["spread"] if len(s["val_acc"]) > 1 else None,  # one seed: none
                           "seeds": len(s["val_acc"]),
                           "generated added": s.get("generated", 0)} for s in settings])
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        "mean": st.column_config.NumberColumn("mean validation accuracy", format="%.1f%%"),
        "spread": st.column_config.NumberColumn("± spread (std. dev.)", format="%.1f%%"),
        "generated added": st.column_config.NumberColumn(format="%.0f")})


def _benchmark():
    """The project's own measured run (bench/bench_experiments.py), for those who do not want to wait."""
    try:
        result = json.loads(BENCH.read_text())
        out = result["figures"]["augment"]
    except (OSError, ValueError, KeyError):
        return
    spec = out.get("spec", {})
    with st.expander(f"Measured by the project: {md(result.get('date', ''))}, "
                     f"{spec.get('steps', '?')} steps, {len(spec.get('seeds', []))} seeds, "
                     f"{md(spec.get('labeller', '?'))} labeller", icon=":material/science:"):
        show_results(out, key="exp_aug_chart_bench")
