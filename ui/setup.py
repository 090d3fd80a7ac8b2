"""Process-wide settings that must be made once per server, not once per script run."""
import streamlit as st


@st.cache_resource
def configure_once() -> int:
    """The server trains while it serves pages, and up to IMGAI_MAX_JOBS runs at once: keep a core for the
    server and split the rest, so threads never outnumber free cores (see imgai.device.configure_threads)."""
    from imgai.device import configure_threads
    from ui.jobs import max_jobs
    return configure_threads(share=max_jobs(), spare=1)
