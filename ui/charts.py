"""Plotly figures for training metrics and confusion matrices.

    st.plotly_chart(loss_figure(rows), key="loss", config=CHART_CONFIG)

Every figure has a fixed height and a constant `uirevision`, so a figure redrawn each second keeps its
size and the user's zoom. st.plotly_chart resends the whole figure on each update, so long histories
are thinned to at most MAX_POINTS points per line (the smoothed curve is computed before thinning).

Figures are written as plain dicts and wrapped in go.Figure once: building them through plotly's
update_* methods and a named template cost ~60 ms per chart (validation and template deep copies),
which at one redraw a second would take a real share of a 2-core machine away from training.
Colours and fonts come from Streamlit's own chart theme.
"""
import plotly.graph_objects as go

from imgai.training.history import thin_indices

from ui.safe_text import plot

MAX_POINTS = 400         # per line: enough for a smooth curve, small enough to resend every second
CHART_HEIGHT = 250       # px; fixed so that nothing below a chart moves while it updates
CONFUSION_HEIGHT = 400   # about the height of the 6x6 prediction grid beside it
CHART_CONFIG = {"displayModeBar": False, "responsive": True}   # every chart of the app: no Plotly toolbar
# the app's one palette: runs and series take colours in this order; COLORS names the first few by role
PALETTE = ["#4C6EF5", "#F76707", "#2B8A3E", "#E03131", "#7048E8", "#1098AD", "#D6336C", "#5C940D", "#868E96", "#E67700"]
COLORS = {"raw": "rgba(76,110,245,0.28)", "main": PALETTE[0], "second": PALETTE[1], "good": PALETTE[2],
          "bad": PALETTE[3], "muted": PALETTE[8], "pale": "#c5cdfa"}
# legends sit inside the plot, in the corner the curves usually leave empty, so they never cover the title
LEGEND_AT = {"top": {"yanchor": "top", "y": 0.98, "xanchor": "right", "x": 0.99},
             "bottom": {"yanchor": "bottom", "y": 0.02, "xanchor": "right", "x": 0.99},
             # GAN curves wander over the whole plot: their legend goes under the axis instead
             "below": {"yanchor": "top", "y": -0.14, "xanchor": "left", "x": 0, "orientation": "h"}}


def thin(n: int, max_points: int = MAX_POINTS) -> list:
    """Indices of at most max_points (plus the last one) spread evenly over range(n)."""
    return thin_indices(n, max_points)


def smooth(values: list, weight: float = 0.9) -> list:
    """Exponential moving average with bias correction (as TensorBoard's smoothing slider): the first
    points are not dragged towards zero. weight 0 = the values themselves."""
    if weight <= 0:
        return list(values)
    out, avg = [], 0.0
    for i, v in enumerate(values, 1):
        avg = weight * avg + (1 - weight) * v
        out.append(avg / (1 - weight ** i))
    return out


def chart_title(text: str) -> dict:
    return {"text": text, "font": {"size": 14}, "x": 0, "xanchor": "left", "y": 0.97, "yanchor": "top"}


def _figure(traces: list, title: str, y_title: str, y_range=None, legend: str = "top", y_format=None) -> go.Figure:
    below = legend == "below"
    layout = {
        "title": chart_title(title), "height": CHART_HEIGHT, "uirevision": "keep", "hovermode": "x unified",
        "margin": {"l": 50, "r": 10, "t": 36, "b": 58 if below else 40},
        "legend": {"font": {"size": 11}, "bgcolor": "rgba(255,255,255,0.75)", **LEGEND_AT[legend]},
        "xaxis": {"title": {"text": None if below else "step", "font": {"size": 11}}, "rangemode": "tozero"},
        "yaxis": {"title": {"text": y_title, "font": {"size": 11}}, "range": y_range, "tickformat": y_format},
    }
    return go.Figure({"data": traces, "layout": layout})


def _line(x, y, name, color, width=2.0, mode="lines", legend=True) -> dict:
    return {"type": "scatter", "x": x, "y": y, "name": name, "mode": mode, "showlegend": legend,
            "line": {"color": color, "width": width}, "marker": {"size": 7}}


def _series(rows: list, key: str):
    rows = [r for r in rows if key in r]
    return [r["step"] for r in rows], [r[key] for r in rows]


def _pick(values: list, keep: list) -> list:
    return [values[i] for i in keep]


def _log_axis(fig: go.Figure, log: bool) -> go.Figure:
    """A log axis: one spike (a learning rate of 1 sends the loss to 230) no longer flattens the rest."""
    if log:
        fig.update_yaxes(type="log", range=None)
    return fig


def loss_figure(rows: list, smoothing: float = 0.9, log: bool = False) -> go.Figure:
    """CNN training loss: every step (faint) and smoothed (bold)."""
    x, y = _series(rows, "loss")
    keep = thin(len(x))
    xs = _pick(x, keep)
    return _log_axis(_figure([_line(xs, _pick(y, keep), "each batch", COLORS["raw"], 1),
                              _line(xs, _pick(smooth(y, smoothing), keep), "smoothed", COLORS["main"], 2.5)],
                             "Training loss (lower is better)", "cross-entropy" + (" (log scale)" if log else "")), log)


def accuracy_figure(rows: list) -> go.Figure:
    """CNN accuracy: running training accuracy per epoch, and validation accuracy at each epoch end."""
    x, y = _series(rows, "acc")
    keep = thin(len(x))
    vx, vy = _series(rows, "val_acc")
    return _figure([_line(_pick(x, keep), _pick(y, keep), "training (this epoch)", COLORS["main"]),
                    _line(vx, vy, "validation (unseen images)", COLORS["second"], 2.5, mode="lines+markers")],
                   "Accuracy (higher is better)", "share correct", y_range=[0, 1.02], legend="bottom", y_format=".0%")


def gan_loss_figure(rows: list, smoothing: float = 0.9, log: bool = False) -> go.Figure:
    x, d = _series(rows, "loss_d")
    _, g = _series(rows, "loss_g")
    keep = thin(len(x))
    xs = _pick(x, keep)
    return _log_axis(_figure(
        [_line(xs, _pick(d, keep), "D, each batch", "rgba(76,110,245,0.25)", 1, legend=False),
         _line(xs, _pick(g, keep), "G, each batch", "rgba(247,103,7,0.25)", 1, legend=False),
         _line(xs, _pick(smooth(d, smoothing), keep), "discriminator D (smoothed)", COLORS["main"], 2.5),
         _line(xs, _pick(smooth(g, smoothing), keep), "generator G (smoothed)", COLORS["second"], 2.5)],
        "Losses: D and G pull against each other", "loss" + (" (log scale)" if log else ""), legend="below"), log)


def gan_d_figure(rows: list) -> go.Figure:
    """What the discriminator says: D(x) on real images, D(G(z)) on fakes. Both near 0.5: D is fooled."""
    x, dx = _series(rows, "d_x")
    _, dg = _series(rows, "d_g_z")
    keep = thin(len(x))
    xs = _pick(x, keep)
    fig = _figure([_line(xs, _pick(smooth(dx), keep), "D(x): real images", COLORS["good"], 2.5),
                   _line(xs, _pick(smooth(dg), keep), "D(G(z)): fakes", COLORS["bad"], 2.5)],
                  "Discriminator's verdict (1 = real, 0 = fake)", "probability 'real'", y_range=[0, 1.02],
                  legend="below")
    fig.layout.shapes = [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": 0.5, "y1": 0.5,
                          "line": {"color": "#868E96", "width": 1, "dash": "dot"}}]
    return fig


def confusion_figure(matrix: list | None, class_names: list, step: int | None = None,
                     title: str | None = None) -> go.Figure:
    """Rows: the true class; columns: the network's answer. The diagonal holds the right answers.
    matrix None: an empty grey stand-in of the same size (before the first epoch ends)."""
    n = len(class_names)
    labels = [plot(c, 12) for c in class_names]  # plotly renders <a href>, <b> … in labels
    waiting = matrix is None
    heat = {"type": "heatmap", "z": [[0] * n for _ in range(n)] if waiting else matrix, "x": labels, "y": labels,
            "colorscale": [[0, "#F1F3F5"], [1, "#F1F3F5"]] if waiting else "Blues", "showscale": False,
            "xgap": 1 if waiting else 0, "ygap": 1 if waiting else 0,
            "hovertemplate": "true %{y}, predicted %{x}: %{z}<extra></extra>"}
    if n <= 15 and not waiting:
        heat.update(texttemplate="%{z}", textfont={"size": 10})
    if title is None:  # the Train page's live chart; Teach names its own held-back photos
        title = "Confusion matrix (validation)" + (f" at step {step:,}" if step is not None else ": after the first epoch")
    return go.Figure({"data": [heat], "layout": {
        "title": chart_title(title), "height": CONFUSION_HEIGHT, "uirevision": "keep",
        "margin": {"l": 60, "r": 10, "t": 36, "b": 50},
        "xaxis": {"title": {"text": "predicted", "font": {"size": 11}}, "type": "category",
                  "tickangle": 0 if n <= 10 else -45},
        "yaxis": {"title": {"text": "true", "font": {"size": 11}}, "type": "category", "autorange": "reversed"}}})
