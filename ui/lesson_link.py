"""A page's settings in its URL, and a teacher's lesson link: some settings fixed, chosen controls hidden.

    link = LessonLink("train", FIELDS)          # once per page run, before the widgets
    lr = link.widget("lr", key, lambda **kw: st.select_slider(..., **kw), {"value": 3e-4})
    link.save_to_url()                          # after the widgets: the address reproduces the settings

URL parameters: one per setting (`lr=0.001`), plus `lock=a,b` (shown, not changeable), `hide=a,b` (not
shown; the link's value or the default is used) and `only=a,b` (only these can be changed; every other
control is hidden). The link is read once per session, when the page is first opened with it; bad values
are dropped with a one-line warning. Like TensorFlow Playground's URLs, which hold every setting and can
hide controls to focus a lesson.
"""
import math
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlencode

import streamlit as st

from ui.safe_text import md

RESERVED = ("lock", "hide", "only")


def number(lo, hi, kind=float, grid=None):
    """A parser for a number between lo and hi (on `grid`, a list of allowed values, if given)."""
    def parse(text):
        v = kind(float(text)) if kind is int else kind(text)
        if not math.isfinite(v) or not lo <= v <= hi:
            raise ValueError(f"not between {lo:g} and {hi:g}")
        if grid is not None:
            near = min(grid, key=lambda g: abs(g - v))
            if abs(near - v) > 1e-9 * max(1.0, abs(v)):
                raise ValueError(f"not one of {', '.join(f'{g:g}' for g in grid)}")
            v = near
        return v
    return parse


def choice(options):
    def parse(text):
        if text not in options:
            raise ValueError(f"not one of {', '.join(options)}")
        return text
    return parse


def flag(text):
    if text not in ("0", "1"):
        raise ValueError("not 0 or 1")
    return text == "1"


@dataclass(frozen=True)
class Field:
    label: str                         # as the control is labelled on the page (the teacher's checklist)
    parse: Callable[[str], object]
    show: Callable[[object], str] = str   # value → its URL text


class LessonLink:
    def __init__(self, page: str, fields: dict[str, Field]):
        self.page, self.fields = page, fields
        self._state_key = f"lesson_{page}"
        if self._state_key not in st.session_state:
            st.session_state[self._state_key] = self._read_url()
        self.state = st.session_state[self._state_key]
        self.values = {}               # this run's value of every setting drawn (or hidden)

    # ---- reading the link, once per session ----
    def _read_url(self) -> dict:
        given, problems = {}, []
        for name, f in self.fields.items():
            if name in st.query_params:
                text = st.query_params[name]
                try:
                    given[name] = f.parse(text)
                except (ValueError, TypeError) as e:
                    problems.append(f"{name}='{md(text, 40)}' ({md(e) or 'not a number'})")
        names = lambda key: [n for n in st.query_params.get(key, "").split(",") if n]
        unknown = [n for key in RESERVED for n in names(key) if n not in self.fields]
        if unknown:
            problems.append(f"no control named {md(', '.join(unknown), 60)}")
        locked, hidden = set(names("lock")) & set(self.fields), set(names("hide")) & set(self.fields)
        only = set(names("only")) & set(self.fields)
        if only:
            hidden |= set(self.fields) - only
        return {"given": given, "locked": locked - hidden, "hidden": hidden, "only": only, "seeded": set(),
                "warning": f"Ignored from the link: {'; '.join(problems)}." if problems else None}

    def warning(self) -> str | None:
        """The link's one-line warning, shown once."""
        return self.state.pop("warning", None)

    @property
    def is_lesson(self) -> bool:
        return bool(self.state["locked"] or self.state["hidden"])

    def lesson_notice(self):
        """Say that a lesson link fixed the page, with the way out: a link is anybody's to write, so a student
        can always get every control back (the values stay as the link set them)."""
        if not self.is_lesson:
            return
        st.info("A lesson link set this page up: some settings are fixed for this lesson.", icon=":material/school:")
        if st.button("Show every control", key=f"lesson_{self.page}_leave", icon=":material/lock_open:",
                    help="Leave the lesson: every setting can be changed again."):
            self.state["locked"], self.state["hidden"], self.state["only"] = set(), set(), set()
            st.rerun()

    def hidden(self, name: str) -> bool:
        return name in self.state["hidden"]

    # ---- the widgets ----
    def widget(self, name: str, key: str, draw: Callable, default: dict, fallback=None):
        """Draw a control through draw(**kwargs) and return its value. The link's value seeds it the first
        time it is drawn in this session; a locked one is disabled; a hidden one is not drawn and gives the
        link's value (or `fallback`, the page's default)."""
        given = self.state["given"]
        if self.hidden(name):
            value = st.session_state.get(key, given.get(name, fallback))
        else:
            kwargs = {"key": key, "disabled": name in self.state["locked"]}
            if name in given and name not in self.state["seeded"] and key not in st.session_state:
                st.session_state[key] = given[name]        # seeded from the link, so no default is passed
            elif key not in st.session_state:
                kwargs.update(default)
            self.state["seeded"].add(name)
            value = draw(**kwargs)
        self.values[name] = value
        return value

    # ---- writing it back ----
    def query(self, keep: set | None = None, hide_others: bool = False) -> dict:
        """The URL parameters of this run's settings; with `keep`, a lesson link where only those change."""
        q = {n: self.fields[n].show(v) for n, v in self.values.items() if v is not None}
        if keep is not None:
            if hide_others:
                q["only"] = ",".join(n for n in self.fields if n in keep)
            else:
                q["lock"] = ",".join(n for n in self.fields if n in self.values and n not in keep)
        elif self.state["only"]:            # the teacher's words stay in the address: only these change
            q["only"] = ",".join(n for n in self.fields if n in self.state["only"])
        else:
            for key, names in (("lock", self.state["locked"]), ("hide", self.state["hidden"])):
                if names:
                    q[key] = ",".join(n for n in self.fields if n in names)
        return q

    def given(self, name: str):
        """The link's value for a setting (None when the link has none)."""
        return self.state["given"].get(name)

    def save_to_url(self):
        """Write this run's settings into the address; other parameters (the Train page's ?job=) stay."""
        ours = set(self.fields) | set(RESERVED)
        q = {k: v for k, v in st.query_params.to_dict().items() if k not in ours}
        q.update(self.query())
        if q != st.query_params.to_dict():
            st.query_params.from_dict(q)

    def teacher_panel(self):
        """An expander where a teacher picks what students may change and copies the lesson link."""
        with st.expander("Lesson link (for teachers)", icon=":material/link:"):
            names = [n for n in self.fields if n in self.values]
            keep = st.multiselect("Students may change", names, format_func=lambda n: self.fields[n].label,
                                  key=f"lesson_{self.page}_keep",
                                  help="Every other setting is fixed at its value on this page now.")
            hide_others = st.toggle("Hide the fixed controls", value=True, key=f"lesson_{self.page}_hide",
                                    help="Off: the fixed controls are shown but cannot be changed.")
            base = (st.context.url or "").split("?")[0]
            st.code(f"{base}?{urlencode(self.query(set(keep), hide_others), safe=',')}", language=None,
                    wrap_lines=True)
            st.caption("Send this address to your students: their page opens with these settings, and only the "
                       "ones you picked can be changed. The address bar always holds the page's current settings.")
