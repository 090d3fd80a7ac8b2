"""Experiments page: compare runs, the class board, a sweep with cross-validation, and whether generated
images help a classifier trained on few real ones.

Every run trained on this server (finished or stopped) is kept in the run store (imgai/experiments/run_store.py), so
this page works across reloads and server restarts. Only runs published to the class board are visible to
other browsers.
"""
import streamlit as st

from ui.experiments.augment_view import augment_section
from ui.experiments.board import board_section
from ui.experiments.compare import compare_section
from ui.resources import run_store
from ui.experiments.sweep_view import sweep_section
from ui.jobs import owner_id

st.title("Experiments")
st.caption("Put runs side by side, see the whole class's results, and answer the questions every learner asks: "
           "which settings are best, and can generated images stand in for real ones?")

store, owner = run_store(), owner_id()
compare, board, sweep, augment = st.tabs([":material/compare_arrows: Compare runs", ":material/leaderboard: Class board",
                                          ":material/tune: Sweep", ":material/auto_awesome: Generation → recognition"])
with compare:
    compare_section(store, owner)
with board:
    board_section(store, owner)
with sweep:
    st.caption("Which learning rate, batch size or optimiser works best? Choose one or two knobs and a few values; "
               "every combination is trained and scored on images it did not learn from.")
    sweep_section(store, owner)
with augment:
    augment_section(store, owner)
