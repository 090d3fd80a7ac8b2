"""Model pickers, model names and cached model loading, shared by the Train, Classify and Latent pages.

A checkpoint saved on the Train page appears here at once: the list is read from disk on every run
(a directory listing, cheap) while the loaded models are cached by path and modification time.
"""
import os
import re
import time
from dataclasses import dataclass

import streamlit as st

from imgai.checkpoint import WEIGHTS_DIR, list_checkpoints, load_checkpoint
from imgai.classify import IMAGENET, load_classifier

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")   # a file name on every OS: no paths, no dot files


@dataclass(frozen=True)
class ModelChoice:
    """A model in a picker: where its weights are and the line the picker shows."""
    path: str
    label: str


def name_problem(name: str) -> str | None:
    """Why `name` cannot be a saved model's name (one line), or None when it can."""
    if not NAME_RE.match(name):
        return ("Use only letters, digits, - and _ (at most 64), starting with a letter or digit, "
                "e.g. my-digits-1.")
    if (WEIGHTS_DIR / f"{name}.json").exists():
        return f"'{name}' is the name of a model that comes with the app; choose another name."
    return None


def accuracy_text(metrics: dict | None) -> str | None:
    """The saved weights' own validation accuracy, as a picker shows it; None when the checkpoint has none.
    `val_images` (how many images it was measured on) is written when the exact saved weights are scored."""
    metrics = metrics or {}
    acc, n = metrics.get("val_acc"), metrics.get("val_images")
    if not isinstance(acc, (int, float)):
        return None
    return f"{acc:.1%} right on {int(n):,} unseen images" if isinstance(n, (int, float)) and n else \
        f"{acc:.1%} right on unseen images"


def _label(meta: dict) -> str:
    parts = [meta["name"], meta.get("dataset", "?")]
    acc = accuracy_text(meta.get("metrics"))
    if acc:
        parts.append(acc)
    if meta.get("shipped"):
        parts.append("shipped")
    elif meta.get("created"):
        parts.append(str(meta["created"])[:16])
    return " · ".join(parts)


def mtime(path: str) -> float:
    """The weights file's modification time: part of every cache key, so a model saved again is reloaded."""
    try:
        return os.path.getmtime(path + ".safetensors")
    except OSError:
        return time.time()  # gone or unreadable: never served from a cache


def classifier_options() -> dict:
    """label → weights ("imagenet" or a checkpoint path), shipped digits CNN first."""
    options = {_label(m): m["path"] for m in list_checkpoints() if m["kind"] in ("cnn", "photo-head")}
    options["imagenet · photos of anything (EfficientNet-lite0, 1000 classes)"] = IMAGENET
    return options


def generator_options() -> dict:
    return {_label(m): m["path"] for m in list_checkpoints() if m["kind"] == "dcgan"}


@st.cache_resource(max_entries=8, show_spinner="Loading the model…")
def _classifier(weights: str, mtime: float):
    return load_classifier(weights)


@st.cache_resource(max_entries=8, show_spinner="Loading the generator…")
def _gan(weights: str, mtime: float):
    return load_checkpoint(weights)


def cached_classifier(weights: str):
    """A Classifier, reloaded when its file changes (a name saved again on the Train page)."""
    return _classifier(weights, 0.0 if weights == IMAGENET else mtime(weights))


def cached_gan(weights: str):
    """(DCGAN in eval mode, meta)."""
    return _gan(weights, mtime(weights))
