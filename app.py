"""imgai — the app's frame: declares the pages and shows the current training job on every page.

    streamlit run app.py
"""
import streamlit as st

from ui.job_panel import job_panel
from ui.setup import configure_once

st.set_page_config(page_title="imgai — see how computers learn images", page_icon=":material/neurology:", layout="wide")
configure_once()

pages = [
    st.Page("app_pages/train.py", title="Train", icon=":material/model_training:", default=True),
    st.Page("app_pages/classify.py", title="Classify", icon=":material/image_search:"),
    st.Page("app_pages/latent.py", title="Latent space", icon=":material/blur_on:"),
    st.Page("app_pages/experiments.py", title="Experiments", icon=":material/science:"),
]
page = st.navigation(pages)
with st.sidebar:
    job_panel()
page.run()
