"""Model pickers and names, who owns which saved model, and cached model loading, shared by the Train,
Classify and Latent pages.

A checkpoint saved on the Train page appears here at once: the list is read from disk on every run
(a directory listing, cheap) while the loaded models are cached by path and modification time.

Who sees what (one rule for the Train and Teach pages' saves): a model belongs to the browser that saved it
and lives in models_dir()/<owner>/NAME, owner = ui.jobs.owner_id() (a hash of the browser's private
XSRF secret, never shown). A browser lists its own models, the shipped ones, and the class folder: models
saved with "Share with the class" (models_dir()/shared/) and any the teacher put directly in models_dir()
(e.g. with `python -m imgai train --out`). Only its owner can replace a model; a shared one is read-only
to everybody, so a name already taken there is refused, never overwritten.
"""
import errno
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from imgai.models import checkpoint
from imgai.models.checkpoint import CheckpointError, list_checkpoints, load_checkpoint, models_dir
from imgai.inference.classify import IMAGENET, load_classifier
from ui import jobs
from ui.safe_text import clean

SHARED = "shared"          # models_dir()/shared: the class folder
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")   # a file name on every OS, no paths, no dot files
DOWNLOAD_HINT = " Nothing is lost: press **Download** to keep the weights, or try again."
CLAIM_STALE_S = 600        # a claim on a shared name whose save never finished (server killed) expires
WHERE = {"shipped": "shipped", "mine": "yours", "shared": "shared with the class"}
SHARE_HELP = ("Saves it in the class folder instead of your own: everybody can then use it, nobody (you "
              "included) can replace it, and a name already taken there is refused.")
PICKER_CAPTION = ("Listed: the models that come with the app, the ones you saved in this browser, and the ones "
                  "shared with the class. Nobody else sees yours unless you tick *Share with the class* when saving.")


def name_problem(name: str) -> str | None:
    """Why `name` cannot be a saved model's name (one line), or None when it can."""
    if not NAME_RE.match(name):
        return ("Use only letters, digits, - and _ (at most 64), starting with a letter or digit, "
                "e.g. my-digits-1.")
    if (checkpoint.WEIGHTS_DIR / f"{name}.json").exists():
        return f"'{name}' is the name of a model that comes with the app; choose another name."
    return None


@dataclass(frozen=True)
class ModelChoice:
    """A model in a picker: where its weights are and the line the picker shows."""
    path: str
    label: str


FEW = 100   # below this many test images a percentage overstates: "5 of 6" says how little it rests on


def accuracy_text(metrics: dict | None, unseen: str = "unseen images") -> str | None:
    """The saved weights' own validation accuracy, as a picker shows it; None when the checkpoint has none.
    `val_images` (how many images it was measured on) is written when the exact saved weights are scored."""
    metrics = metrics or {}
    acc, n = metrics.get("val_acc"), metrics.get("val_images")
    if not isinstance(acc, (int, float)):
        return None
    if isinstance(n, (int, float)) and 0 < n < FEW:
        return f"{round(acc * n)} of {int(n)} {unseen} right"
    return f"{acc:.1%} right on {int(n):,} {unseen}" if isinstance(n, (int, float)) and n else \
        f"{acc:.1%} right on {unseen}"


def _label(meta: dict) -> str:
    parts = [meta["name"], meta.get("dataset", "?")]
    acc = accuracy_text(meta.get("metrics"), "held-back photos" if meta.get("kind") == "photo-head" else "unseen images")
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


def own_dir(owner: str | None = None) -> Path:
    """This browser's models folder."""
    return models_dir() / (owner or jobs.owner_id())


def shared_dir() -> Path:
    return models_dir() / SHARED


def visible_models(owner: str | None = None) -> list:
    """The checkpoints this browser may use, each with "where": shipped | mine | shared. Shipped first,
    then its own (newest first), then the class folder's. Other browsers' folders are never read."""
    groups = [("shipped", checkpoint.WEIGHTS_DIR), ("mine", own_dir(owner)), ("shared", shared_dir()), ("shared", models_dir())]
    out = []
    for where, d in groups:
        out += [{**m, "where": where} for m in list_checkpoints([d])]
    return out


def _options(models: list) -> dict:
    """label → path; the label says whose model it is, and stays unique when two folders hold one name."""
    options = {}
    for m in models:
        label = clean(_label(m), 160) + ("" if m["where"] == "shipped" else f" · {WHERE[m['where']]}")
        while label in options:
            label += " ·"
        options[label] = m["path"]
    return options


def classifier_options() -> dict:
    """label → weights ("imagenet" or a checkpoint path), shipped digits CNN first."""
    options = _options([m for m in visible_models() if m["kind"] in ("cnn", "photo-head")])
    options["imagenet · photos of anything (EfficientNet-lite0, 1000 classes)"] = IMAGENET
    return options


def generator_options() -> dict:
    return _options([m for m in visible_models() if m["kind"] in ("dcgan", "cdcgan")])


def _os_line(e: OSError) -> str:
    if e.errno == errno.ENOSPC:
        return "no space left on device"
    if e.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return "the models folder is read-only"
    return e.strerror or type(e).__name__


def _claim_shared(name: str) -> Path | str:
    """Take NAME in the class folder (an exclusive create, so two saves at once cannot both win); returns
    the claim file, or the one line saying why not."""
    folder = shared_dir()
    taken = (f"The class folder already has a model called {name}: shared models are never replaced. "
             "Choose another name.")
    if (folder / f"{name}.json").exists():
        return taken
    claim = folder / f"{name}.claim"
    for _ in range(2):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            os.close(os.open(claim, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
            return claim
        except FileExistsError:
            try:  # a save that died half-way (no JSON after a long time) does not block the name forever
                stale = time.time() - claim.stat().st_mtime > CLAIM_STALE_S and not (folder / f"{name}.json").exists()
            except OSError:
                stale = False
            if not stale:
                return taken
            claim.unlink(missing_ok=True)
        except OSError as e:
            return f"Could not save: {_os_line(e)}."
    return taken


def save_as(name: str, share: bool, write, owner: str | None = None) -> tuple[Path | None, str | None]:
    """The one saving rule of the Train and Teach pages. write(path) writes the checkpoint at path (no
    extension). Saved into this browser's folder (replacing its own model of that name), or, with share,
    into the class folder where a taken name is refused. Returns (path, None) or (None, one line); the line
    quotes no name that has not passed NAME_RE, so it is safe as markdown. A line that starts with "Could not
    save" is a failed write (disk full, read-only folder): the pages then point to Download."""
    name = (name or "").strip()
    problem = name_problem(name)
    if problem:
        return None, problem
    claim = None
    if share:
        claim = _claim_shared(name)
        if isinstance(claim, str):
            return None, claim
        target = shared_dir() / name
    else:
        target = own_dir(owner) / name
    try:
        return Path(write(target) or target), None
    except CheckpointError as e:
        error = str(e)
    except OSError as e:
        error = _os_line(e)
    except (RuntimeError, ValueError) as e:  # e.g. "nothing to save yet: the job has not finished a step"
        error = str(e)
    if claim is not None:
        claim.unlink(missing_ok=True)
    error = " ".join(error.split())[:300].rstrip(".")
    if error.lower().startswith("could not save"):  # CheckpointError says it already
        return None, error[0].upper() + error[1:] + "."
    return None, f"Could not save: {error}."


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
