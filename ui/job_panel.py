"""The sidebar panel on every page: this session's training job, its progress and Pause/Resume/Stop.

    with st.sidebar: job_panel()

While the job runs the panel polls it every 2 s from a fragment; that poll is also the job's heartbeat,
so a job keeps running while its user looks at another page, and stops itself once the tab is gone.
On Ray a job may first wait for a free worker: the panel (and the Train page, through waiting_notice)
says where it is in line and offers Cancel; it starts by itself.
"""
import streamlit as st

from ui.jobs import (KIND, STATUS, control, current_job, experiment_name, lost_notice, poll_every, registry,
                     rerun_if_changed)
from ui.safe_text import md

POLL_S = 2.0
ICON = {"running": ":material/autorenew:", "paused": ":material/pause_circle:", "done": ":material/check_circle:",
        "stopped": ":material/stop_circle:", "error": ":material/error:", "queued": ":material/hourglass_top:"}


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def waiting_line(job) -> str:
    """"waiting for a free worker — 3rd in line" (every worker is training someone else's run)."""
    position = getattr(job, "position", None)
    return "waiting for a free worker" + (f" — {ordinal(position)} in line" if position else "")


def waiting_notice(job, key: str):
    """A queued job: its place in line and a Cancel button. It starts by itself when a worker is free."""
    a, b = st.columns([4, 1], vertical_alignment="center")
    a.info(f"Your run is {waiting_line(job)}. It starts by itself as soon as one is free; you can leave this "
           "page meanwhile.", icon=":material/hourglass_top:")
    b.button("Cancel", key=f"{key}_cancel", width="stretch", on_click=control, args=(job.id, "stop"),
             help="Take this run out of the line; it never starts.")


def job_panel():
    job = current_job()
    if job is None:
        lost = lost_notice()
        if lost:
            st.warning(lost, icon=":material/link_off:")
        else:
            st.caption("No training run yet — start one on the **Train** page.")
        return
    job.heartbeat()
    st.fragment(_panel, run_every=poll_every(job, POLL_S))(job.id)


def _panel(job_id: str):
    job = registry().get(job_id)
    if job is None:
        return
    job.heartbeat()
    rerun_if_changed(job)
    s = job.summary()
    with st.container(border=True):
        experiment = experiment_name(job)   # an Experiments-page job is named as what it is, not as a CNN run
        kind = experiment or KIND.get(s["kind"], s["kind"])
        status = f"{ICON.get(s['status'], '')} {STATUS.get(s['status'], s['status'])}".strip()
        if s["status"] == "queued":
            st.markdown(f"**{kind}** on **{md(s['dataset'])}**  \n:material/hourglass_top: {waiting_line(job)}")
            st.button("Cancel", key="panel_cancel", width="stretch", on_click=control, args=(job.id, "stop"),
                      help="Take this run out of the line; it never starts.")
            return
        st.markdown(f"**{kind}** on **{md(s['dataset'])}**  \n{status}")
        st.progress(min(1.0, s["progress"]), text=f"{s['progress']:.0%} · step {s['step']:,}")
        if experiment:   # its rows mix many trainings: one run's accuracy or speed would mislead
            st.caption("Its results show on the **Experiments** page.")
        elif s["kind"] == "cnn" and "val_acc" in s:
            st.caption(f"validation accuracy {s['val_acc']:.1%} · {s['images_per_s']:,.0f} images/s")
        elif "d_x" in s:
            st.caption(f"D(x) {s['d_x']:.2f} · D(G(z)) {s['d_g_z']:.2f} · {s['images_per_s']:,.0f} images/s")
        if s["status"] == "error":
            st.error(f"Training broke down — {s['error'] or 'it failed'}", icon=":material/error:")
        elif s["status"] == "stopped" and s["error"]:
            st.caption(f"It {s['error']}.")
        if s.get("hint") and not experiment:
            st.warning(f"Not learning — {s['hint']}", icon=":material/trending_flat:")
        if job.active:
            a, b = st.columns(2)
            if job.status == "paused":
                a.button("Resume", key="panel_resume", width="stretch", on_click=control,
                         args=(job.id, "resume"), help="Carry on training.")
            else:
                a.button("Pause", key="panel_pause", width="stretch", on_click=control,
                         args=(job.id, "pause"), help="Hold training between two batches.")
            b.button("Stop", key="panel_stop", width="stretch", on_click=control,
                     args=(job.id, "stop"), help="End the run; what it learned so far can still be saved.")
