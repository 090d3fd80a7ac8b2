"""The app's one RunStore and the recorder every job is wrapped in.

    job = reg.submit(recorded_loop(run, owner), run.meta, ...)    # ui/jobs.py submit

Recording happens in the process that runs the loop, when the loop ends (done, stopped or error). With the
thread backend that is the web server. A backend that rebuilds the loop elsewhere (Ray: the actor builds the
run again from its spec) records from the web-server side instead: `record_ended(job)` when the server sees
the job has ended (imgai.runstore.record_job; the run id is the job id, so seeing it twice is harmless).
"""
import streamlit as st

from imgai.runstore import RunStore, recorded, store_path


@st.cache_resource
def _store(path: str) -> RunStore:
    return RunStore(path)


def run_store() -> RunStore:
    """One per file (IMGAI_RUNS_DB / the data folder), shared by every session of the server."""
    return _store(str(store_path()))


def recorded_loop(run, owner: str):
    """run.loop wrapped so the run is written to the store when it ends."""
    return recorded(run.loop, run_store(), run.meta, owner=owner)


def record_ended(job):
    """Write an ended job from the web server (for jobs whose loop ran where the store is out of reach)."""
    from imgai.runstore import record_job
    return record_job(run_store(), job)
