"""Train page: pick a model and a data set, press Start, and watch the network learn.

The run lives in a background job (ui/jobs.py), so changing settings, switching pages or reloading
neither stops nor duplicates it; the right-hand side polls it once a second.
"""
import streamlit as st

from ui.jobs import _LOST as LOST
from ui.jobs import current_job
from ui.train.live import live_view, save_panel
from ui.train.setup_panel import data_preview, setup_panel

LOST_RUN = ("This training run is no longer on the server (the server restarted, or the run ended more than an "
            "hour ago), so its live view is gone. Models you saved or downloaded are kept; start a new run to "
            "train again.")

st.title("Train a network")
st.caption("Choose a model and a data set, press **Start**, and watch it learn: the charts and pictures "
           "update every second while it trains.")

job = current_job()
left, right = st.columns([1, 2.4], gap="large")
with left:
    st.subheader("1 · Set up")
    choice = setup_panel(job)
with right:
    if job is None:
        st.subheader("2 · Your data")
        if st.session_state.get(LOST):  # this tab came back through ?job= to a run the server does not have
            st.warning(LOST_RUN, icon=":material/cloud_off:")
        st.caption("This is what the network will learn from. Press **Start training** when ready.")
        data_preview(choice)
    else:
        st.subheader("2 · Watch it learn")
        live_view(job)
        if job.status != "error":   # a diverged network's weights are no use to anyone
            save_panel(job)
        with st.expander("Data for the next run", expanded=not job.active):
            data_preview(choice)
