"""What every page shares, one per server: the run store (and the recorder every job is wrapped in) and the
built-in data sets.

    job = reg.submit(recorded_loop(run, owner), run.meta, ...)    # ui/jobs.py submit

Recording happens in the process that runs the loop, when the loop ends (done, stopped or error). With the
thread backend that is the web server. A backend that rebuilds the loop elsewhere (Ray: the actor builds the
run again from its spec) records from the web-server side instead: the Ray registry's watcher calls
imgai.experiments.run_store.record_job for every job it knows of when it ends, watched by a page or not (ui/jobs.py).
"""
import streamlit as st

from imgai.data.datasets import ImageData, load_dataset
from imgai.experiments.run_store import RunStore, recorded, store_path


@st.cache_resource
def _store(path: str) -> RunStore:
    return RunStore(path)


def run_store() -> RunStore:
    """One per file (IMGAI_RUNS_DB / the data folder), shared by every session of the server."""
    return _store(str(store_path()))


def recorded_loop(run, owner: str):
    """run.loop wrapped so the run is written to the store when it ends."""
    return recorded(run.loop, run_store(), run.meta, owner=owner)



@st.cache_resource(max_entries=4, show_spinner=False)
def cached_dataset(name: str) -> ImageData:
    """Built-in data sets, shared by all sessions (read-only: training never writes to them)."""
    return load_dataset(name)
