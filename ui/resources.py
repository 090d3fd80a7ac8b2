"""What every page shares, one per server: the run store and the built-in data sets.

    store = run_store(); data = cached_dataset("digits")

Runs reach the store when their job ends, on both backends: the registry's on_end calls
imgai.experiments.run_store.record_job for every job it knows of, watched by a page or not (ui/jobs.py).
"""
import streamlit as st

from imgai.data.datasets import ImageData, load_dataset
from imgai.experiments.run_store import RunStore, store_path


@st.cache_resource
def _store(path: str) -> RunStore:
    return RunStore(path)


def run_store() -> RunStore:
    """One per file (IMGAI_RUNS_DB / the data folder), shared by every session of the server."""
    return _store(str(store_path()))


@st.cache_resource(max_entries=4, show_spinner=False)
def cached_dataset(name: str) -> ImageData:
    """Built-in data sets, shared by all sessions (read-only: training never writes to them)."""
    return load_dataset(name)
