"""The sidebar panel on every page: this session's training job, its progress and Pause/Resume/Stop.

    with st.sidebar: job_panel()

While the job runs the panel polls it every 2 s from a fragment; that poll is also the job's heartbeat,
so a job keeps running while its user looks at another page, and stops itself once the tab is gone.
"""
import streamlit as st

from ui.jobs import KIND, STATUS, control, current_job, registry, rerun_if_ended

POLL_S = 2.0
ICON = {"running": ":material/autorenew:", "paused": ":material/pause_circle:", "done": ":material/check_circle:",
        "stopped": ":material/stop_circle:", "error": ":material/error:"}


def job_panel():
    job = current_job()
    if job is None:
        st.caption("No training run yet — start one on the **Train** page.")
        return
    job.heartbeat()
    st.fragment(_panel, run_every=POLL_S if job.active else None)(job.id)


def _panel(job_id: str):
    job = registry().get(job_id)
    if job is None:
        return
    job.heartbeat()
    rerun_if_ended(job)
    s = job.summary()
    with st.container(border=True):
        kind = KIND.get(s["kind"], s["kind"])
        status = f"{ICON.get(s['status'], '')} {STATUS.get(s['status'], s['status'])}".strip()
        st.markdown(f"**{kind}** on **{s['dataset']}**  \n{status}")
        st.progress(min(1.0, s["progress"]), text=f"{s['progress']:.0%} · step {s['step']:,}")
        if s["kind"] == "cnn" and "val_acc" in s:
            st.caption(f"validation accuracy {s['val_acc']:.1%} · {s['images_per_s']:,.0f} images/s")
        elif "d_x" in s:
            st.caption(f"D(x) {s['d_x']:.2f} · D(G(z)) {s['d_g_z']:.2f} · {s['images_per_s']:,.0f} images/s")
        if s["status"] == "error":
            st.error(s["error"] or "training failed", icon=":material/error:")
        elif s["status"] == "stopped" and s["error"]:
            st.caption(f"It {s['error']}.")
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
