"""The GAN playground's controls: the real data (built-in, drawn or a CSV), the game's settings (changed while
it runs where that makes sense), the speed, and the address that reproduces all of it.

    link = playground_link(); real, data_name, error = data_picker(link); changes = game_settings(link, preset)

Every setting lives in the URL through ui/lesson_link.py, so a shared address opens the same game and a
teacher's lesson link can leave only, say, the loss to change. Bounds come from imgai.playground.model.LIMITS.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from imgai.playground import BUILT_IN, LOSSES, PRESETS, PointsError, make_data, read_points_csv, sample_points
from imgai.playground.data import drawn_points
from imgai.playground.model import LIMITS, OPTIMIZERS
from ui.lesson_link import Field, LessonLink, choice, number
from ui.safe_text import md_line

DRAW, CSV = "draw your own points", "a CSV of points"
DATA = {**{d: d for d in BUILT_IN}, DRAW: DRAW, CSV: CSV}
N_REAL = 20000                 # real points the game samples its batches from
SPEEDS = {"slow motion": 1, "slow": 5, "full speed": None}   # rounds per redraw (None: a time slice)
LR_OPTIONS = [1e-5, 3e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 3e-2, 0.1]
CANVAS_PX, CANVAS_EXTENT = 320, 4.0

SETTINGS = {  # name: (label, help)
    "loss": ("Loss", "minimax: the seed's formula, min_G max_D; its G gradient vanishes where D is sure. "
                     "Non-saturating: G maximises log D(G(z)) instead. Least squares and hinge: other games."),
    "optimizer": ("Optimiser", "The rule that turns gradients into weight changes, for both networks."),
    "lr_g": ("Learning rate of G", "How far G moves its points at each step."),
    "lr_d": ("Learning rate of D", "How fast D's verdict (the background) changes."),
    "d_steps": ("D steps per G step", "How many times D trains before G moves once."),
    "nz": ("Noise size", "How many random numbers G turns into a point (changing it starts G afresh)."),
    "generators": ("Generators", "G is a team of this many small generators, each drawing an equal share of the "
                                 "points. One G is one smooth sheet: between two modes it must draw a bridge of "
                                 "points. Several can sit on separate modes (changing it starts G afresh)."),
    "g_width": ("G width", "Units per hidden layer of each generator (changing it starts G afresh)."),
    "g_depth": ("G depth", "Hidden layers of G (changing it starts G afresh)."),
    "d_width": ("D width", "Units per hidden layer of D (changing it starts D afresh)."),
    "d_depth": ("D depth", "Hidden layers of D (changing it starts D afresh)."),
    "batch": ("Batch", "Real and generated points per step."),
    "pack": ("Packing (PacGAN)", "D judges this many points at once, so it can tell a collapsed batch apart."),
    "r1": ("Gradient penalty (R1)", "Keeps D smooth around the real points; 0 = off."),
    "ema": ("EMA of G", "Shows an average of G's recent weights (steadier points); 0 = off."),
}


def playground_link() -> LessonLink:
    g = "{:g}".format
    lim = lambda name, kind=float: number(*LIMITS[name], kind=kind)
    fields = {"data": Field("Real data", choice(list(BUILT_IN))), "preset": Field("Settings", choice(list(PRESETS))),
              "seed": Field("Seed", number(0, 2 ** 31 - 1, kind=int)),
              "speed": Field("Speed", choice(list(SPEEDS))),
              "loss": Field(SETTINGS["loss"][0], choice(list(LOSSES))),
              "optimizer": Field(SETTINGS["optimizer"][0], choice(list(OPTIMIZERS))),
              **{n: Field(SETTINGS[n][0], lim(n), g) for n in ("lr_g", "lr_d", "r1", "ema")},
              **{n: Field(SETTINGS[n][0], lim(n, int)) for n in ("d_steps", "nz", "generators", "g_width", "g_depth",
                                                                   "d_width", "d_depth", "batch", "pack")}}
    return LessonLink("playground", fields)


def data_picker(link: LessonLink, where) -> tuple[np.ndarray | None, str, str | None]:
    """The real data: (points or None, its name, a one-line problem or None)."""
    c1, c2, c3 = where
    data = link.widget("data", "playground_data", lambda **kw: c1.selectbox(
        "Real data", list(DATA), help="ring8 and grid25: the standard mode-collapse tests (8 and 25 Gaussians). "
        "Or draw your own points, or upload a CSV of x,y rows.", **kw), {}, BUILT_IN[0])
    preset = link.widget("preset", "playground_preset", lambda **kw: c2.selectbox(
        "Settings", list(PRESETS), help="playground: the tuned defaults; textbook: the seed's minimax GAN with "
        "small nets.", **kw), {}, "playground")
    seed = link.widget("seed", "playground_seed", lambda **kw: c3.number_input(
        "Seed", 0, 2 ** 31 - 1, help="The same seed and settings give the same game.", **kw), {"value": 0}, 0)
    if data in BUILT_IN:
        return make_data(data, N_REAL, seed=1000 + int(seed)), data, None
    if data == DRAW:
        return _drawn(int(seed))
    upload = st.file_uploader("Your CSV of points (x,y per row)", type=["csv", "txt"], key="playground_csv",
                              help="One point per row, two numbers; a header row is fine. At most 1 MB.")
    if upload is None:
        return None, CSV, "upload a CSV of x,y rows to play on your own points"
    try:
        points = read_points_csv(upload.getvalue(), upload.name)
    except PointsError as e:
        return None, CSV, md_line(e)
    return sample_points(points, N_REAL, seed=int(seed)), f"csv:{upload.file_id}", None


def _drawn(seed: int):
    from streamlit_drawable_canvas import st_canvas   # registers its component: needs a running app
    st.caption("Click to place points on the plane (it spans −4 … 4 both ways); the GAN learns their density.")
    res = st_canvas(drawing_mode="point", point_display_radius=4, stroke_color="#2b8a3e", fill_color="#2b8a3e",
                    background_color="#f8f9fa", width=CANVAS_PX, height=CANVAS_PX, key="playground_canvas")
    objects = (res.json_data or {}).get("objects") if res is not None else None
    pts = drawn_points(objects or [], CANVAS_PX, CANVAS_PX, CANVAS_EXTENT)
    try:
        real = sample_points(pts, N_REAL, seed=seed)
    except PointsError as e:
        return None, DRAW, md_line(e)
    return real, f"drawn:{len(pts)}:{hash(pts.tobytes())}", None


def game_settings(link: LessonLink, preset: str) -> dict:
    """The game's settings, starting from the preset's; returns them as Playground.update takes them."""
    base = PRESETS[preset]
    k = f"_{preset}"
    out = {}
    with st.expander("Game settings — change them while it runs", icon=":material/tune:"):
        a, b, c = st.columns(3)
        out["loss"] = link.widget("loss", "pg_loss" + k, lambda **kw: a.selectbox(
            SETTINGS["loss"][0], list(LOSSES), format_func=LOSSES.get, help=SETTINGS["loss"][1], **kw),
            {"index": list(LOSSES).index(base.loss)}, base.loss)
        out["optimizer"] = link.widget("optimizer", "pg_optimizer" + k, lambda **kw: b.selectbox(
            SETTINGS["optimizer"][0], list(OPTIMIZERS), help=SETTINGS["optimizer"][1], **kw),
            {"index": list(OPTIMIZERS).index(base.optimizer)}, base.optimizer)
        out["d_steps"] = _int(link, c, "d_steps", k, base)
        a, b, c = st.columns(3)
        for col, name in ((a, "lr_g"), (b, "lr_d")):
            options = sorted(set(LR_OPTIONS) | {getattr(base, name)} |
                             ({link.given(name)} if link.given(name) is not None else set()))
            out[name] = link.widget(name, f"pg_{name}" + k, lambda col=col, name=name, options=options, **kw:
                                    col.select_slider(SETTINGS[name][0], options, format_func="{:g}".format,
                                                      help=SETTINGS[name][1], **kw),
                                    {"value": getattr(base, name)}, getattr(base, name))
        out["batch"] = _int(link, c, "batch", k, base, step=8)
        a, b, c = st.columns(3)
        for col, name in ((a, "g_width"), (b, "g_depth"), (c, "nz")):
            out[name] = _int(link, col, name, k, base)
        a, b, c = st.columns(3)
        for col, name in ((a, "d_width"), (b, "d_depth"), (c, "pack")):
            out[name] = _int(link, col, name, k, base)
        a, b, c = st.columns(3)
        out["generators"] = _int(link, c, "generators", k, base)
        out["r1"] = link.widget("r1", "pg_r1" + k, lambda **kw: a.number_input(
            SETTINGS["r1"][0], *map(float, LIMITS["r1"]), step=0.5, format="%g", help=SETTINGS["r1"][1], **kw),
            {"value": float(base.r1)}, base.r1)
        out["ema"] = link.widget("ema", "pg_ema" + k, lambda **kw: b.number_input(
            SETTINGS["ema"][0], *map(float, LIMITS["ema"]), step=0.01, format="%g", help=SETTINGS["ema"][1], **kw),
            {"value": float(base.ema)}, base.ema)
    return out


def _int(link: LessonLink, col, name: str, k: str, base, step: int = 1) -> int:
    lo, hi = LIMITS[name]
    return int(link.widget(name, f"pg_{name}" + k, lambda **kw: col.number_input(
        SETTINGS[name][0], int(lo), int(hi), step=step, help=SETTINGS[name][1], **kw),
        {"value": int(getattr(base, name))}, int(getattr(base, name))))


def speed_picker(link: LessonLink, where) -> int | None:
    """Rounds per redraw (1 or 5), or None for a time slice per redraw (full speed)."""
    speed = link.widget("speed", "playground_speed", lambda **kw: where.segmented_control(
        "Speed", list(SPEEDS), required=True, help="Slow motion: one round (D steps, then one G step) per "
        "redraw, five redraws a second; full speed: as many rounds as fit in a short slice.", **kw),
        {"default": "full speed"}, "full speed")
    return SPEEDS[speed or "full speed"]
