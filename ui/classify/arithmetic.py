"""'Inside the network' step by step (after CNN Explainer, for any imgai classifier and any picture): click a
cell of a feature map and see Σ window · kernel + bias with the network's own numbers, then BatchNorm, ReLU
and pooling; the dense end as logits → exp → softmax with a temperature; a sandbox convolution.

    arithmetic_section(clf, x, key)   # x: the model's input, as Classifier.prepare made it
"""
from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from imgai.inference.arithmetic import (SANDBOX_KERNELS, InspectError, conv_layers, conv_maps, explain_cell,
                                        parse_kernel, preset_kernel, sandbox, softmax_table, trace_forward)
from ui.classify.results import recall, remember
from ui.safe_text import md_line, plot

MAP_PX = 330        # on-screen size of the clickable feature map and of the input picture beside it
DETAIL_CHANNELS = 4  # input channels written out in full; the rest are summed per channel
CELL = "classify_arith_cell"   # (layer, channel, i, j) the student picked
PLAY, PLAYED = "classify_arith_play", "classify_arith_played"   # slow motion on; the cell last shown by it
SLOW_MOTION_S = 1.0            # one kernel position a second: time to read the sum


def _num(v: float) -> str:
    return f"{v:.4f}" if abs(v) >= 1e-4 or v == 0 else f"{v:.2e}"


def _matrix(m, highlight=None) -> str:
    """A small matrix of numbers as an HTML table (numbers only: nothing the user typed)."""
    rows = "".join("<tr>" + "".join(f"<td>{_num(v)}</td>" for v in row) + "</tr>" for row in m)
    return f'<table class="arith">{rows}</table>'


STYLE = """<style>
table.arith {border-collapse: collapse; font-family: ui-monospace, monospace; font-size: 12px; display:inline-table;
  vertical-align: middle; margin: 2px 4px;}
table.arith td {border: 1px solid #c9ced6; padding: 1px 5px; text-align: right; min-width: 52px;}
span.op {font-size: 20px; padding: 0 4px; vertical-align: middle;}
div.formula {font-family: ui-monospace, monospace; font-size: 14px; background: #f4f6fb; padding: 8px 12px;
  border-radius: 6px; margin: 6px 0; line-height: 1.7;}
</style>"""


def _grid_figure(a: np.ndarray, title: str, box=None, cell=None, clickable=False, px: int = MAP_PX) -> go.Figure:
    """A 2-D map as scatter squares (clickable: a heatmap gets no click selection in Streamlit), with an
    optional rectangle (the window on the input) and an outlined cell."""
    h, w = a.shape
    yy, xx = np.mgrid[0:h, 0:w]
    size = max(3, px * 0.86 / max(h, w))
    fig = go.Figure(go.Scatter(
        x=xx.ravel(), y=yy.ravel(), mode="markers", customdata=a.ravel(),
        marker=dict(symbol="square", size=size, color=a.ravel(), colorscale="Greys_r", line=dict(width=0),
                    showscale=False),
        hovertemplate="row %{y}, column %{x}: %{customdata:.4f}<extra></extra>"))
    if box is not None:
        (r0, c0), (kh, kw) = box
        fig.add_shape(type="rect", x0=c0 - 0.5, x1=c0 + kw - 0.5, y0=r0 - 0.5, y1=r0 + kh - 0.5,
                      line=dict(color="#e8590c", width=3))
    if cell is not None:
        fig.add_shape(type="rect", x0=cell[1] - 0.5, x1=cell[1] + 0.5, y0=cell[0] - 0.5, y1=cell[0] + 0.5,
                      line=dict(color="#e8590c", width=3))
    fig.update_layout(width=px, height=px + 30, margin=dict(l=0, r=0, t=30, b=0), title=dict(text=title, font=dict(size=13)),
                      xaxis=dict(range=[-0.5, w - 0.5], visible=False, fixedrange=True),
                      yaxis=dict(range=[h - 0.5, -0.5], visible=False, fixedrange=True, scaleanchor="x"),
                      plot_bgcolor="white", clickmode="event+select" if clickable else "none", dragmode=False)
    return fig


def _trace(clf, x, key):
    k = ("arith", key)
    return recall(k) or remember(k, trace_forward(clf.model, x))


def _move(delta: int, w: int, h: int):
    layer, c, i, j = st.session_state[CELL]
    pos = min(max(i * w + j + delta, 0), h * w - 1)   # the kernel slides along a row, then to the next row
    st.session_state[CELL] = (layer, c, pos // w, pos % w)


def _replay():
    """Slow motion toggled: start counting positions from the cell shown now."""
    st.session_state.pop(PLAYED, None)


def _clicked(chart_key: str, layer: int, c: int):
    points = (st.session_state.get(chart_key) or {}).get("selection", {}).get("points") or []
    if points:
        st.session_state[CELL] = (layer, c, int(points[0]["y"]), int(points[0]["x"]))


def _formula(cell: dict) -> str:
    """The seed's formula with these numbers: per input channel Σ window·kernel, then the sum and bias."""
    per = np.asarray(cell["products"]).reshape(cell["in_channels"], -1).sum(1)
    terms = " + ".join(f"({_num(v)})" for v in per[:8]) + (f" + … ({len(per) - 8} more channels)" if len(per) > 8 else "")
    i, j = cell["at"]
    return (f'<div class="formula">Y[{cell["channel"]}, {i}, {j}] = Σ<sub>c</sub> Σ<sub>m</sub> Σ<sub>n</sub> '
            f'X[c, {cell["window_at"][0]}+m, {cell["window_at"][1]}+n] · K[{cell["channel"]}, c, m, n] + b<br>'
            f'= {terms} + {_num(cell["bias"])}<br>= <b>{_num(cell["sum"])}</b> &nbsp; '
            f'(the forward pass computed <b>{_num(cell["output"])}</b>)</div>')


def _after(cell: dict) -> str:
    lines = []
    for s in cell["after"]:
        if s["kind"] == "batchnorm":
            lines.append(f'BatchNorm: ({_num(s["input"])} − {_num(s["mean"])}) / √({_num(s["var"])} + {s["eps"]:g})'
                         f' · {_num(s["gamma"])} + {_num(s["beta"])} = {_num(s["scale"])} × {_num(s["input"])} + '
                         f'{_num(s["shift"])} = <b>{_num(s["output"])}</b>')
        elif s["kind"] in ("maxpool", "avgpool"):
            if s["window"] is None:
                lines.append("Pooling: this cell is at an edge the pooling windows do not cover — it is dropped.")
                continue
            what = "largest" if s["kind"] == "maxpool" else "average"
            ties = int((np.asarray(s["window"]) == s["survivor"]).sum())
            fate = ("another value wins: this one is dropped" if not s["survives"] else
                    "this cell is the largest: it survives" if ties == 1 else
                    f"{ties} cells tie for the largest, this one among them") if s["kind"] == "maxpool" else ""
            lines.append(f'{s["size"][0]}×{s["size"][1]} {s["kind"][:3]}-pool window at rows {s["window_at"][0]}–'
                         f'{s["window_at"][0] + s["size"][0] - 1}, columns {s["window_at"][1]}–'
                         f'{s["window_at"][1] + s["size"][1] - 1}: {_matrix(s["window"])} the {what} is '
                         f'<b>{_num(s["survivor"])}</b> → pooled cell ({s["at"][0]}, {s["at"][1]}); {fate}.')
        else:
            name = "ReLU: max(0, x)" if s["kind"] == "relu" else s["kind"]
            lines.append(f'{name} of {_num(s["input"])} = <b>{_num(s["output"])}</b>')
    return '<div class="formula">' + "<br>".join(lines) + "</div>" if lines else ""


def cell_section(clf, x, key: str):
    """The picked cell written out; in slow motion it redraws itself every SLOW_MOTION_S, one position on."""
    trace = _trace(clf, x, key)
    playing = bool(st.session_state.get(PLAY))
    st.fragment(_cell_view, run_every=SLOW_MOTION_S if playing else None)(clf, x, key, playing)
    return trace


def _cell_view(clf, x, key: str, playing: bool = False):
    trace = _trace(clf, x, key)
    layers = conv_layers(trace)
    st.markdown(STYLE, unsafe_allow_html=True)
    c1, c2, c3 = st.columns([2, 1, 2])
    names = [f"conv {k} · {l['input'][0]}→{l['output'][0]} channels · {l['output'][1]}×{l['output'][2]}"
             for k, l in enumerate(layers)]
    layer = c1.selectbox("Conv layer", range(len(layers)), format_func=lambda k: names[k], key="classify_arith_layer")
    inp, out = conv_maps(trace, layer)
    C, h, w = out.shape
    busiest = int(np.abs(out).reshape(C, -1).mean(1).argmax())
    c = c2.number_input("Feature map (channel)", 0, C - 1, busiest, key=f"classify_arith_channel_{layer}",
                        help="Which of this layer's output maps to look at; it starts at the most active one.")
    picked = st.session_state.get(CELL)
    if not picked or picked[:2] != (layer, c) or picked[2] >= h or picked[3] >= w:
        a = np.abs(out[c])
        i0, j0 = np.unravel_index(int(a.argmax()), a.shape)
        st.session_state[CELL] = picked = (layer, c, int(i0), int(j0))
    if st.session_state.get(PLAY) and st.session_state.get(PLAYED) == picked:
        _move(1, w, h)                       # slow motion: this redraw shows the next position
        picked = st.session_state[CELL]
    st.session_state[PLAYED] = picked
    _, _, i, j = picked
    with c3:
        st.write("Slide the kernel")
        b1, b2, b3, b4 = st.columns(4)
        b1.button("◀ previous", key="classify_arith_prev", on_click=_move, args=(-1, w, h))
        b2.button("next ▶", key="classify_arith_next", on_click=_move, args=(1, w, h))
        b3.button("next row ▼", key="classify_arith_row", on_click=_move, args=(w, w, h))
        if b4.toggle("slow motion", key=PLAY, on_change=_replay,
                     help=f"Slide the kernel on by itself, one position every {SLOW_MOTION_S:g} s, with every "
                          "number written out anew.") != playing:
            st.rerun(scope="app")        # only a full run makes this view anew, with (or without) its timer
    try:
        cell = explain_cell(trace, layer, c, i, j)
    except InspectError as e:
        st.error(md_line(e))
        return
    products = np.asarray(cell["products"])
    contrib = products.reshape(len(products), -1).sum(1)
    order = np.argsort(-np.abs(contrib))
    shown = int(order[0])
    chart_key = f"classify_arith_map_{layer}_{c}"
    with st.container(horizontal=True, wrap=True, gap="medium"):
        st.plotly_chart(_grid_figure(out[c], f"output map {c}: click a cell", cell=(i, j), clickable=True),
                        key=chart_key, on_select=lambda: _clicked(chart_key, layer, c), selection_mode="points",
                        config={"displayModeBar": False}, width="content")
        kh, kw = products.shape[1:]
        if layer == 0 and inp.shape[0] == 1:
            what = "the picture"
        elif layer == 0 and inp.shape[0] == 3:
            what = f"the picture's {('red', 'green', 'blue')[shown]} channel"
        else:
            what = f"input channel {shown}"
        st.plotly_chart(_grid_figure(inp[shown], f"{what} (the window in orange)",
                                     box=(cell["window_at"], (kh, kw))), key=f"classify_arith_in_{layer}",
                        config={"displayModeBar": False}, width="content")
    st.caption("Dark = low values, light = high. The orange square on the right is the window the picked cell "
               "reads; shown is the input channel that adds the most to its sum.")
    st.markdown(f"**Cell ({i}, {j}) of map {c}** reads a {kh}×{kw} window of all {cell['in_channels']} input "
                f"channels (values outside the input are the padding zeros) and the kernel "
                f"`{cell['kernel_name']}[{c}]` — the layer's own learned weights.")
    rows = []
    for ch in order[:DETAIL_CHANNELS]:
        ch = int(ch)
        rows.append(f"<div>channel {ch}: {_matrix(cell['window'][ch])}<span class='op'>⊙</span>"
                    f"{_matrix(cell['kernel'][ch])}<span class='op'>=</span>{_matrix(cell['products'][ch])}"
                    f"<span class='op'>→ Σ =</span><b>{_num(contrib[ch])}</b></div>")
    if len(order) > DETAIL_CHANNELS:
        rows.append(f"<div><i>the other {len(order) - DETAIL_CHANNELS} channels (written out above are the "
                    f"{DETAIL_CHANNELS} that add the most) sum to {_num(float(contrib[order[DETAIL_CHANNELS:]].sum()))}</i></div>")
    st.markdown("".join(rows) + _formula(cell) + _after(cell), unsafe_allow_html=True)
    return trace


def softmax_section(clf, trace):
    st.markdown("**The dense end:** the last layer gives one score (*logit*) per class. Softmax turns scores "
                "into probabilities: p = e<sup>z/T</sup> / Σ e<sup>z/T</sup>. The temperature T shows what "
                "“confidence” means: low T sharpens the answer, high T flattens it.", unsafe_allow_html=True)
    t = st.slider("Temperature T", 0.1, 10.0, 1.0, 0.1, key="classify_arith_temp")
    rows = softmax_table(trace.logits, t, clf.class_names)
    top = sorted(rows, key=lambda r: -r["prob"])[:10]
    shift = top[0]["shift"]
    exp_name = "e^(z/T)" if not shift else f"e^(z/T − {shift:.1f})"
    table = ("<table class='arith'><tr><td>class</td><td>logit z</td><td>z/T</td><td>" + exp_name +
             "</td><td>p</td></tr>" + "".join(
                 f"<tr><td>{html.escape(r['name'][:30])}</td><td>{r['logit']:.3f}</td><td>{r['scaled']:.3f}</td>"
                 f"<td>{r['exp']:.4g}</td><td>{r['prob']:.4f}</td></tr>" for r in top) + "</table>")
    total = sum(r["exp"] for r in rows)
    with st.container(horizontal=True, wrap=True, gap="large"):
        st.markdown(table + f"<div class='formula'>Σ {exp_name} = {total:.4g}; Σ p = "
                    f"{sum(r['prob'] for r in rows):.4f}</div>", unsafe_allow_html=True)
        fig = go.Figure(go.Bar(x=[r["prob"] for r in top][::-1], y=[plot(r["name"], 30) for r in top][::-1],
                               orientation="h", text=[f"{r['prob']:.1%}" for r in top][::-1],
                               textposition="outside", cliponaxis=False, marker_color="#4C6EF5"))
        fig.update_layout(width=360, height=60 + 26 * len(top), margin=dict(l=0, r=40, t=10, b=0),
                          xaxis=dict(range=[0, 1], tickformat=".0%", fixedrange=True),
                          yaxis=dict(type="category", fixedrange=True))
        st.plotly_chart(fig, key="classify_arith_softmax", config={"displayModeBar": False}, width="content")


def sandbox_section(clf, x):
    st.markdown("**Sandbox:** your picture through one kernel you choose. "
                "Y[i, j] = Σ<sub>m</sub> Σ<sub>n</sub> X[i·s + m − p, j·s + n − p] · K[m, n]", unsafe_allow_html=True)
    c1, c2, c3, c4 = st.columns(4)
    name = c1.selectbox("Kernel", [*SANDBOX_KERNELS, "typed numbers"], key="classify_sandbox_kernel")
    size = c2.select_slider("Kernel size k", [1, 3, 5, 7], 3, key="classify_sandbox_k",
                            disabled=name == "typed numbers")
    pad = c3.number_input("Padding p", 0, 5, 0, key="classify_sandbox_p")
    stride = c4.number_input("Stride s", 1, 4, 1, key="classify_sandbox_s")
    try:
        if name == "typed numbers":
            text = st.text_area("Kernel numbers (one row a line)", "-1 -1 -1\n0 0 0\n1 1 1",
                                key="classify_sandbox_text", height=100)
            kernel = parse_kernel(text)
        else:
            kernel = preset_kernel(name, size)
        grey = clf.preview(x).astype(np.float64) / 255
        out = sandbox(grey, kernel, pad, stride)
    except InspectError as e:
        st.error(md_line(e))
        return
    with st.container(horizontal=True, wrap=True, gap="medium"):
        g = grey.mean(axis=2) if grey.ndim == 3 else grey
        st.plotly_chart(_grid_figure(g, f"input {g.shape[0]}×{g.shape[1]}", px=260), key="classify_sandbox_in",
                        config={"displayModeBar": False}, width="content")
        st.markdown("kernel K" + _matrix(kernel), unsafe_allow_html=True)
        st.plotly_chart(_grid_figure(out["output"], f"output {out['out_h']}×{out['out_w']}", px=260),
                        key="classify_sandbox_out", config={"displayModeBar": False}, width="content")
    st.markdown(f"<div class='formula'>output size = floor((H + 2p − k) / s) + 1: {out['explanation']}</div>",
                unsafe_allow_html=True)


def arithmetic_section(clf, x, key: str):
    """The three step-by-step views for the model input x; every number comes from one traced forward pass."""
    if not any(True for _ in conv_layers(_trace(clf, x, key))):
        st.info("This model has no convolution layer to step through.")
        return
    with st.container(border=True):
        st.markdown("#### Convolution, step by step, with the network's own numbers")
        trace = cell_section(clf, x, key)
    if trace is not None:
        with st.container(border=True):
            softmax_section(clf, trace)
    with st.container(border=True):
        sandbox_section(clf, x)
