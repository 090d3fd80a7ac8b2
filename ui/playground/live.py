"""The GAN playground's live part: a session's own Playground trained in short bursts inside a fragment.

    live_panel()   # reruns itself every REDRAW_S while running

Each burst trains at most BURST_S, then draws the plane once: the session's thread is busy a fraction of
the time, so other students' pages keep their share of the cores.
"""
import time

import streamlit as st

from imgai.playground import MODES, PRESETS, Playground, make_data, score
from imgai.playground.picture import draw_plane
from imgai.playground.view import game_view, plane_extent

KEY = "playground_run"
REDRAW_S = 0.2      # 5 redraws a second
BURST_S = 0.08      # training per redraw: 40% of one core at most


def new_run(data: str, preset: str, seed: int):
    real = make_data(data, 20000, seed=1000 + seed)
    st.session_state[KEY] = {"pg": Playground(real, PRESETS[preset], seed=seed), "data": data, "running": False,
                             "extent": plane_extent(real), "real": real[:500], "history": []}


def run_state() -> dict:
    return st.session_state[KEY]


def _draw(r: dict):
    pg, data = r["pg"], r["data"]
    s = score(pg.samples(2500), data) if data in MODES else None
    img = draw_plane(game_view(pg, r["extent"], r["real"]), s, MODES[data][0] if data in MODES else None)
    left, right = st.columns([1.2, 1])
    left.image(img, caption="green: real points · purple: generated points · background: D(x), green = "
                            "'real', purple = 'fake' · grey grid: G's manifold · lines: G's push", width=480)
    with right:
        st.markdown(f"**D steps: {pg.d_step:,} · G steps: {pg.g_step:,}** · {pg.train_seconds:.1f} s trained")
        m = pg.last
        if "v" in m:
            st.markdown(f"V(D,G) = E[log D(x)] + E[log(1 − D(G(z)))] = **{m['v_real']:.3f}** + "
                        f"**{m['v_fake']:.3f}** = **{m['v']:.3f}**")
            st.markdown(f"D(x) = {m['d_x']:.3f} · D(G(z)) = {m['d_g_z']:.3f} · loss D = {m['loss_d']:.3f}"
                        + (f" · loss G = {m['loss_g']:.3f}" if "loss_g" in m else ""))
        if s is not None:
            st.markdown(f"**Modes covered: {s['modes_covered']} of {s['modes']}** · high-quality samples: "
                        f"**{s['high_quality']:.0%}** (of 2,500)")
        if r["history"]:
            st.line_chart([{k: h[k] for k in ("d_x", "d_g_z", "loss_d", "loss_g") if k in h}
                           for h in r["history"][-300:]], height=220)


@st.fragment(run_every=REDRAW_S)
def live_panel():
    r = run_state()
    if r["running"]:
        end = time.perf_counter() + BURST_S
        while time.perf_counter() < end:
            r["history"].append(r["pg"].round())
        del r["history"][:-1000]
    _draw(r)
