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
from ui.lesson_link import Field, LessonLink, choice, flag, number
from ui.train.class_counts import class_counts_svg
from ui.train.help_text import HELP
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



def train_fields() -> dict:
    """Every setting of the panel as the URL names it (ui/lesson_link.py): a link reproduces the panel."""
    g = "{:g}".format
    return {
        "model": Field("Model", choice(list(MODELS))), "preset": Field("Preset", choice(list(PRESETS))),
        "data": Field("Data set", choice([d for d in DATASETS if d != ZIP])),
        "length": Field("Train for", choice(["epochs", "seconds"])),
        "epochs": Field("Epochs", number(*LIMITS["epochs"]), g),
        "seconds": Field("Seconds of training", number(*LIMITS["seconds"], kind=int)),
        "batch": Field("Batch size", number(*LIMITS["batch_size"], kind=int, grid=BATCH_OPTIONS)),
        "lr": Field("Learning rate", number(*LIMITS["lr"]), g),
        "opt": Field("Optimiser", choice(list(OPTIMIZERS))),
        "wd": Field("Weight decay", number(*LIMITS["weight_decay"]), g),
        "drop": Field("Dropout", number(0.0, 0.8, grid=[round(0.05 * i, 2) for i in range(17)]), g),
        "seed": Field("Seed", number(0, SEED_MAX, kind=int)),
        "aug": Field("Augmentation", flag, lambda v: "1" if v else "0"),
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


BUDGET = "train_budget"     # the training length a student picked: kept across models and presets


def _remember_budget(name: str, key: str):
    st.session_state.setdefault(BUDGET, {})[name] = st.session_state[key]


def _row(link: LessonLink, *names: str) -> list:
    """Containers for the controls of one row, side by side; a hidden control (a lesson link) takes no room,
    so a lone learning-rate slider is not squeezed into half the column."""
    shown = [n for n in names if not link.hidden(n)]
    cols = iter(st.columns(len(shown)) if len(shown) > 1 else [st.container()] * len(shown))
    return [next(cols) if n in shown else None for n in names]   # None: never drawn (hidden)


def _knobs(link: LessonLink, model: str, preset: str, dataset: str):
    """Training knobs, starting from the preset's own values (for colour images, where it has its own), or
    from a lesson link's. Returns (TrainConfig, model overrides)."""
    base = default_train_config(model, preset, dataset)
    colour = is_colour(dataset)
    k = f"_{model}_{preset}" + ("_colour" if colour and preset_of(model, preset).colour_train else "")
    keep = {"persist_state": "session"}
    keys = {"length": "knob_length" + k, "epochs": "knob_epochs" + k, "seconds": "knob_seconds" + k}
    for name, value in st.session_state.get(BUDGET, {}).items():   # the budget a student chose stays chosen
        st.session_state.setdefault(keys[name], value)              # when they switch model or preset
    chosen = {"on_change": _remember_budget, **keep}
    length = link.widget("length", keys["length"], lambda **kw: st.radio(
        "Train for", ["epochs", "seconds"], horizontal=True, help=HELP["length"], args=("length", keys["length"]),
        format_func={"epochs": "a number of epochs", "seconds": "a time budget"}.get, **chosen, **kw), {}, "epochs")
    epochs, seconds = base.epochs, None
    if length == "epochs":
        epochs = link.widget("epochs", keys["epochs"], lambda **kw: st.number_input(
            "Epochs", float(LIMITS["epochs"][0]), float(LIMITS["epochs"][1]), step=1.0, format="%g",
            help=HELP["epochs"], args=("epochs", keys["epochs"]), **chosen, **kw),
            {"value": float(base.epochs or 5)}, float(base.epochs or 5))
    else:
        seconds = link.widget("seconds", keys["seconds"], lambda **kw: st.number_input(
            "Seconds of training", int(LIMITS["seconds"][0]), int(LIMITS["seconds"][1]), step=10,
            help=HELP["seconds"], args=("seconds", keys["seconds"]), **chosen, **kw), {"value": 60}, 60)
    with_link = lambda name, options: sorted(set(options) | ({link.given(name)} if link.given(name) is not None else set()))
    a, b = _row(link, "batch", "lr")
    batch = link.widget("batch", "knob_batch" + k, lambda **kw: a.select_slider(
        "Batch size", BATCH_OPTIONS, help=HELP["batch"], **keep, **kw), {"value": base.batch_size}, base.batch_size)
    lr = link.widget("lr", "knob_lr" + k, lambda **kw: b.select_slider(
        "Learning rate", with_link("lr", set(LR_OPTIONS) | {base.lr}), format_func="{:g}".format, help=HELP["lr"],
        **keep, **kw), {"value": base.lr}, base.lr)
    a, b = _row(link, "opt", "wd")
    optimizer = link.widget("opt", "knob_opt" + k, lambda **kw: a.selectbox(
        "Optimiser", list(OPTIMIZERS), format_func=OPTIMIZERS.get, help=HELP["optimizer"], **keep, **kw),
        {"index": list(OPTIMIZERS).index(base.optimizer)}, base.optimizer)
    wd = link.widget("wd", "knob_wd" + k, lambda **kw: b.select_slider(
        "Weight decay", with_link("wd", set(WD_OPTIONS) | {base.weight_decay}), format_func="{:g}".format,
        help=HELP["wd"], **keep, **kw), {"value": base.weight_decay}, base.weight_decay)
    a, b = _row(link, "drop", "seed")
    if model == "cnn":
        d0 = float(preset_of(model, preset).network(in_channels=3 if colour else 1).dropout)
        label, why, name = "Dropout", HELP["dropout"], "dropout"
    else:
        d0 = float(preset_of(model, preset).network().d_dropout)
        label, why, name = "Dropout in D", HELP["d_dropout"], "d_dropout"
    dropout = link.widget("drop", "knob_drop" + k, lambda **kw: a.slider(
        label, 0.0, 0.8, step=0.05, help=why, **keep, **kw), {"value": d0}, d0)
    overrides = {name: dropout}
    seed = link.widget("seed", "knob_seed" + k, lambda **kw: b.number_input(
        "Seed", 0, SEED_MAX, step=1, help=HELP["seed"], **keep, **kw), {"value": base.seed}, base.seed)
    augment = base.augment
    if model == "cnn":
        augment = link.widget("aug", "knob_aug" + k, lambda **kw: st.toggle(
            "Augmentation", help=HELP["augment"], **keep, **kw), {"value": base.augment}, base.augment)
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
    link = LessonLink("train", train_fields())
    warning = link.warning()
    if warning:
        st.warning(warning, icon=":material/link_off:")
    link.lesson_notice()
    model = link.widget("model", "train_model", lambda **kw: st.radio(
        "Model", list(MODELS), format_func=MODELS.get, horizontal=True, help=HELP["model"], **keep, **kw), {}, "cnn")
    preset = link.widget("preset", "train_preset", lambda **kw: st.radio(
        "Preset", list(PRESETS), horizontal=True, help=HELP["preset"], **keep, **kw), {}, "fast")
    dataset = link.widget("data", "train_dataset", lambda **kw: st.selectbox(
        "Data set", list(DATASETS), format_func=DATASETS.get, help=HELP["data"], **keep, **kw), {}, "digits")
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
    train, overrides = _knobs(link, model, preset, dataset)
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
    if dataset != ZIP:          # an upload cannot travel in a link
        link.save_to_url()
        if not link.is_lesson:
            link.teacher_panel()
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
    # PNG said outright: "auto" makes Streamlit decode the PNG and re-encode it as a (blurrier) JPEG on every run
    a.image(preview, caption="The first training images of each class", output_format="PNG")
    b.image(class_counts_svg(d["class_counts"]), caption="An unbalanced data set teaches the network to favour "
            "its big classes")
