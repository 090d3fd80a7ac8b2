"""Model pickers and cached model loading for the Classify and Latent pages.

A checkpoint saved on the Train page appears here at once: the list is read from disk on every run
(a directory listing, cheap) while the loaded models are cached by path and modification time.
"""
import os
import time

import streamlit as st

from imgai.checkpoint import list_checkpoints, load_checkpoint
from imgai.classify import IMAGENET, load_classifier


def _label(meta: dict) -> str:
    acc = (meta.get("metrics") or {}).get("val_acc")
    parts = [meta["name"], meta.get("dataset", "?")]
    if acc is not None:
        parts.append(f"{acc:.1%} val")
    if meta.get("shipped"):
        parts.append("shipped")
    elif meta.get("created"):
        parts.append(str(meta["created"])[:16])
    return " · ".join(parts)


def _mtime(path: str) -> float:
    try:
        return os.path.getmtime(path + ".safetensors")
    except OSError:
        return time.time()


def classifier_options() -> dict:
    """label → weights ("imagenet" or a checkpoint path), shipped digits CNN first."""
    options = {_label(m): m["path"] for m in list_checkpoints() if m["kind"] in ("cnn", "photo-head")}
    options["imagenet · photos of anything (EfficientNet-lite0, 1000 classes)"] = IMAGENET
    return options


def generator_options() -> dict:
    return {_label(m): m["path"] for m in list_checkpoints() if m["kind"] in ("dcgan", "cdcgan")}


@st.cache_resource(max_entries=8, show_spinner="Loading the model…")
def _classifier(weights: str, mtime: float):
    return load_classifier(weights)


@st.cache_resource(max_entries=8, show_spinner="Loading the generator…")
def _gan(weights: str, mtime: float):
    return load_checkpoint(weights)


def cached_classifier(weights: str):
    """A Classifier, reloaded when its file changes (a name saved again on the Train page)."""
    return _classifier(weights, 0.0 if weights == IMAGENET else _mtime(weights))


def cached_gan(weights: str):
    """(DCGAN in eval mode, meta)."""
    return _gan(weights, _mtime(weights))
