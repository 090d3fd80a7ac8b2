"""The class board: every published run of the class on one chart and in one ranked table.

    board_section(store, owner)

It reads the run store every few seconds (a fragment), so a run published from another browser appears
without a reload. Nicknames are user text: escaped for markdown and charts; tables show them as plain text.
"""
import pandas as pd
import streamlit as st

from imgai.experiments.run_store import score
from ui.charts import CHART_CONFIG
from ui.experiments.charts import board_figure
from ui.experiments.compare import KIND
from ui.safe_text import md

REFRESH_S = 5.0
BOARDS = {"cnn": "Classifiers (validation accuracy)", "dcgan": "GANs (sample quality)",
          "cdcgan": "Conditional GANs (sample quality)"}


def board_section(store, owner: str):
    st.fragment(_board, run_every=REFRESH_S)(store, owner)


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
    shown = [r for r in runs if r["kind"] == kind and (r["dataset"] or "?") == dataset]
    metric = "validation accuracy" if kind == "cnn" else "sample quality (digits read × classes covered)"
    rows = []
    for rank, r in enumerate(shown, 1):
        t, m, f = r["settings"].get("train") or {}, r["settings"].get("model") or {}, r["final"]
        rows.append({"rank": rank, "nickname": r["nickname"], "score": score(r), "seconds": f.get("seconds") or 0.0,
                     "model": f"{KIND.get(r['kind'], r['kind'])} · {r['settings'].get('preset') or '?'}",
                     "epochs": f.get("epoch"), "batch": t.get("batch_size"), "lr": t.get("lr"),
                     "optimiser": t.get("optimizer"), "weight decay": t.get("weight_decay"),
                     "dropout": m.get("dropout", m.get("d_dropout")), "augment": t.get("augment"),
                     "yours": r["owner"] == owner})
    scored = [r for r in rows if isinstance(r["score"], (int, float))]
    if scored:
        best = scored[0]
        st.markdown(f"**{len(rows)}** published run{'s' if len(rows) != 1 else ''} on **{md(dataset)}** · best: "
                    f"**{md(best['nickname'])}** with **{best['score']:.1%}** {md(metric)} after "
                    f"{best['seconds']:.0f} s of training")
    if kind != "cnn":
        st.caption("GAN sample quality: the share of the run's last 36 samples that the shipped digits CNN reads "
                   "with at least 90% confidence, times the share of the ten digits they cover (a generator that "
                   "draws one digit only scores low). Only for digit data sets.")
    a, b = st.columns(2)
    target = a.number_input("Challenge: at least this score (%)", 0.0, 100.0, 0.0, step=1.0, format="%g",
                            key="exp_board_target", help="A teacher's question, e.g. 'who can beat 98% in 20 s?'. "
                            "0 = no challenge.") / 100
    within = b.number_input("… within this many seconds of training", 1.0, 3600.0, 20.0, step=5.0, format="%g",
                            key="exp_board_within")
    fig = board_figure(scored, metric)
    if target > 0:
        fig.layout.shapes = [{"type": "rect", "xref": "x", "yref": "y", "x0": 0, "x1": within, "y0": target, "y1": 1.05,
                              "fillcolor": "rgba(43,138,62,0.12)", "line": {"width": 0}}]
        for r in rows:
            r["meets challenge"] = isinstance(r["score"], (int, float)) and r["score"] >= target and r["seconds"] <= within
        n = sum(r["meets challenge"] for r in rows)
        st.caption(f"{n} of {len(rows)} run{'s' if len(rows) != 1 else ''} beat {target:.0%} within {within:g} s "
                   "(the green corner of the chart).")
    st.plotly_chart(fig, key="exp_board_chart", config=CHART_CONFIG)
    table = pd.DataFrame(rows).set_index("rank")
    table["score"] = table["score"] * 100   # shown as percent with one decimal, as on the other tabs
    st.dataframe(table, width="stretch", column_config={
        "score": st.column_config.NumberColumn(metric, format="%.1f%%"),
        "seconds": st.column_config.NumberColumn("seconds", format="%.0f"),
        "epochs": st.column_config.NumberColumn("epochs", format="%.1f"),
        "lr": st.column_config.NumberColumn("learning rate", format="%g"),
        "yours": st.column_config.CheckboxColumn("yours")})
