"""The frame the Sweep and Generation → recognition sections share: a Start button that queues the work as
this session's job, the one-line reason it could not start, the live view while it runs, and otherwise the
owner's last stored run of that kind.

    last = queued_section("exp_sweep", "sweep", "Start sweep", spec, prepare, (SweepError,), live, store, owner)
"""
import streamlit as st

from imgai.data.datasets import DatasetError
from imgai.jobs.threads import JobLimitError
from ui.jobs import current_job, poll_every, registry, rerun_if_changed, submit

POLL_S = 1.0


def _start(key: str, kind: str, spec, prepare, errors: tuple):
    """on_click: queue prepare(spec) as this session's job, unless one is already running."""
    st.session_state.pop(f"{key}_error", None)
    job = current_job(full_run=False)
    if job is not None and job.active:
        return
    try:
        submit(prepare(spec))
    except JobLimitError as e:
        st.session_state[f"{key}_error"] = f"Cannot start now: {e}."
    except (*errors, DatasetError, ValueError) as e:
        st.session_state[f"{key}_error"] = f"Cannot start this {kind}: {str(e).splitlines()[0][:200]}"


def _live(job_id: str, draw):
    job = registry().get(job_id)
    if job is None:
        return
    job.heartbeat()
    rerun_if_changed(job)
    draw(job)


def queued_section(key: str, kind: str, label: str, spec, prepare, errors: tuple, draw_live, store,
                   owner: str) -> dict | None:
    """key: the prefix of its widget keys; kind: the key its jobs' meta and stored settings carry. Draw the Start button (off without a spec, or while a run is active) and then either draw_live(job)
    (polled while this session's job of this kind runs; returns None) or return the owner's last stored run
    whose settings hold `kind` (None when there is none)."""
    job = current_job()
    busy = job is not None and job.active
    st.button(label, type="primary", icon=":material/play_arrow:", key=f"{key}_start",
              disabled=busy or spec is None, on_click=_start, args=(key, kind, spec, prepare, errors),
              help="Stop your current run first: one run at a time per user." if busy else
                   "Trains every setting in the background; you can switch pages meanwhile.")
    if st.session_state.get(f"{key}_error"):
        st.error(st.session_state[f"{key}_error"])
    if job is not None and kind in job.meta:
        st.fragment(_live, run_every=poll_every(job, POLL_S))(job.id, draw_live)
        return None
    stored = [r for r in store.runs(owner=owner, limit=50) if kind in (r["settings"] or {})]
    return store.get(stored[0]["id"]) if stored else None
