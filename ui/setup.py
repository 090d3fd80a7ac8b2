"""Process-wide settings that must be made once per server, not once per script run."""
import streamlit as st


@st.cache_resource
def configure_once() -> bool:
    from imgai.device import configure_threads
    configure_threads()
    return True
