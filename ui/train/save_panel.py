"""The Train page's save panel: save the job's latest weights, download them, or export them as ONNX.

    save_panel(job)
"""
import re
import time

import streamlit as st

from imgai.models.checkpoint import read_meta
from ui.export import export_panel, from_checkpoint_zip
from ui.jobs import registry
from ui.saved_models import DOWNLOAD_HINT, NAME_RE, SHARE_HELP, accuracy_text, save_as

def _default_name(job) -> str:
    ds = re.sub(r"[^A-Za-z0-9_-]+", "-", str(job.meta.get("dataset", "data")).removeprefix("folder:")
                .removesuffix(".zip")).strip("-")
    return f"{ds or 'data'}-{job.meta['kind']}-{time.strftime('%H%M', time.localtime(job.started_at or time.time()))}"


def download_zip(job, name: str) -> bytes:
    """The job's latest weights as NAME.zip, built from memory when the button is pressed (never kept)."""
    try:
        return job.zip_bytes(name)
    except RuntimeError:  # no step finished yet: nothing to download
        return b""


def save_model(job, name: str, share: bool = False) -> str | None:
    """Save the job's latest weights under NAME (see ui.saved_models.save_as for where); returns an error line,
    or None when saved. A failed save changes nothing: the job can be saved again or downloaded."""
    path, error = save_as(name, share, job.save)
    if error:
        return error
    meta = read_meta(path)  # what the pickers will show: the step and the accuracy of exactly these weights
    st.session_state[f"train_saved_{job.id}"] = {"name": path.name, "step": meta.get("step", 0), "shared": share,
                                                 "accuracy": accuracy_text(meta.get("metrics"))}
    return None


def _has_weights(job) -> bool:
    """Whether a step's weights exist. A Ray job's weights live in its worker: fetching them (a checkpoint's
    bytes) on every page run to answer this would cost the worker and the server far more than the answer
    is worth; a step finished is enough (downloading before the first snapshot gives an empty file)."""
    if getattr(registry(), "backend", "threads") == "ray":
        return job.summary()["step"] > 0
    return job.snapshot()[0] is not None


def _weights_key(job) -> str:
    return f"train_weights_drawn_{job.id}"


def rerun_when_weights_appear(job):
    """The save panel is drawn with the whole page, usually right after Start, before the first step: its
    Download stays disabled until the page is drawn again. Redraw it once, when the first weights exist."""
    if st.session_state.get(_weights_key(job)) is False and _has_weights(job):
        st.session_state[_weights_key(job)] = True
        st.rerun()


def save_panel(job):
    with st.container(border=True):
        st.markdown("**Save this model** — it then appears in your model pickers on the Classify / Latent space "
                    "pages.")
        a, b, c = st.columns([3, 1, 1.3], vertical_alignment="bottom")
        name = a.text_input("Name", value=_default_name(job), key=f"train_save_name_{job.id}", max_chars=64,
                            help="Letters, digits, - and _ only. Saving again under the same name replaces your "
                                 "own model of that name (never anybody else's).")
        share = st.checkbox("Share with the class", key=f"train_share_{job.id}", help=SHARE_HELP)
        if b.button("Save", icon=":material/save:", key=f"train_save_{job.id}", width="stretch",
                    help="Saves the latest weights — also in the middle of a run."):
            error = save_model(job, name, share)
            if error:
                st.error(error + (DOWNLOAD_HINT if error.startswith("Could not save") else ""),
                         icon=":material/error:")
        has_weights = _has_weights(job)
        st.session_state[_weights_key(job)] = has_weights   # False: the live view redraws the page once they exist
        file_name = name.strip() if NAME_RE.match(name.strip()) else _default_name(job)
        c.download_button("Download", data=lambda: download_zip(job, file_name), file_name=f"{file_name}.zip",
                          icon=":material/download:", mime="application/zip", on_click="ignore",
                          key=f"train_download_{job.id}", width="stretch", disabled=not has_weights,
                          help="A zip of the latest weights (.safetensors) and description (.json), straight "
                               "from memory: works even when saving does not.")
        export_panel(f"train_{job.id}", lambda: from_checkpoint_zip(download_zip(job, file_name), file_name), file_name,
                     disabled=not has_weights)
        saved = st.session_state.get(f"train_saved_{job.id}")
        if saved:
            later = " Save again later to keep newer weights." if job.active else ""
            where = "shared with the class (read-only for everybody)" if saved.get("shared") else "in your models"
            scored = f", {saved['accuracy']}" if saved.get("accuracy") else ""
            # the name passed NAME_RE (letters, digits, - and _, starting with one of the first two): literal markdown
            st.success(f"Saved as **{saved['name']}** {where} (the weights of step {saved['step']:,}{scored}): pick "
                       f"it on the Classify or Latent space page.{later}", icon=":material/save:")
