"""Train page: pick a model and a data set, press Start, and watch the network learn.

The run lives in a background job (ui/jobs.py), so changing settings, switching pages or reloading
neither stops nor duplicates it; the right-hand side polls it once a second.
"""
import streamlit as st

from ui.jobs import current_job, link_was_lost, lost_message, train_job
from ui.train.live import live_view
from ui.train.save_panel import save_panel
from ui.train.setup_panel import data_preview, setup_panel

st.title("Train a network")
st.caption("Choose a model and a data set, press **Start**, and watch it learn: the charts and pictures "
           "update every second while it trains.")

latest = current_job()   # one run at a time per user: an experiment's job, too, keeps Start off
job = train_job(full_run=False)   # what this page shows: Train's runs only (experiments show on their page)
left, right = st.columns([1, 2.4], gap="large")
with left:
    st.subheader("1 · Set up")
    choice = setup_panel(latest)
with right:
    if job is None:
        st.subheader("2 · Your data")
        if link_was_lost():  # this tab came back through ?job= to a run the server does not have
            st.warning(lost_message(), icon=":material/cloud_off:")
        st.caption("This is what the network will learn from. Press **Start training** when ready.")
        data_preview(choice)
    else:
        st.subheader("2 · Watch it learn")
        live_view(job)
        if job.status != "error":   # a diverged network's weights are no use to anyone
            save_panel(job)
        with st.expander("Data for the next run", expanded=not job.active):
            data_preview(choice)
