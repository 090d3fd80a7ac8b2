"""The Latent space page's state, mirrored in the URL's query parameters so that a link reproduces the picture.

    warnings = start(generator_names); g = st.selectbox(..., key=widget_key("gen")); ...; save_to_url()

One dict in st.session_state (STATE) holds every setting of the page. It is filled once per session from the
URL (bad values are dropped with a one-line warning), or from what the user last had when they come back
from another page. Widgets take their keys from widget_key(), which seeds a widget from the dict when it is
first drawn; save_to_url() copies the widgets' values back and writes the URL. The dict outlives the
widgets: a slider on a tab that is not open is not drawn, and Streamlit forgets an undrawn widget's value.
"""
import math
from dataclasses import dataclass
from typing import Callable

import streamlit as st

from ui.safe_text import md

STATE = "latent_state"
PREFIX = "latent_w_"             # widget keys: session state is shared by all pages, so ours are prefixed
MAX_SEED = 2 ** 31 - 1
N_DIRECTIONS = 6                 # sliders; more directions explain ever less and crowd the page
OFFSET_RANGE = 4.0               # slider range in standard deviations: ±4 covers 99.99% of latents
TABS = {"interpolate": ":material/animation: Interpolate", "directions": ":material/tune: Directions",
        "classifier": ":material/psychology: Classifier in the loop"}
METHODS = {"slerp": "spherical", "lerp": "straight"}
NO_CLASSIFIER = "none"


def _int(lo, hi):
    def parse(text):
        v = int(text)
        if not lo <= v <= hi:
            raise ValueError(f"not between {lo} and {hi}")
        return v
    return parse


def _float(lo, hi, step):
    def parse(text):
        v = float(text)
        if not math.isfinite(v) or not lo <= v <= hi:
            raise ValueError(f"not between {lo:g} and {hi:g}")
        return round(round(v / step) * step, 6)  # onto the slider's grid, so the slider accepts it
    return parse


def _choice(options):
    def parse(text):
        if text not in options:
            raise ValueError(f"not one of {', '.join(options)}")
        return text
    return parse


@dataclass(frozen=True)
class Field:
    default: object
    parse: Callable[[str], object]
    always: bool = False   # in the URL even at its default: these name the picture whatever defaults become


FIELDS = {
    "gen": Field("", str, always=True),             # checked against the generators on disk in start()
    "clf": Field("", str, always=True),             # checked against the fitting classifiers by the page
    "a": Field(7, _int(0, MAX_SEED), always=True),
    "b": Field(42, _int(0, MAX_SEED), always=True),
    "k": Field(8, _int(2, 24)),
    "method": Field("slerp", _choice(list(METHODS))),
    "psi": Field(1.0, _float(0.0, 1.0, 0.05)),
    **{f"d{i}": Field(0.0, _float(-OFFSET_RANGE, OFFSET_RANGE, 0.25)) for i in range(1, N_DIRECTIONS + 1)},
    "cls": Field(0, _int(0, 999)),                  # a conditional GAN's drawn class; checked by class_picker
    "target": Field(3, _int(0, 999)),
    "steps": Field(20, _int(2, 60)),
    "tab": Field("interpolate", _choice(list(TABS))),
}


def state() -> dict:
    return st.session_state[STATE]


def start(generator_names: list) -> list:
    """Fill the page state on the first run of a session (from the URL); returns one-line warnings."""
    if STATE in st.session_state:
        return []
    values, warnings = {k: f.default for k, f in FIELDS.items()}, []
    for key, f in FIELDS.items():
        if key not in st.query_params:
            continue
        text = st.query_params[key]
        try:
            values[key] = f.parse(text)
        except ValueError as e:
            warnings.append(f"{key}='{md(text, 40)}' ({md(e) or 'not a number'})")  # the link's text: escaped
    if values["gen"] not in generator_names:
        if values["gen"]:
            warnings.append(f"gen='{md(values['gen'], 40)}' (no generator of that name here)")
        values["gen"] = generator_names[0] if generator_names else ""
    st.session_state[STATE] = values
    return [f"Ignored from the link: {'; '.join(warnings)}."] if warnings else []


def widget_key(name: str) -> str:
    """The key for the widget showing `name`; seeds the widget from the page state the first time it is drawn."""
    key = PREFIX + name
    if key not in st.session_state:
        st.session_state[key] = state()[name]
    return key


def set_value(name: str, value):
    """Change a setting from a callback (before its widget is drawn in this run)."""
    state()[name] = value
    st.session_state[PREFIX + name] = value


def offsets() -> list:
    return [state()[f"d{i}"] for i in range(1, N_DIRECTIONS + 1)]


def reset_directions():
    """on_click: all sliders back to 0 and no truncation."""
    for i in range(1, N_DIRECTIONS + 1):
        set_value(f"d{i}", 0.0)
    set_value("psi", 1.0)


def sync():
    """Copy the values of the widgets drawn in this run into the page state."""
    s = state()
    for name in FIELDS:
        key = PREFIX + name
        if key in st.session_state and st.session_state[key] is not None:
            s[name] = st.session_state[key]


def url_params() -> dict:
    """The query parameters that reproduce the current state: names that always matter, the rest when
    they differ from their defaults (a link stays short)."""
    out = {}
    for name, f in FIELDS.items():
        v = state()[name]
        if f.always or v != f.default:
            out[name] = f"{v:g}" if isinstance(v, float) else str(v)
    return out


def save_to_url():
    """Sync the widgets into the state and write it to the URL (only when it changed: each write is a message
    to the browser)."""
    sync()
    want, now = url_params(), st.query_params.to_dict()
    mine = {k: v for k, v in now.items() if k in FIELDS}
    if mine != want:  # other parameters (the frame's ?job=ID) are kept as they are
        st.query_params.from_dict({**{k: v for k, v in now.items() if k not in FIELDS}, **want})
