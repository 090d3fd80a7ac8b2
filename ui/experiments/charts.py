"""Figures of the Experiments page: runs overlaid, the class board, sweep results, train-vs-validation curves
and the augmentation experiment. Plain-dict figures as in ui/charts.py; every user string goes through
plot_text first (plotly reads HTML tags in names and hover text).
"""
import plotly.graph_objects as go

from ui.charts import CHART_HEIGHT, COLORS, MAX_POINTS, PALETTE, chart_title, smooth, thin
from ui.safe_text import plot as plot_text

METRICS = {  # key -> (title, y axis, y range, smoothed, tick format)
    "loss": ("Training loss (smoothed)", "cross-entropy", None, True, None),
    "val_acc": ("Validation accuracy", "share correct", [0, 1.02], False, ".0%"),
    "loss_d": ("Discriminator loss D (smoothed)", "loss", None, True, None),
    "loss_g": ("Generator loss G (smoothed)", "loss", None, True, None),
    "d_x": ("D(x): verdict on real images (smoothed)", "probability 'real'", [0, 1.02], True, None),
    "d_g_z": ("D(G(z)): verdict on fakes (smoothed)", "probability 'real'", [0, 1.02], True, None),
}


def _layout(title, x_title, y_title, y_range=None, y_format=None, height=CHART_HEIGHT, legend_below=True):
    return {"title": chart_title(title), "height": height, "uirevision": "keep", "hovermode": "closest",
            "margin": {"l": 50, "r": 10, "t": 36, "b": 40},
            "legend": {"font": {"size": 11}, "orientation": "h", "yanchor": "top", "y": -0.28, "x": 0}
            if legend_below else {"font": {"size": 11}},
            "xaxis": {"title": {"text": x_title, "font": {"size": 11}}},
            "yaxis": {"title": {"text": y_title, "font": {"size": 11}}, "range": y_range, "tickformat": y_format}}


def overlay_figure(runs: list, key: str) -> go.Figure:
    """One metric of several runs on one chart, against epochs (comparable across batch sizes)."""
    title, y_title, y_range, smoothed, fmt = METRICS[key]
    traces = []
    for i, (name, rows) in enumerate(runs):
        pts = [r for r in rows if isinstance(r.get(key), (int, float))]
        if not pts:
            continue
        x = [r.get("epoch", r.get("step")) for r in pts]
        y = [r[key] for r in pts]
        if smoothed:
            y = smooth(y)
        keep = thin(len(x), MAX_POINTS)
        traces.append({"type": "scatter", "x": [x[j] for j in keep], "y": [y[j] for j in keep],
                       "name": plot_text(name), "mode": "lines" if smoothed else "lines+markers",
                       "line": {"color": PALETTE[i % len(PALETTE)], "width": 2}, "marker": {"size": 6}})
    layout = _layout(title, "epoch", y_title, y_range, fmt, height=CHART_HEIGHT + 40)
    return go.Figure({"data": traces, "layout": layout})


def board_figure(rows: list, metric_title: str, lower_better: bool = False, floor: float | None = None) -> go.Figure:
    """Every published run: seconds of training across, its score up; the best one marked. A share (accuracy)
    runs from 0 to 100%; a distance (lower_better) from 0 up, with the real images' own distance dashed."""
    if not rows:
        return go.Figure({"data": [], "layout": _layout("Class board", "seconds of training", metric_title)})
    best = rows[0]
    pts = {"type": "scatter", "mode": "markers+text", "x": [r["seconds"] for r in rows],
           "y": [r["score"] for r in rows], "text": [plot_text(r["nickname"]) for r in rows],
           "textposition": "top center", "textfont": {"size": 11},
           "marker": {"size": [16 if r is best else 10 for r in rows],
                      "color": [COLORS["good"] if r is best else COLORS["main"] for r in rows],
                      "line": {"width": 1, "color": "white"}},
           "hovertemplate": "%{text}<br>%{y:" + (".0f" if lower_better else ".1%") + "} after %{x:.0f} s<extra></extra>",
           "showlegend": False}
    if not lower_better:
        layout = _layout("Every published run: further up is better, further left is faster", "seconds of training",
                         metric_title, [0, 1.05], ".0%", height=360)
    else:
        top = max([r["score"] for r in rows] + [floor or 0]) * 1.15
        layout = _layout("Every published run: further down is closer to real images, further left is faster",
                         "seconds of training", metric_title, [0, top], None, height=360)
        if floor is not None:
            layout["shapes"] = [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": floor,
                                 "y1": floor, "line": {"dash": "dash", "width": 1, "color": COLORS["muted"]}}]
            layout["annotations"] = [{"xref": "paper", "x": 1, "xanchor": "right", "yref": "y", "y": floor,
                                      "yanchor": "bottom", "showarrow": False, "font": {"size": 11},
                                      "text": f"real training images: {floor:.0f}"}]
    layout["xaxis"]["rangemode"] = "tozero"
    return go.Figure({"data": [pts], "layout": layout})


def sweep_figure(results: list) -> go.Figure:
    """Mean validation accuracy per setting, error bars = spread over folds, best in green."""
    ordered = sorted(results, key=lambda r: r["index"])
    best = min(results, key=lambda r: r["rank"]) if results else None
    bars = {"type": "bar", "x": [r["label"] for r in ordered], "y": [r["mean"] for r in ordered],
            "error_y": {"type": "data", "array": [r["spread"] for r in ordered], "visible": True},
            "marker": {"color": [COLORS["good"] if r is best else COLORS["main"] for r in ordered]},
            "hovertemplate": "%{x}: %{y:.2%}<extra></extra>"}
    # bars start at 0: a cut axis makes a 1-point difference look like a doubling
    layout = _layout("Validation accuracy per setting (bar: mean over folds, line: ± spread; green: best)",
                     None, "mean validation accuracy", [0, 1.0], ".0%", height=320)
    layout["xaxis"]["type"] = "category"
    return go.Figure({"data": [bars], "layout": layout})


def train_val_figure(curves: dict, key_train: str, key_val: str, title: str, y_title: str, fmt=None) -> go.Figure:
    """Solid: on the training images; dashed: on held-out images. A gap that grows is overfitting."""
    traces = []
    for i, (name, rows) in enumerate(curves.items()):
        color = PALETTE[i % len(PALETTE)]
        for key, dash, part in ((key_train, "solid", "training"), (key_val, "dash", "validation")):
            pts = [r for r in rows if key in r]
            traces.append({"type": "scatter", "mode": "lines+markers", "x": [r["epoch"] for r in pts],
                           "y": [r[key] for r in pts], "name": f"{name} · {part}",
                           "line": {"color": color, "dash": dash, "width": 2}, "marker": {"size": 5}})
    return go.Figure({"data": traces, "layout": _layout(title, "epoch", y_title, None, fmt, height=330)})


def augment_figure(settings: list) -> go.Figure:
    """Grouped bars: validation accuracy with only real images and with generated ones added, per number of
    real images per class; error bars are the spread over seeds."""
    traces = []
    for mode, color, name in (("real", COLORS["main"], "real images only"),
                              ("real+generated", COLORS["second"], "real + generated images")):
        rows = [s for s in settings if s["mode"] == mode]
        traces.append({"type": "bar", "name": name, "x": [f"{s['per_class']} per class" for s in rows],
                       "y": [s["mean"] for s in rows], "marker": {"color": color},
                       "error_y": {"type": "data", "array": [s["spread"] for s in rows], "visible": True},
                       "hovertemplate": "%{x}: %{y:.1%}<extra>" + name + "</extra>"})
    layout = _layout("Validation accuracy (mean over seeds, ± spread)", "real training images", "validation accuracy",
                     [0, 1.0], ".0%", height=330)   # from 0: a cut axis would make small differences look large
    layout["barmode"] = "group"
    return go.Figure({"data": traces, "layout": layout})
