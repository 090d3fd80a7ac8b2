"""imgai — the app's frame: declares the pages and shows the current training job on every page.

    streamlit run app.py

The frame is drawn before anything heavy is imported: on a fresh server the first visitor sees the title
bar, the navigation and a "starting up" line at once, while ui.start_up.start_up imports PyTorch & co once.
"""
from pathlib import Path

import streamlit as st

# the tab icon is a file shipped in the repository: a ":material/…:" page icon makes the browser fetch it from
# fonts.gstatic.com, which fails offline (a classroom without internet) and leaves the tab without an icon
ICON = str(Path(__file__).resolve().parent / "ui" / "assets" / "imgai-icon.png")

if __name__ == "__main__":   # a visitor's script run: Streamlit runs this file as __main__ for every session
    st.set_page_config(page_title="imgai — see how computers learn images", page_icon=ICON, layout="wide")
    pages = [
        st.Page("app_pages/train.py", title="Train", icon=":material/model_training:", default=True),
        st.Page("app_pages/classify.py", title="Classify", icon=":material/image_search:"),
        st.Page("app_pages/latent.py", title="Latent space", icon=":material/blur_on:"),
        st.Page("app_pages/experiments.py", title="Experiments", icon=":material/science:"),
        st.Page("app_pages/playground.py", title="GAN playground", icon=":material/scatter_plot:"),
    ]
    page = st.navigation(pages)

    from ui.start_up import start_up  # noqa: E402  (cheap: the heavy imports happen inside start_up, once)

    start_up()

    from ui.job_panel import job_panel  # noqa: E402  (imports torch: after start_up has imported it once)

    with st.sidebar:
        job_panel()
    page.run()
else:   # the server starting: `streamlit run` finds the st.App below and imports this file once, as a module
    from starlette.middleware import Middleware

    from ui.server_start import warm_lifespan
    from ui.static_assets import StaticAssets
    # start_up() before the first visitor (ui/server_start.py); the frontend's files from memory (ui/static_assets.py)
    app = st.App(__file__, lifespan=warm_lifespan, middleware=[Middleware(StaticAssets)])
