"""Compare runs: pick several stored runs, see their curves overlaid and their settings side by side with
what differs highlighted; publish one of yours to the class board.

    compare_section(store, owner)
"""
import time

import pandas as pd
import streamlit as st

from imgai.experiments.run_store import LABEL_MAX, RunStoreError, frechet, score
from imgai.models import KIND_NAMES
from ui.charts import CHART_CONFIG
from ui.experiments.charts import METRICS, overlay_figure
from ui.safe_text import md

KIND = KIND_NAMES
# the settings a student chose, in the order the Train page shows them; the rest follow
FIRST = ["kind", "dataset", "preset", "train.epochs", "train.seconds", "train.batch_size", "train.lr", "train.optimizer",
         "train.weight_decay", "model.dropout", "model.d_dropout", "train.augment", "train.seed", "train.schedule"]

PLUMBING = {"train.log_every", "train.n_samples", "train.sample_every"}  # how often it reported, not how it learned


def kind_of(run: dict) -> str:
    s = run.get("settings") or {}
    if "sweep" in s:
        return "sweep"
    if "experiment" in s:
        return "experiment"
    return KIND.get(run.get("kind"), str(run.get("kind")))


def run_name(run: dict, owner: str) -> str:
    """A short, unique-enough name: the owner's own name for it if any, then who, when, what, how good. Plain
    text (escape before markdown)."""
    who = "you" if run["owner"] == owner else (run.get("nickname") or "someone")
    when = time.strftime("%d %b %H:%M", time.localtime(run.get("finished") or 0))
    value = score(run)
    result = f" · {score_name(run)} {value:.1%}" if isinstance(value, (int, float)) else ""
    label = f"“{run['label']}” · " if run.get("label") else ""
    return f"{label}{who} · {when} · {kind_of(run)} on {run.get('dataset') or '?'}{result} · #{run['id'][:4]}"


def score_name(run: dict) -> str:
    """What the one number of a run is (imgai.experiments.run_store.score), in a few words."""
    return "validation accuracy" if run.get("kind") == "cnn" else "sample quality"


SCORE_HELP = ("A classifier's number is its validation accuracy: the share of held-out images it names right. "
              "A digit GAN's is its sample quality: the share of its samples the shipped digits CNN reads with "
              "at least 90% confidence, times the share of the ten digits those cover (a GAN drawing only 1s "
              "scores low); the class board ranks GANs by their Fréchet distance to the held-out images "
              "(lower is closer), where their run was judged.")


def what_it_did(run: dict) -> dict:
    """What the run actually did, from its history: the epochs and steps it got through and the learning
    rates it used (a schedule, and any change made by hand mid-run), beside what was asked for."""
    rows, final = run.get("history") or [], run.get("final") or {}
    rates = [r["lr"] for r in rows if isinstance(r.get("lr"), (int, float))]
    did = {"did.epochs": final.get("epoch"), "did.steps": final.get("step"), "did.seconds": final.get("seconds")}
    if rates:
        lo, hi = min(rates), max(rates)
        did["did.lr"] = f"{rates[0]:.3g} at the start, {rates[-1]:.3g} at the end" + \
            (f" (from {lo:.3g} to {hi:.3g})" if hi > max(rates[0], rates[-1]) * 1.0001 else "")
    return did


def flat_settings(run: dict) -> dict:
    """settings {"train": {...}, "model": {...}} -> {"train.lr": ..., "model.dropout": ...} plus kind/dataset."""
    s = run.get("settings") or {}
    out = {"kind": kind_of(run), "dataset": run.get("dataset"), "preset": s.get("preset")}
    for part in ("train", "model"):
        for k, v in (s.get(part) or {}).items():
            if f"{part}.{k}" in PLUMBING:
                continue
            out[f"{part}.{k}"] = v if isinstance(v, (int, float, str, bool)) or v is None else str(v)
    train = s.get("train") or {}
    if train.get("seconds") is not None and "train.epochs" in out:
        out["train.epochs"] = "— (a time budget)"      # the preset's epochs were never the run's length
    out.update(what_it_did(run))
    out[f"result.{score_name(run)}"] = score(run)
    if frechet(run) is not None:   # a GAN judged when it ended: what the class board ranks it by
        out["result.Fréchet distance"] = round(frechet(run), 1)
    out["status"] = run.get("status")
    return out


def settings_table(runs: list, names: list):
    """One column per run, one row per setting; rows whose values differ are highlighted."""
    flat = [flat_settings(r) for r in runs]
    keys = [k for k in FIRST if any(k in f for f in flat)]
    results = ["did.epochs", "did.steps", "did.seconds", "did.lr", "result.validation accuracy",
               "result.sample quality", "result.Fréchet distance", "status"]
    results = [k for k in results if any(k in f for f in flat)]
    keys += sorted({k for f in flat for k in f} - set(keys) - set(results)) + results
    table = pd.DataFrame({name: [_fmt(f.get(k)) for k in keys] for name, f in zip(names, flat)}, index=keys)
    # results (score, seconds, status) differ between any two runs: only chosen settings are highlighted
    differs = (table.nunique(axis=1) > 1) & ~table.index.str.startswith(("result.", "did.", "status"))

    def highlight(row):
        return ["background-color: #FFF3BF; font-weight: 600" if differs[row.name] else "" for _ in row]
    return table.style.apply(highlight, axis=1), int(differs.sum())


def _fmt(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "on" if v else "off"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def name_panel(store, owner: str, mine: list, names: dict):
    """Name one of your runs ("lr 0.1, no augment"): the name leads its entry in every list, legend and table."""
    if not mine:
        return
    with st.expander("Name a run", icon=":material/label:"):
        a, b, c = st.columns([3, 3, 1], vertical_alignment="bottom")
        rid = a.selectbox("Your run", [r["id"] for r in mine], format_func=names.get, key="exp_name_run")
        current = next((r.get("label") or "" for r in mine if r["id"] == rid), "")
        text = b.text_input("Its name", value=current, max_chars=LABEL_MAX, key=f"exp_name_text_{rid}",
                            placeholder="e.g. lr 0.1, no augment", help="Empty: no name. Only you can name your runs.")
        if c.button("Save", key="exp_name_save", width="stretch"):
            try:
                store.rename(rid, owner, text)
            except RunStoreError as e:
                st.error(str(e), icon=":material/error:")
            else:
                st.rerun()


def compare_section(store, owner: str):
    # sweeps and experiments chain many trainings in one history: they have their own tabs
    runs = [r for r in store.visible(owner, limit=300)
            if (r["status"] != "error" or r["owner"] == owner) and kind_of(r) in KIND.values()]
    if not runs:
        st.info("No runs yet. Every run you train on the **Train** page (finished or stopped) is kept here, "
                "and so is every run your classmates publish to the class board.", icon=":material/info:")
        return
    names = {r["id"]: run_name(r, owner) for r in runs}
    default = [r["id"] for r in runs if r["owner"] == owner][:2]
    picked = st.multiselect("Runs to compare", list(names), default=default, format_func=names.get,
                            key="exp_compare_runs", max_selections=10,
                            help="Your own runs, newest first, and every run published to the class board. "
                                 + SCORE_HELP)
    name_panel(store, owner, [r for r in runs if r["owner"] == owner], names)
    if not picked:
        st.caption("Pick one or more runs above.")
    else:
        chosen = [store.get(i) for i in picked]
        chosen = [r for r in chosen if r is not None]
        series = [(names[r["id"]], r["history"]) for r in chosen]
        keys = [k for k in METRICS if any(k in row for _, rows in series for row in rows)]
        cols = st.columns(2)
        for i, key in enumerate(keys):
            cols[i % 2].plotly_chart(overlay_figure(series, key), key=f"exp_overlay_{key}", config=CHART_CONFIG)
        styled, n_diff = settings_table(chosen, [names[r["id"]] for r in chosen])
        st.markdown(f"**Settings side by side** — {n_diff} that differ are highlighted" if len(chosen) > 1
                    else "**Settings**")
        st.dataframe(styled, width="stretch", height=min(700, 36 + 35 * len(styled.data)))
        st.caption("**train.**… and **model.**… rows are what was asked for; **did.**… rows are what the run "
                   "actually did (epochs and steps reached, the learning rates it used, a schedule's and any "
                   "change made mid-run included). " + SCORE_HELP)
    publish_panel(store, owner, runs)


def publish_panel(store, owner: str, runs: list):
    mine = [r for r in runs if r["owner"] == owner and r["status"] != "error" and kind_of(r) in KIND.values()]
    with st.expander("Publish a run to the class board", expanded=bool(mine), icon=":material/leaderboard:"):
        if not mine:
            st.caption("Finish (or stop) a training run on the **Train** page first; then you can show it to the "
                       "class here under a nickname. Only runs you publish are visible to others.")
            return
        names = {r["id"]: run_name(r, owner) for r in mine}
        with st.form("exp_publish_form", border=False):
            rid = st.selectbox("Your run", list(names), format_func=names.get, key="exp_publish_run")
            nick = st.text_input("Nickname shown to the class", max_chars=24, key="exp_publish_nick",
                                 placeholder="e.g. Ada", help="Up to 24 characters. Everyone on this server sees it.")
            sent = st.form_submit_button("Publish", type="primary", icon=":material/publish:")
        if sent:
            try:
                run = store.publish(rid, owner, nick)
                st.session_state["exp_published"] = run["nickname"]
                st.rerun()   # redraw the page: the board and the list below show it now
            except RunStoreError as e:
                st.error(str(e))
        if st.session_state.get("exp_published"):
            st.success(f"Published as **{md(st.session_state.pop('exp_published'))}**: it is on the class board now.")
        published = [r for r in mine if r.get("nickname")]
        for r in published:
            a, b = st.columns([4, 1])
            a.caption(f"On the board as **{md(r['nickname'])}**: {md(names[r['id']])}")
            if b.button("Withdraw", key=f"exp_unpublish_{r['id']}", help="Take this run off the class board."):
                store.unpublish(r["id"], owner)
                st.rerun()
