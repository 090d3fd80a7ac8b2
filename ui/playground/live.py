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


def ensure_run(real, data_name: str, preset: str, seed: int, fresh: bool = False):
    """The session's game for this data, preset and seed: kept while they stay, new when one changes."""
    r = st.session_state.get(KEY)
    if fresh or r is None or (r["data"], r["preset"], r["seed"]) != (data_name, preset, seed):
        st.session_state[KEY] = {"pg": Playground(real, PRESETS[preset], seed=seed), "data": data_name,
                                 "preset": preset, "seed": seed, "running": False, "extent": plane_extent(real),
                                 "real": real[:500], "history": [], "rounds_per_redraw": None}


def apply_settings(changes: dict) -> str | None:
    """Hand the controls' settings to the running game; a refused combination is one line (the game keeps
    its settings). Says once which network had to start afresh."""
    r = run_state()
    try:
        rebuilt = r["pg"].update(**changes)
    except ValueError as e:
        return str(e)
    if rebuilt:
        st.toast(f"{' and '.join(rebuilt)} started afresh with the new size.", icon=":material/restart_alt:")
    return None


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
    r = st.session_state.get(KEY)
    if r is None:
        return
    if r["running"]:
        rounds = r.get("rounds_per_redraw")
        if rounds:                                   # slow motion: a fixed number of rounds per redraw
            for _ in range(rounds):
                r["history"].append(r["pg"].round())
        else:
            end = time.perf_counter() + BURST_S
            while time.perf_counter() < end:
                r["history"].append(r["pg"].round())
        del r["history"][:-1000]
    _draw(r)
