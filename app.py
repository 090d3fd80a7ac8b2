"""imgai — the app's frame: declares the pages and shows the current training job on every page.

    streamlit run app.py

The frame is drawn before anything heavy is imported: on a fresh server the first visitor sees the title
bar, the navigation and a "starting up" line at once, while ui.setup.start_up imports PyTorch & co once.
"""
import streamlit as st

st.set_page_config(page_title="imgai — see how computers learn images", page_icon=":material/neurology:",
                   layout="wide")
pages = [
    st.Page("app_pages/train.py", title="Train", icon=":material/model_training:", default=True),
    st.Page("app_pages/classify.py", title="Classify", icon=":material/image_search:"),
    st.Page("app_pages/latent.py", title="Latent space", icon=":material/blur_on:"),
    st.Page("app_pages/experiments.py", title="Experiments", icon=":material/science:"),
    st.Page("app_pages/playground.py", title="GAN playground", icon=":material/scatter_plot:"),
]
page = st.navigation(pages)

from ui.setup import start_up  # noqa: E402  (cheap: the heavy imports happen inside start_up, once)

start_up()

from ui.job_panel import job_panel  # noqa: E402  (imports torch: after start_up has imported it once)

with st.sidebar:
    job_panel()
page.run()
