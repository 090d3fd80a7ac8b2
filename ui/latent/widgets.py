"""Streamlit helpers for the Latent space page: model pickers, cached latent computations, image strips, charts.

    gens = generator_choices(); G, meta = generator(gens[name].path); show_images(images, captions)

Everything that costs more than a few milliseconds is cached per model file (path + modification time):
the principal directions once per generator, the class histogram and steering paths per setting. What is
drawn on every slider move (a few dozen 28x28 images) is recomputed: it takes milliseconds.
"""
import random
import time
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from imgai.models.checkpoint import CheckpointError, read_meta
from imgai.grids import gif_bytes, make_grid, upscale
from imgai.inference.latent import (class_histogram, class_rows, direction_grid, edited_seed_latents, fits, principal_directions, render,
                          seed_interpolation, steer)
from imgai.models.cdcgan import FixedClass
from imgai.models.sampling import sample_images
from ui.charts import COLORS
from ui.latent import url_state
from ui.saved_models import (ModelChoice, cached_classifier, cached_gan, classifier_options, generator_options,
                       mtime)
from ui.safe_text import md, plot
from ui.wording import article

BLUE, ORANGE, GREY = COLORS["main"], COLORS["second"], COLORS["muted"]
HISTOGRAM_SAMPLES = 500   # enough that an empty class means the generator (almost) never draws it


# --- pickers --------------------------------------------------------------------------------------------

def generator_choices() -> dict:
    """name → ModelChoice for every GAN (shipped first); the name is what a link carries."""
    out = {}
    for label, path in generator_options().items():
        out.setdefault(Path(path).name, ModelChoice(path, label))
    return out


def classifier_choices(gen_meta: dict) -> dict:
    """name → ModelChoice for the classifiers that read this generator's images (same size and channels)."""
    out = {}
    for label, path in classifier_options().items():
        try:
            meta = read_meta(path)
        except (CheckpointError, OSError):
            continue  # "imagenet" and unreadable files: not a digits-sized classifier
        if fits(gen_meta, meta):
            out.setdefault(Path(path).name, ModelChoice(path, label))
    return out


def generator(path: str, label: int | None = None):
    """(generator module in eval mode, meta) — the cached checkpoint's generator half; for a class-conditional
    GAN and a label, the generator drawing that class (so every tab works on it unchanged)."""
    gan, meta = cached_gan(path)
    return (gan.generator if label is None else FixedClass(gan.generator, label)), meta


def classifier(path: str):
    return cached_classifier(path)


# --- cached computations --------------------------------------------------------------------------------

@st.cache_resource(max_entries=8, show_spinner="Finding the generator's main directions (once per model)…")
def _directions(path: str, mtime: float, k: int, label: int | None = None):
    G, meta = generator(path, label)
    return principal_directions(G, meta["config"]["nz"], k=k)


def directions(path: str, k: int, label: int | None = None):
    return _directions(path, mtime(path), k, label)


@st.cache_data(max_entries=32, show_spinner="Labelling 500 random samples…")
def _histogram(gen_path: str, gen_mtime: float, clf_path: str, clf_mtime: float, n: int, label=None) -> dict:
    G, meta = generator(gen_path, label)
    return class_histogram(G, classifier(clf_path), meta["config"]["nz"], n=n, seed=0)


def histogram(gen_path: str, clf_path: str, n: int = HISTOGRAM_SAMPLES, label: int | None = None) -> dict:
    return _histogram(gen_path, mtime(gen_path), clf_path, mtime(clf_path), n, label)


@st.cache_data(max_entries=32, show_spinner="Steering…")
def _steer(gen_path, gen_mtime, clf_path, clf_mtime, seed, offsets, psi, target, steps, label=None) -> dict:
    G, meta = generator(gen_path, label)
    nz = meta["config"]["nz"]
    z0 = edited_seed_latents([seed], nz, directions(gen_path, len(offsets), label), offsets, psi)[0]
    walk = steer(G, classifier(clf_path), z0, target, steps=steps, stop_at=0.995)
    path = walk.to_best()  # a walk that rose and fell back ends at its best frame
    return {"images": sample_images(G, path.latents), "prob": path.prob, "labels": path.labels,
            "confidence": path.confidence, "walk_prob": walk.prob}


def steer_path(gen_path: str, clf_path: str, seed: int, offsets: list, psi: float, target: int, steps: int,
               label: int | None = None) -> dict:
    """The steering walk from seed `seed` (as edited by the sliders) toward class `target`, with images."""
    return _steer(gen_path, mtime(gen_path), clf_path, mtime(clf_path), int(seed), tuple(offsets), float(psi),
                  int(target), int(steps), label)


# --- images of latents ----------------------------------------------------------------------------------

def captions(n: int, head=None, labels=None) -> list:
    """One caption per image: a head ("seed 7", "A", …) and the classifier's answer: "seed 7: 3 (97%)"."""
    out = []
    for i in range(n):
        h = head[i] if head and head[i] else ""
        if labels:
            lab, conf = labels[i]
            lab = md(lab, 24)  # captions are markdown; a class name is the user's
            out.append(f"{h}: {lab} ({conf:.0%})" if h else f"{lab} ({conf:.0%})")
        else:
            out.append(h)
    return out


def tiles(images: np.ndarray, scale: int) -> list:
    """uint8 (N, H, W, C) → N crisp enlarged images (grey ones as 2-D) for st.image."""
    out = []
    for img in images:
        img = img[..., 0] if img.shape[-1] == 1 else img
        out.append(upscale(img, scale))
    return out


def show_images(images: np.ndarray, caps: list | None = None, per_row: int = 8, scale: int = 4, where=None):
    """A grid of equal-sized images, per_row to a row (a short strip still gets per_row slots, so two frames
    are not blown up to half the page). PNG keeps the pixels exact: JPEG would smear 28x28 digits."""
    where = where or st.container()
    pics = tiles(images, scale)
    for start in range(0, len(pics), per_row):
        cols = where.columns(per_row, gap="small")
        for col, i in zip(cols, range(start, min(start + per_row, len(pics)))):
            col.image(pics[i], caption=caps[i] if caps and caps[i] else None, width="stretch", output_format="PNG")


def strip(images: np.ndarray, scale: int = 3) -> np.ndarray:
    """uint8 (N, H, W, C) → one image: the N side by side on a dark frame, enlarged."""
    images = images[..., 0] if images.shape[-1] == 1 else images
    return upscale(make_grid(images, nrow=len(images), pad=1), scale)


def gif(images: np.ndarray, ms: int = 150) -> bytes:
    images = images[..., 0] if images.shape[-1] == 1 else images
    return gif_bytes(images, ms_per_frame=ms, scale=4)


class Timer:
    """with Timer() as t: …; t.ms — wall time of a redraw, shown on the page and printed by the tests."""
    def __enter__(self):
        self._t = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.ms = (time.perf_counter() - self._t) * 1000


# --- charts ---------------------------------------------------------------------------------------------

def histogram_figure(h: dict) -> go.Figure:
    names, counts = h["class_names"], h["counts"]
    n = sum(counts)
    conf = [f"{c:.0%}" if k else "–" for c, k in zip(h["confidence"], counts)]
    fig = go.Figure(go.Bar(x=[plot(c, 24) for c in names], y=counts, marker_color=BLUE, customdata=conf,
                           hovertemplate="class %{x}: %{y} samples, mean confidence %{customdata}<extra></extra>"))
    fig.add_hline(y=n / len(names), line_dash="dash", line_color=GREY,
                  annotation_text="even share", annotation_position="top left", annotation_font_color=GREY)
    fig.update_layout(height=260, margin={"l": 50, "r": 10, "t": 10, "b": 40}, template="plotly_white",
                      bargap=0.25, showlegend=False)
    fig.update_xaxes(title="class the classifier sees", type="category", tickfont={"size": 13})
    fig.update_yaxes(title="samples", rangemode="tozero")
    return fig


def collapse_summary(h: dict) -> str:
    """One sentence a teacher can read out: is every class drawn, evenly, or has the generator collapsed?"""
    names, counts = h["class_names"], h["counts"]
    n, K = sum(counts), len(names)
    missing = [c for c, k in zip(names, counts) if k == 0]
    top = max(range(K), key=lambda i: counts[i])
    share, even = counts[top] / max(n, 1), 1 / K
    if share > 0.5 or len(missing) > K // 2:
        return (f":material/warning: **Mode collapse**: {share:.0%} of the samples are '{md(names[top])}'"
                + (f" and {len(missing)} of the {K} classes never appear" if missing else "")
                + ". The generator found a few pictures that fool its discriminator and draws little else.")
    never = (f"; it never draws {', '.join(md(repr(m)) for m in missing)}" if missing else "")
    if missing or share > 2.5 * even:
        return (f"**Uneven**: '{md(names[top])}' is {share:.0%} of the samples where an even share is {even:.0%}"
                f"{never}. The generator favours some classes: a partial mode collapse.")
    return f"Every class appears, none more than {share:.0%} of the samples: no sign of mode collapse."


def conditional_summary(h: dict, asked: str) -> str:
    """For a class-conditional GAN asked for one class: every sample should be that class, so a single tall bar
    is the goal, not mode collapse. Judge the samples against the label they were drawn with."""
    names, counts = h["class_names"], h["counts"]
    n = max(sum(counts), 1)
    hit = counts[names.index(asked)] if asked in names else 0
    others = sorted(((k, c) for c, k in zip(names, counts) if c != asked and k), reverse=True)
    rest = (f"; it reads the other {n - hit} mostly as '{md(others[0][1])}' ({others[0][0]})" if others else "")
    verdict = ("It draws the class it is asked for." if hit / n >= 0.9 else
               "It mostly draws the class it is asked for." if hit / n >= 0.5 else
               "It does not reliably draw the class it is asked for.")
    return (f"Asked for '{md(asked)}', the classifier reads **{hit} of {n}** samples as '{md(asked)}'{rest}. "
            f"{verdict} (This generator draws only the class chosen above; pick another class to judge that one.)")


STEER_REACHED = 0.5   # below this the classifier still thinks the picture is more likely something else


def steer_summary(path: dict, target_name: str) -> str:
    """What the walk did, in a sentence: how far p(class) got, whether it fell back, and when it failed."""
    prob, walk = path["prob"], path.get("walk_prob") or path["prob"]
    n, name = len(prob) - 1, f"'{target_name}'"
    went = f"p({name}) went from **{prob[0]:.0%}** to **{prob[-1]:.0%}** in {n} step{'s' if n != 1 else ''}."
    went += _how_it_climbed(prob, path.get("labels") or [], target_name)
    back = (f" The walk went on for {len(walk) - len(prob)} more step{'s' if len(walk) - len(prob) != 1 else ''}, "
            f"but p fell back (to {walk[-1]:.0%} at the end), so it stops at its best frame."
            if len(walk) > len(prob) else "")
    if prob[-1] >= STEER_REACHED:
        return went + back
    return (f":material/warning: **Steering failed**: the picture did not become {article(target_name)} {name}. {went}{back} "
            f"Near this starting picture the generator may not draw {article(target_name)} {name} that this classifier recognises: "
            "try another seed, more steps, or another class.")


def _how_it_climbed(prob: list, labels: list, target_name: str) -> str:
    """The walk's shape in words: a steady climb, or a long wait below one half and then a jump, and the
    classes the picture was read as on the way: "went from 0% to 100%" alone hides a hop between classes."""
    over = next((i for i, p in enumerate(prob) if p >= 0.5), None)
    if over is None or over <= 1 or len(prob) < 4:
        return ""
    jumped = prob[over] - prob[over - 1] > 0.4
    if not jumped and over <= (len(prob) - 1) / 2:
        return ""                                   # a climb: the curve says it all
    text = (f" It stayed under 50% for the first {over} step{'s' if over != 1 else ''}, then "
            f"{'jumped' if jumped else 'climbed'} to {prob[over]:.0%} at step {over}.")
    passed, seen = [], {target_name}
    for lab in labels[:over]:
        if lab not in seen:
            seen.add(lab)
            passed.append(f"'{md(lab, 24)}'")
    if passed:
        text += f" On the way the picture was read as {', '.join(passed[:5])}{' …' if len(passed) > 5 else ''}."
    return text


def probability_figure(prob: list, target_name: str, best: int | None = None) -> go.Figure:
    fig = go.Figure(go.Scatter(x=list(range(len(prob))), y=prob, mode="lines+markers", line={"color": ORANGE},
                               hovertemplate="frame %{x}: p = %{y:.2f}<extra></extra>"))
    if best is not None and best < len(prob) - 1:   # the walk fell back after its best frame: mark it
        fig.add_vline(x=best, line_dash="dash", line_color=GREY, annotation_text="best: the walk stops here",
                      annotation_position="top left", annotation_font_color=GREY)
    fig.update_layout(height=220, margin={"l": 50, "r": 10, "t": 10, "b": 40}, template="plotly_white",
                      showlegend=False)
    fig.update_xaxes(title="frame (steering step)", dtick=max(1, len(prob) // 10))
    fig.update_yaxes(title=f"p(class '{plot(target_name, 24)}')", range=[0, 1.02])
    return fig


# --- picking seeds --------------------------------------------------------------------------------------

GRID = 16          # samples in the seed picker: two rows of eight
GRID_KEY, PICK_KEY = "latent_grid_base", "latent_pick"


def random_seed(name: str):
    """on_click: a fresh random seed for A or B (small numbers are easier to note down and type)."""
    url_state.set_value(name, random.randrange(100_000))


def _pick(seed: int):
    """on_click of a sample: it becomes seed A or B; after A, the next click sets B."""
    target = st.session_state.get(PICK_KEY) or "A"
    url_state.set_value(target.lower(), seed)
    st.session_state[PICK_KEY] = "B" if target == "A" else "A"


def _next_grid():
    st.session_state[GRID_KEY] = st.session_state.get(GRID_KEY, 0) + GRID


def seed_grid(G, nz: int, clf=None):
    """Sixteen samples with their seeds; a click on a sample's button sets seed A or B."""
    base = st.session_state.setdefault(GRID_KEY, 0)
    c1, c2 = st.columns([2, 3], vertical_alignment="bottom")
    st.session_state.setdefault(PICK_KEY, "A")
    c1.segmented_control("A click sets", ["A", "B"], key=PICK_KEY, required=True,
                         format_func=lambda v: f"seed {v}",
                         help="Which seed the next click on a sample sets; after seed A it moves on to seed B.")
    c2.button("Show 16 other seeds", icon=":material/shuffle:", on_click=_next_grid, key="latent_grid_next",
              help=f"Samples of the next {GRID} seeds.")
    seeds = list(range(base, base + GRID))
    images, labels = render(G, edited_seed_latents(seeds, nz), clf)
    caps = captions(GRID, None, labels) if labels else [None] * GRID
    chosen = {url_state.state()["a"]: "A", url_state.state()["b"]: "B"}
    for row in range(0, GRID, 8):
        cols = st.columns(8, gap="small")
        for col, i in zip(cols, range(row, row + 8)):
            col.image(tiles(images[i:i + 1], 4)[0], caption=caps[i], width="stretch", output_format="PNG")
            mark = chosen.get(seeds[i])
            col.button(f"{seeds[i]} · {mark}" if mark else f"seed {seeds[i]}", key=f"latent_grid_{i}",
                       on_click=_pick, args=(seeds[i],), width="stretch", type="primary" if mark else "secondary",
                       help=f"Use seed {seeds[i]} as the seed chosen above.")


# --- class-conditional generators -----------------------------------------------------------------------

CLASS_KEY = "latent_class"
CLASS_GRID_SEEDS = 10     # columns of the one-row-per-class grid


def is_conditional(gen_meta: dict) -> bool:
    return gen_meta.get("kind") == "cdcgan"


def class_picker(gen_meta: dict, where=None) -> int | None:
    """For a class-conditional GAN, the class it is asked to draw (a selectbox); None for any other GAN."""
    if not is_conditional(gen_meta):
        return None
    names = [str(c) for c in gen_meta["class_names"]]
    if CLASS_KEY not in st.session_state:   # first drawn in this session: the class the link names
        st.session_state[CLASS_KEY] = url_state.state()["cls"]
    if st.session_state[CLASS_KEY] >= len(names):
        st.session_state[CLASS_KEY] = 0
    chosen = (where or st).selectbox(
        "Draw the class", list(range(len(names))), format_func=lambda i: names[i], key=CLASS_KEY,
        help="This generator was trained with the class as an input (a conditional GAN): pick the class it "
             "draws. Every picture and tab below uses it; the seeds choose the style.")
    url_state.state()["cls"] = chosen   # into the URL: a shared link draws the same class
    return chosen


def class_grid(path: str, gen_meta: dict, first_seed: int):
    """The conditional GAN's whole repertoire: one row per class, one column per seed."""
    G, _ = generator(path)
    names = [str(c) for c in gen_meta["class_names"]]
    seeds = [first_seed + i for i in range(CLASS_GRID_SEEDS) if first_seed + i <= url_state.MAX_SEED]
    images = class_rows(G, gen_meta["config"]["nz"], len(names), seeds)
    st.markdown(f"**One row per class** ({', '.join(names)}, top to bottom), seeds {seeds[0]}–{seeds[-1]} "
                "across: each column keeps its latent (the style) while the class changes")
    grey = images[..., 0] if images.shape[-1] == 1 else images
    st.image(upscale(make_grid(grey, nrow=len(seeds)), 3), output_format="PNG")
