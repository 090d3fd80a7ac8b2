"""The class board: every published run of the class on one chart and in one ranked table.

    board_section(store, owner)

A board per kind of model: classifiers ranked by validation accuracy, GANs by the Fréchet distance of 1,000
of their samples to the held-out images (judged when the run ended: imgai.inference.quality.board_judgement).
It reads the run store every few seconds (a fragment), so a run published from another browser appears
without a reload. Nicknames are user text: escaped for markdown and charts; tables show them as plain text.
"""
import statistics

import pandas as pd
import streamlit as st

from imgai.experiments.run_store import frechet, score
from ui.charts import CHART_CONFIG
from ui.experiments.charts import board_figure
from ui.experiments.compare import KIND
from ui.safe_text import md

REFRESH_S = 5.0
BOARDS = {"cnn": "Classifiers (validation accuracy)", "dcgan": "GANs (Fréchet distance)",
          "cdcgan": "Conditional GANs (Fréchet distance)"}
GAN_HELP = ("**Fréchet distance** (lower is better): 1,000 samples of the generator, drawn when its run ended, and "
            "the data set's held-out images are each fitted with a Gaussian in the shipped digits CNN's features; "
            "the number is the distance between the two (Heusel et al. 2017: the FID, with a digits network in "
            "place of Inception). Never 0 for finite sets: the dashed line is what 1,000 real training images "
            "score. *Readable*: the share of samples the CNN reads with at least 90% confidence; *classes drawn*: "
            "how many classes hold at least 3% of those. Runs from before the judge, or on data the digits CNN "
            "cannot read, have no distance and rank last, by sample quality (readable × classes covered, on "
            "their last 36 samples).")


def board_section(store, owner: str):
    st.fragment(_board, run_every=REFRESH_S)(store, owner)


def _row(rank: int, r: dict, owner: str, gan: bool) -> dict:
    t, m, f = r["settings"].get("train") or {}, r["settings"].get("model") or {}, r["final"]
    row = {"rank": rank, "nickname": r["nickname"], "score": frechet(r) if gan else score(r),
           "seconds": f.get("seconds") or 0.0}
    if gan:
        row.update({"readable": f.get("readable"), "classes drawn": f.get("classes_drawn"), "sample quality": score(r)})
    row.update({"model": f"{KIND.get(r['kind'], r['kind'])} · {r['settings'].get('preset') or '?'}",
                "epochs": f.get("epoch"), "batch": t.get("batch_size"), "lr": t.get("lr"),
                "optimiser": t.get("optimizer"), "weight decay": t.get("weight_decay"),
                "dropout": m.get("dropout", m.get("d_dropout")), "augment": t.get("augment"),
                "yours": r["owner"] == owner})
    return row


def _board(store, owner: str):
    runs = store.board()
    if not runs:
        st.info("Nobody has published a run yet. Train one on the **Train** page, then publish it under "
                "**Compare runs** with a nickname: it appears here for the whole class.", icon=":material/leaderboard:")
        return
    kinds = [k for k in BOARDS if any(r["kind"] == k for r in runs)]
    a, b = st.columns(2)
    kind = a.segmented_control("Board", kinds, default=kinds[0], format_func=BOARDS.get, key="exp_board_kind") or kinds[0]
    datasets = sorted({r["dataset"] or "?" for r in runs if r["kind"] == kind})
    dataset = b.selectbox("Data set", datasets, key="exp_board_dataset") if len(datasets) > 1 else datasets[0]
    shown = [r for r in runs if r["kind"] == kind and (r["dataset"] or "?") == dataset]   # ranked (store.board)
    gan = kind != "cnn"
    metric = "Fréchet distance to held-out images" if gan else "validation accuracy"
    rows = [_row(rank, r, owner, gan) for rank, r in enumerate(shown, 1)]
    scored = [r for r in rows if isinstance(r["score"], (int, float))]
    floors = [r["final"]["frechet_real"] for r in shown if isinstance(r["final"].get("frechet_real"), (int, float))]
    floor = statistics.median(floors) if floors else None
    if scored:
        best = scored[0]
        value = f"a distance of **{best['score']:.0f}**" if gan else f"**{best['score']:.1%}** {md(metric)}"
        st.markdown(f"**{len(rows)}** published run{'s' if len(rows) != 1 else ''} on **{md(dataset)}** · best: "
                    f"**{md(best['nickname'])}** with {value} after {best['seconds']:.0f} s of training"
                    + (f" (real images: {floor:.0f})" if gan and floor is not None else ""))
    if gan:
        st.caption(GAN_HELP)
        if len(scored) < len(rows):
            st.caption(f"{len(rows) - len(scored)} of the {len(rows)} runs have no Fréchet distance: they are "
                       "listed last and left off the chart.")
    a, b = st.columns(2)
    if gan:
        target = a.number_input("Challenge: a distance of at most", 0.0, 100_000.0, 0.0, step=10.0, format="%g",
                                key="exp_board_gan_target", help="e.g. 'who gets under 100 in 60 s?'. 0 = no challenge.")
    else:
        target = a.number_input("Challenge: at least this score (%)", 0.0, 100.0, 0.0, step=1.0, format="%g",
                                key="exp_board_target", help="A teacher's question, e.g. 'who can beat 98% in 20 s?'. "
                                "0 = no challenge.") / 100
    within = b.number_input("… within this many seconds of training", 1.0, 3600.0, 20.0, step=5.0, format="%g",
                            key="exp_board_within")
    fig = board_figure(scored, metric, lower_better=gan, floor=floor)
    if target > 0:
        y0, y1 = (0, target) if gan else (target, 1.05)   # the green corner: under the distance, over the share
        fig.layout.shapes = [*fig.layout.shapes, {"type": "rect", "xref": "x", "yref": "y", "x0": 0, "x1": within,
                             "y0": y0, "y1": y1, "fillcolor": "rgba(43,138,62,0.12)", "line": {"width": 0}}]
        for r in rows:
            value = r["score"]
            meets = isinstance(value, (int, float)) and (value <= target if gan else value >= target)
            r["meets challenge"] = meets and r["seconds"] <= within
        n = sum(r["meets challenge"] for r in rows)
        goal = f"a distance of {target:g} or less" if gan else f"{target:.0%}"
        st.caption(f"{n} of {len(rows)} run{'s' if len(rows) != 1 else ''} "
                   f"{'reach' if gan else 'beat'} {goal} within {within:g} s (the green corner of the chart).")
    st.plotly_chart(fig, key="exp_board_chart", config=CHART_CONFIG)
    table = pd.DataFrame(rows).set_index("rank")
    percent = ["readable", "sample quality"] if gan else ["score"]
    for col in percent:   # shown as percent with one decimal, as on the other tabs
        table[col] = pd.to_numeric(table[col], errors="coerce") * 100
    st.dataframe(table, width="stretch", column_config={
        "score": st.column_config.NumberColumn(metric, format="%.0f" if gan else "%.1f%%"),
        "readable": st.column_config.NumberColumn("readable", format="%.0f%%"),
        "sample quality": st.column_config.NumberColumn("sample quality", format="%.0f%%"),
        "seconds": st.column_config.NumberColumn("seconds", format="%.0f"),
        "epochs": st.column_config.NumberColumn("epochs", format="%.1f"),
        "lr": st.column_config.NumberColumn("learning rate", format="%g"),
        "yours": st.column_config.CheckboxColumn("yours")})
