"""Escaping user text (nicknames, run names) before it reaches markdown, HTML or a plotly chart.

    st.markdown(f"**{md(nickname)}**"); {"name": plot_text(nickname)}

A local stand-in until ui/safe_text.py (being written on another branch) lands; then these two become
imports from there.
"""
import html
import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>$:])")


def md(text) -> str:
    """Plain text for st.markdown / st.caption: HTML entities escaped, markdown punctuation
    backslash-escaped (no links, images, emphasis, LaTeX or :material/icons: from user text), one line."""
    one_line = " ".join(str(text).split())
    return _MD_SPECIAL.sub(r"\\\1", html.escape(one_line, quote=False))


def plot_text(text) -> str:
    """Plain text for plotly names, hover text and annotations: plotly reads <b>, <br>, <a href=...> tags
    in these, so < > & become entities."""
    return html.escape(" ".join(str(text).split()), quote=False)
