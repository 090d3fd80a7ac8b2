"""The GAN playground's live part: a session's own Playground trained in short bursts inside a fragment.

    live_panel()   # reruns itself every REDRAW_S while running (longer while many play)

Each burst trains at most BURST_S, then draws the plane once. All sessions' playgrounds share one core: the
training and the drawing run under one server-wide semaphore, so ten students playing at once slow each
other's playgrounds (fewer redraws each) but leave the other cores to everybody's pages
(bench/bench_playground_class.py measures a classmate's page switch while ten play). A redraw that cannot
get its turn soon shows the last picture again.
"""
import threading
import time

import streamlit as st

from imgai.playground import MODES, PRESETS, Playground, score
from imgai.playground.picture import draw_plane
from imgai.playground.view import game_view, plane_extent
from ui.inline_image import inline_png

KEY = "playground_run"
REDRAW_S = 0.2      # 5 redraws a second
BURST_S = 0.08      # training per redraw: 40% of one core at most
TURN_WAIT_S = 0.1   # how long a redraw waits for the playgrounds' core before showing the last picture again
_CORE = threading.Semaphore(1)   # every session's playground computes here, one at a time: one core in all


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


def _view_key(r: dict) -> tuple:
    """What the picture shows: it is recomputed only when one of these changed (or the game runs)."""
    pg = r["pg"]
    return pg.d_step, pg.g_step, pg.cfg, id(pg.G), id(pg.D)


def _train_and_picture(r: dict, interval: float = REDRAW_S):
    """The expensive part of a redraw (a training burst, the score, the plane's picture): under _CORE."""
    pg, data = r["pg"], r["data"]
    if r["running"]:
        rounds = r.get("rounds_per_redraw")
        if rounds:                                   # slow motion: a fixed number of rounds per redraw
            for _ in range(rounds):
                r["history"].append(pg.round())
        else:
            end = time.perf_counter() + burst_s(interval)
            while time.perf_counter() < end:
                r["history"].append(pg.round())
        del r["history"][:-1000]
    s = score(pg.samples(2500), data) if data in MODES else None
    img = draw_plane(game_view(pg, r["extent"], r["real"]), s, MODES[data][0] if data in MODES else None)
    chart = [{k: h[k] for k in ("d_x", "d_g_z", "loss_d", "loss_g") if k in h} for h in r["history"][-300:]]
    # encoded once, quickly: a redraw that waits resends the same URL
    r["shown"] = {"key": _view_key(r), "img": inline_png(img, compress_level=1), "score": s, "chart": chart[::3] or chart}


def _draw(r: dict, stale: bool):
    pg, shown = r["pg"], r["shown"]
    s = shown["score"]
    left, right = st.columns([1.2, 1])
    left.image(shown["img"], caption="green: real points · purple: generated points · background: D(x), green = "
                                     "'real', purple = 'fake' · grey grid: G's manifold · lines: G's push", width=480)
    with right:
        st.markdown(f"**D steps: {pg.d_step:,} · G steps: {pg.g_step:,}** · {pg.train_seconds:.1f} s trained")
        if stale:
            st.caption(":material/hourglass: Many playgrounds are running on this server: yours waits its turn.")
        m = pg.last
        if "v" in m:
            st.markdown(f"V(D,G) = E[log D(x)] + E[log(1 − D(G(z)))] = **{m['v_real']:.3f}** + "
                        f"**{m['v_fake']:.3f}** = **{m['v']:.3f}**")
            st.markdown(f"D(x) = {m['d_x']:.3f} · D(G(z)) = {m['d_g_z']:.3f} · loss D = {m['loss_d']:.3f}"
                        + (f" · loss G = {m['loss_g']:.3f}" if "loss_g" in m else ""))
        if s is not None:
            st.markdown(f"**Modes covered: {s['modes_covered']} of {s['modes']}** · high-quality samples: "
                        f"**{s['high_quality']:.0%}** (of 2,500)")
        if shown["chart"]:
            st.line_chart(shown["chart"], height=220)


FULL_RATE_PLAYERS = 1          # one running playground redraws every REDRAW_S; more share that rate
SHARED_TRAIN_S = 0.25          # seconds of training per second for all running playgrounds together, when
#                                several play (one alone trains BURST_S of every REDRAW_S: 0.4 s a second)
_running: dict = {}            # id of a session's game -> when it last redrew while running (all sessions)
_running_lock = threading.Lock()


def redraw_every(r: dict | None) -> float:
    """This session's redraw interval: REDRAW_S while one plays, longer when more do, so that the server's
    redraws in all stay about FULL_RATE_PLAYERS / REDRAW_S a second: each is a script run the server pays
    for (bench/bench_playground_class.py: at 5 a second each, ten playgrounds slowed a classmate's page
    switch about eightfold)."""
    now = time.monotonic()
    with _running_lock:
        for k in [k for k, (t, every) in _running.items() if now - t > 2 * every + 1.0]:   # stopped or gone
            del _running[k]
        players = len(_running | ({id(r): None} if r is not None and r["running"] else {}))
        interval = REDRAW_S * max(1.0, players / FULL_RATE_PLAYERS)
        if r is not None and r["running"]:
            _running[id(r)] = (now, interval)
    return interval


def burst_s(interval: float) -> float:
    """Training per redraw: BURST_S alone; with many players, a share of SHARED_TRAIN_S."""
    with _running_lock:
        players = max(1, len(_running))
    return BURST_S if players <= FULL_RATE_PLAYERS else min(BURST_S, SHARED_TRAIN_S * interval / players)


def live_panel():
    """The live part, rerun on its own every redraw_every() seconds. A fragment keeps the interval it was
    made with, so the page runs again in full when the number of players has moved it by half."""
    r = st.session_state.get(KEY)
    interval = redraw_every(r)
    if r is not None:
        r["interval"] = interval
    st.fragment(_live, run_every=interval)()


def _live():
    r = st.session_state.get(KEY)
    if r is None:
        return
    interval = r.get("interval", REDRAW_S)
    if r["running"]:
        wanted = redraw_every(r)          # also keeps this game counted among the running ones
        if abs(wanted - interval) > 0.5 * interval:
            st.rerun(scope="app")         # a new interval: only a full run makes the fragment anew
    stale = False
    if r["running"] or r.get("shown") is None or r["shown"]["key"] != _view_key(r):
        # a running game waits briefly for its turn; a step the student just asked for, or the first
        # picture, waits longer: they expect to see it
        wait = TURN_WAIT_S if r["running"] and r.get("shown") else 5.0
        stale = not _CORE.acquire(timeout=wait)
        if not stale:
            try:
                _train_and_picture(r, interval)
            finally:
                _CORE.release()
        if r.get("shown") is None:
            st.caption("The playground is busy on this server: your picture comes in a moment.")
            return
    _draw(r, stale)
