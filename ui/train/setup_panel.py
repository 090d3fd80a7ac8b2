"""The Train page's left column: model, preset, data set and training knobs, and the Start button.

    choice = setup_panel(job)    # -> Choice(spec, data, error)

Each knob says, in one line, what it does to training (for a classroom). Knob widgets are keyed by model
and preset, so picking another preset shows that preset's own settings. Every knob stays inside the library's
sane range (imgai.training.runs.LIMITS), and a line above Start says exactly which settings the run will get.
"""
import io
import re
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import streamlit as st

from imgai.data.datasets import DatasetError, ImageData, load_dataset
from imgai.jobs.threads import JobLimitError
from imgai.training.presets import is_colour
from imgai.training.runs import LIMITS, RunSpec, default_train_config, prepare_run, preset_of, settings_problems
from ui.train.class_counts import class_counts_svg
from ui.jobs import current_job, experiment_name, submit
from ui.progress import ReadingProgress
from ui.resources import cached_dataset
from ui.safe_text import md, md_line
from ui.train.grids import class_preview, first_per_class

ZIP = "zip"
DATASETS = {
    "digits": "digits (handwritten, bundled)",
    "cifar10-5k": "cifar10-5k (colour photos, bundled)",
    "mnist": "mnist (handwritten, 11 MB)",
    "fashion-mnist": "fashion-mnist (clothes, 30 MB)",
    "cifar10": "cifar10 (colour photos, 170 MB)",
    ZIP: "my own .zip of class folders",
}
MODELS = {"cnn": "CNN · learns to recognise", "dcgan": "GAN · learns to invent",
          "cdcgan": "Conditional GAN · draws the class you ask for"}
PRESETS = {"fast": "fast", "textbook": "textbook"}


def _within(key: str, options: list) -> list:
    """The options inside the library's sane range for KEY (imgai.training.runs.LIMITS), so no widget offers a refusal."""
    low, high = LIMITS[key]
    return [v for v in options if low <= v <= high]


LR_OPTIONS = _within("lr", [1e-5, 3e-5, 1e-4, 2e-4, 3e-4, 5e-4, 1e-3, 2e-3, 3e-3, 5e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0])
BATCH_OPTIONS = _within("batch_size", [8, 16, 32, 64, 128, 256, 512])
WD_OPTIONS = _within("weight_decay", [0.0, 1e-5, 1e-4, 5e-4, 1e-3, 1e-2, 0.1])
SEED_MAX = min(LIMITS["seed"][1], 2**31 - 1)   # a seed anyone can type; the browser holds integers up to 2**53
OPTIMIZERS = {"adam": "Adam", "sgd": "SGD", "rmsprop": "RMSprop"}

HELP = {
    "model": "CNN: a classifier that learns to name what is in a picture. GAN: two networks trained against "
             "each other — a generator invents pictures, a discriminator judges whether they are real. "
             "Conditional GAN: the same, but both networks are told the class, so you can ask for a 7.",
    "preset": "fast: a stronger network and settings that learn within a minute or two on a laptop. "
              "textbook: exactly the network and settings of the TensorFlow tutorial.",
    "data": "The pictures to learn from. digits: 5,000 handwritten digits that come with the app. cifar10-5k: "
            "4,660 small colour photos of 10 things (planes, cars, birds, cats …) that come with the app. mnist: "
            "70,000 digits; fashion-mnist: 70,000 clothes; cifar10: 60,000 small colour photos (these three are "
            "downloaded once). Or a .zip with one folder per class (cats/, dogs/ …) full of images.",
    "zip": "One sub-folder per class, each with images (jpg, png …). At least two classes; files that are not "
           "images are skipped.",
    "length": "Train for a number of epochs (passes over all training images), or for a fixed time.",
    "epochs": "One epoch = every training image seen once. More epochs fit the data better, until the network "
              "starts memorising it (overfitting: validation accuracy stops rising).",
    "seconds": "Train for this many seconds of computing, however many epochs that is (pauses do not count).",
    "batch": "Images per learning step. Small batches: many noisy steps; large batches: fewer, smoother steps "
             "that keep the processor busier.",
    "lr": "How big each weight update is. Too small: learns slowly; too big: the loss jumps around or becomes "
          "NaN and training stops.",
    "optimizer": "The rule that turns gradients into weight changes. Adam adapts the step for each weight "
                 "(a safe default); SGD (with momentum 0.9) is the classic; RMSprop sits in between.",
    "wd": "Weight decay pulls every weight slightly towards zero at each step: a remedy for overfitting. 0 = off.",
    "dropout": "Switches off this share of neurons at random while training, so the network cannot rely on any "
               "single one: a remedy for overfitting.",
    "d_dropout": "Dropout in the discriminator: a weaker judge gives the generator a chance to keep up.",
    "augment": "Trains on slightly shifted, rotated and zoomed copies of the images (mirrored too, for photos): "
               "more variety, less overfitting, but slower to fit.",
    "seed": "The starting point of all randomness (first weights, order of the images). The same seed and "
            "settings give the same run.",
}


@dataclass
class Choice:
    spec: RunSpec | None
    data: ImageData | None
    error: str | None = None


def _load_builtin(name: str) -> tuple:
    try:
        with st.spinner(f"Loading '{name}' (downloaded once, then kept)…"):
            return cached_dataset(name), None
    except DatasetError as e:
        return None, str(e)


def _load_zip(upload) -> tuple:
    """An uploaded zip, loaded once per session and upload. The file goes into a private temporary folder
    that is deleted as soon as the images are in memory."""
    entry = st.session_state.get("train_zip_entry")
    if entry and entry["file_id"] == upload.file_id:
        return entry["data"], entry["error"]
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", Path(upload.name).stem)[:40].strip("_") or "upload"
    tmp = Path(tempfile.mkdtemp(prefix="imgai-upload-"))
    data = error = None
    try:
        path = tmp / f"{stem}.zip"
        path.write_bytes(upload.getbuffer())
        bar = ReadingProgress("Your images")  # each update is where a closed tab stops the reading
        try:
            data = load_dataset(f"folder:{path}", progress=bar)
        finally:
            bar.empty()
        if data.size not in (28, 32):
            data, error = None, f"images must be 28 or 32 pixels square after loading, not {data.size}"
    except DatasetError as e:
        error = str(e)
    except (OSError, ValueError) as e:
        error = f"could not read {upload.name}: {str(e).splitlines()[0][:160] if str(e) else type(e).__name__}"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    st.session_state["train_zip_entry"] = {"file_id": upload.file_id, "data": data, "error": error}
    return data, error


def _knobs(model: str, preset: str, dataset: str):
    """Training knobs, starting from the preset's own values (for colour images, where it has its own).
    Returns (TrainConfig, model overrides)."""
    base = default_train_config(model, preset, dataset)
    colour = is_colour(dataset)
    k = f"_{model}_{preset}" + ("_colour" if colour and preset_of(model, preset).colour_train else "")
    keep = {"persist_state": "session"}
    length = st.radio("Train for", ["epochs", "seconds"], horizontal=True, key="knob_length" + k,
                      format_func={"epochs": "a number of epochs", "seconds": "a time budget"}.get,
                      help=HELP["length"], **keep)
    if length == "epochs":
        epochs = st.number_input("Epochs", float(LIMITS["epochs"][0]), float(LIMITS["epochs"][1]),
                                 float(base.epochs or 5), step=1.0, format="%g",
                                 key="knob_epochs" + k, help=HELP["epochs"], **keep)
        seconds = None
    else:
        epochs = base.epochs
        seconds = st.number_input("Seconds of training", int(LIMITS["seconds"][0]), int(LIMITS["seconds"][1]), 60,
                                  step=10, key="knob_seconds" + k,
                                  help=HELP["seconds"], **keep)
    a, b = st.columns(2)
    batch = a.select_slider("Batch size", BATCH_OPTIONS, value=base.batch_size, key="knob_batch" + k,
                            help=HELP["batch"], **keep)
    lr = b.select_slider("Learning rate", sorted(set(LR_OPTIONS) | {base.lr}), value=base.lr, format_func="{:g}".format,
                         key="knob_lr" + k, help=HELP["lr"], **keep)
    a, b = st.columns(2)
    optimizer = a.selectbox("Optimiser", list(OPTIMIZERS), index=list(OPTIMIZERS).index(base.optimizer),
                            format_func=OPTIMIZERS.get, key="knob_opt" + k, help=HELP["optimizer"], **keep)
    wd = b.select_slider("Weight decay", sorted(set(WD_OPTIONS) | {base.weight_decay}), value=base.weight_decay, format_func="{:g}".format,
                         key="knob_wd" + k, help=HELP["wd"], **keep)
    a, b = st.columns(2)
    if model == "cnn":
        dropout = a.slider("Dropout", 0.0, 0.8, float(preset_of(model, preset).network(in_channels=3 if colour else 1).dropout),
                           0.05, key="knob_drop" + k,
                           help=HELP["dropout"], **keep)
        overrides = {"dropout": dropout}
    else:
        dropout = a.slider("Dropout in D", 0.0, 0.8, float(preset_of(model, preset).network().d_dropout), 0.05,
                           key="knob_drop" + k, help=HELP["d_dropout"], **keep)
        overrides = {"d_dropout": dropout}
    seed = b.number_input("Seed", 0, SEED_MAX, base.seed, step=1, key="knob_seed" + k, help=HELP["seed"], **keep)
    augment = base.augment
    if model == "cnn":
        augment = st.toggle("Augmentation", value=base.augment, key="knob_aug" + k, help=HELP["augment"], **keep)
    train = replace(base, epochs=epochs, seconds=seconds, batch_size=int(batch), lr=float(lr), optimizer=optimizer,
                    weight_decay=float(wd), augment=bool(augment), seed=int(seed))
    return train, overrides


def _will_use(model: str, train, overrides: dict) -> str:
    """The settings the run will be started with, as the library gets them: a box showing a value the browser
    refused (out of range) cannot mislead, since this line says what is used instead."""
    length = (f"{train.seconds:g} s of training" if train.seconds is not None else
              f"{train.epochs:g} epoch{'s' if train.epochs != 1 else ''}")
    drop = overrides.get("dropout", overrides.get("d_dropout"))
    parts = [length, f"batch {train.batch_size}", f"learning rate {train.lr:g}", OPTIMIZERS[train.optimizer],
             f"weight decay {train.weight_decay:g}", f"dropout{' in D' if model != 'cnn' else ''} {drop:g}"]
    if model == "cnn":
        parts.append(f"augmentation {'on' if train.augment else 'off'}")
    return "This run will use: " + " · ".join(parts + [f"seed {train.seed}"]) + "."


def setup_panel(job) -> Choice:
    """Draw the setup widgets and the Start button; return what a run would be made of."""
    keep = {"persist_state": "session"}
    model = st.radio("Model", list(MODELS), format_func=MODELS.get, horizontal=True, key="train_model",
                     help=HELP["model"], **keep)
    preset = st.radio("Preset", list(PRESETS), horizontal=True, key="train_preset", help=HELP["preset"], **keep)
    dataset = st.selectbox("Data set", list(DATASETS), format_func=DATASETS.get, key="train_dataset",
                           help=HELP["data"], **keep)
    data = error = upload = None
    if dataset == ZIP:
        upload = st.file_uploader("Your .zip of class folders", type=["zip"], key="train_zip", help=HELP["zip"])
        if upload is None:
            error = "upload a .zip with one folder per class to train on your own pictures"
        else:
            data, error = _load_zip(upload)
    else:
        data, error = _load_builtin(dataset)
    if data is not None:
        d = data.describe()
        st.caption(f"{d['train']:,} training + {d['val']:,} validation images · {d['size']}×{d['size']} "
                   f"{'colour' if d['channels'] == 3 else 'grey'} · {d['classes']} classes")
    elif error:
        # a zip's message may quote its file and member names: those are the user's
        (st.info if dataset == ZIP and upload is None else st.error)(md_line(error) if dataset == ZIP else error)
    train, overrides = _knobs(model, preset, dataset)
    spec = RunSpec(model=model, preset=preset, dataset=data.name if data else dataset, train=train,
                   model_overrides=overrides)
    refused = settings_problems(train, model, overrides)   # the library's own limits, the ones Start applies
    if refused:
        st.error(f"Cannot start this run: {'; '.join(refused)}.", icon=":material/block:")
    else:
        st.caption(_will_use(model, train, overrides))
    busy = job is not None and job.active
    if st.button("Start training", type="primary", icon=":material/play_arrow:", width="stretch", key="train_start",
                 disabled=busy or data is None or bool(refused),
                 help="Stop the current run first: one run at a time per user." if busy else
                      "Builds a fresh network with these settings and trains it in the background."):
        if start_run(spec, data):
            st.rerun()  # redraw everything, the sidebar's job panel included, around the new job
    if busy and experiment_name(job):
        st.caption(f"Your {experiment_name(job).lower()} is running on the **Experiments** page: stop it "
                   "(or let it finish) to start a training run here.")
    elif busy:
        st.caption("A run is in progress: stop it (or let it finish) to start another.")
    if st.session_state.get("train_start_error"):
        st.error(st.session_state["train_start_error"])
    return Choice(spec, data, error)


def start_run(spec: RunSpec, data: ImageData | None) -> bool:
    """Submit a run as this session's job; a refusal is kept as a one-line message for the page."""
    st.session_state.pop("train_start_error", None)
    job = current_job(full_run=False)
    if data is None or (job is not None and job.active):
        return False  # a double click, or nothing to train on
    try:
        submit(prepare_run(spec, data=data))
        return True
    except JobLimitError as e:
        st.session_state["train_start_error"] = f"Cannot start now: {e}."
    except (ValueError, RuntimeError) as e:
        st.session_state["train_start_error"] = f"Cannot start this run: {str(e).splitlines()[0][:200]}"
    return False


def _png(img) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


@st.cache_resource(max_entries=8, show_spinner=False)
def _builtin_preview(name: str) -> bytes:
    """The preview as PNG bytes, made once per server: st.image would otherwise encode the picture again
    on every run of every session's Train page."""
    data = cached_dataset(name)
    return _png(class_preview(first_per_class(data), data.class_names))


def data_preview(choice: Choice):
    """A few training images of each class and the class counts, so students see what the network will see."""
    data = choice.data
    if data is None:
        st.caption("Nothing to show yet: see the message under **Data set**.")
        return
    d = data.describe()
    colour = "colour" if d["channels"] == 3 else "greyscale"
    st.markdown(f"**{md(d['name'])}** · {d['train']:,} training and {d['val']:,} validation images · "
                f"{d['size']}×{d['size']} {colour} · {d['classes']} classes")
    if d["skipped"]:
        n = d["skipped"]
        st.warning(f"{n} file{'s' if n > 1 else ''} in the zip {'were' if n > 1 else 'was'} not a usable image "
                   "and skipped.")
    if data.name.startswith("folder:"):
        entry = st.session_state.get("train_zip_entry") or {}
        if entry.get("preview") is None:
            entry["preview"] = _png(class_preview(first_per_class(data), data.class_names))
        preview = entry["preview"]
    else:
        preview = _builtin_preview(data.name)
    a, b = st.columns([1.1, 1], gap="medium")
    a.image(preview, caption="The first training images of each class")
    b.image(class_counts_svg(d["class_counts"]), caption="An unbalanced data set teaches the network to favour "
            "its big classes")
