"""Escaping user text (nicknames, run names) before it reaches markdown, HTML or a plotly chart: the
project's one rule, ui/safe_text.py, under the names this page's modules use.

    st.markdown(f"**{md(nickname)}**"); {"name": plot_text(nickname)}
"""
from ui.safe_text import md, plot as plot_text

__all__ = ["md", "plot_text"]
