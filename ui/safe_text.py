"""User strings made safe to show: the one place every class name, file name, model name, data set folder,
zip member and error line quoting them passes through before it reaches markdown, HTML or a plotly label.

    st.markdown(f"**{md(name)}** → {md(label)}");  fig = go.Bar(y=[plot(n) for n in names])

Streamlit renders markdown in st.markdown/caption/error/info/success/warning, in widget labels, help
tooltips, tab/expander titles and progress texts: a name like "![x](http://host/t.png)" would make every
browser that shows it fetch that URL, "[click](javascript:…)" would be a live link. Plotly renders a
subset of HTML in titles, tick labels, hover and bar texts (<a href>, <b>, <br>, <img>-like tags are not
allowed but links are). So:

- `md(text)`    breaks autolinks (bare www., scheme:// and e-mail addresses become links in GitHub-flavoured
                markdown even when escaped: `no_autolinks`), then backslash-escapes every ASCII punctuation character (CommonMark allows that escape for all
                of them, so the text shows literally: no link, image, emphasis, heading, list, HTML, math,
                colour directive or table survives);
- `plot(text)`  escapes &, < and > as HTML entities, which is all plotly's label parser looks for;
- both first `clean` the text: control characters and Unicode direction overrides (which can make a
  name read backwards, e.g. "gpj.exe") are dropped, line breaks become spaces, and very long strings are
  cut with an ellipsis, so one name cannot flood a page or a chart axis.

Strings that are only ever shown as widget options or dataframe cells are rendered as plain text by
Streamlit and need no escaping; they still benefit from `clean`.
"""
from __future__ import annotations

import re
import unicodedata

NAME_CHARS = 80        # a class, file or model name on screen: longer ones are cut (the full name is not lost)
LINE_CHARS = 400       # an error or status line quoting user strings

# bidirectional embeddings, overrides and isolates, and the zero-width marks that steer them (Unicode UAX #9)
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_JOINER = "\u2060"   # WORD JOINER: splits an autolink pattern without showing anything
# "www." (the joiner goes before the dot), "://" (before the colon) and "@" (before it), case-insensitive
_AUTOLINK = re.compile(r"(?i)www\.|:(?=//)|@")
_MD_SPECIAL = set("\\`*_{}[]()<>#+-.!|~$&:;\"'=^%?@/,")  # all ASCII punctuation that markdown dialects use


def clean(text, limit: int | None = NAME_CHARS) -> str:
    """One printable line: control characters and direction overrides dropped, whitespace runs (line
    breaks and tabs included) made one space, cut to `limit` characters with "…" (None: no cut)."""
    if text is None:
        return ""
    out, space = [], False
    for ch in str(text):
        if ch.isspace():
            space = bool(out)
            continue
        if ch in _BIDI or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") and ch not in "\u200d":
            continue  # \u200d (zero-width joiner) is kept: it builds emoji sequences people do type
        if space:
            out.append(" ")
            space = False
        out.append(ch)
    s = "".join(out)
    if limit is not None and len(s) > limit:
        s = s[: max(1, limit - 1)].rstrip() + "…"
    return s


def no_autolinks(text: str) -> str:
    """Break what GitHub-flavoured markdown turns into a link by itself, even in escaped text: bare "www.",
    "scheme://" and e-mail addresses. A word joiner (U+2060, invisible, no width) goes after "www", before
    "://" and before "@", so the text reads the same and no autolink rule matches."""
    return _AUTOLINK.sub(lambda m: m[0][:-1] + _JOINER + m[0][-1], text)


def md(text, limit: int | None = NAME_CHARS) -> str:
    """`text` as literal text inside Streamlit markdown (st.markdown, captions, alerts, labels, help)."""
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in no_autolinks(clean(text, limit)))


def md_line(text, limit: int | None = LINE_CHARS) -> str:
    """A whole message (an error that quotes a file or model name) as literal markdown text."""
    return md(text, limit)


def plot(text, limit: int | None = NAME_CHARS) -> str:
    """`text` as literal text in a plotly title, axis tick, legend, bar text or hover label."""
    return no_autolinks(clean(text, limit)).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
