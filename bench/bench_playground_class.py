"""Do ten running GAN playgrounds slow a classmate's page? One student switches pages (Train → Classify →
Train) while ten others have the playground open, first idle, then all running, on one server, in one run.

    PYTHONPATH=. python bench/bench_playground_class.py [--players 10] [--switches 6] [--dry-run]

The playground trains inside each session's own fragment, at most BURST_S of every REDRAW_S (ui/playground/
live.py); the players are headless clients (bench/st_client.py) whose fragments rerun on their interval as a
browser's would, so the server trains exactly as for ten browsers. Timed: the observer's page switch answer
(request → the server's script finished), and how many rounds the playgrounds played meanwhile.
"""
import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
sys.path.insert(0, str(ROOT))

from record import add_dry_run, load_note, record  # noqa: E402

PLAYGROUND = "GAN playground"


async def switches(url: str, n: int) -> list:
    """Seconds of each of n page switches of one fresh student (Train → Classify, then back)."""
    from st_client import StClient
    out = []
    async with StClient(url) as c:
        await c.run()                                      # the first page: not a switch
        for i in range(n):
            out.append(await c.run(page="Classify" if i % 2 == 0 else "Train"))
    return out


async def scenario(url: str, players: int, n: int, settle_s: float) -> dict:
    from st_client import StClient
    clients = [StClient(url) for _ in range(players)]
    for c in clients:
        await c.__aenter__()
    try:
        for c in clients:
            await c.run()
            await c.run(page=PLAYGROUND)
        idle = await switches(url, n)                      # ten playgrounds open, not running
        for c in clients:
            await c.press("Start")
        await asyncio.sleep(settle_s)
        frag_before = sum(len(c.fragment_s) for c in clients)
        t0 = time.monotonic()
        busy = await switches(url, n)                      # ten playgrounds training
        played_s = time.monotonic() - t0
        redraws = sum(len(c.fragment_s) for c in clients) - frag_before
        frag = [s for c in clients for s in c.fragment_s]
        return {"idle_switch_s": idle, "busy_switch_s": busy, "player_redraws_per_s": round(redraws / played_s, 1),
                "player_redraw_answer_s_median": round(statistics.median(frag), 3) if frag else None}
    finally:
        for c in clients:
            await c.__aexit__(None, None, None)


def main():
    ap = add_dry_run(argparse.ArgumentParser())
    ap.add_argument("--players", type=int, default=10)
    ap.add_argument("--switches", type=int, default=6)
    a = ap.parse_args()
    players, n = (2, 2) if a.dry_run else (a.players, a.switches)
    from app_server import start_app, stop
    tmp = Path(tempfile.mkdtemp(prefix="imgai-pgclass-"))
    log = open(tmp / "server.log", "w")
    proc, url = start_app({"IMGAI_MODELS": str(tmp / "models"), "IMGAI_DATA": str(tmp / "data")}, log)
    try:
        asyncio.run(switches(url, 2))                      # warm: the first visit imports every page
        r = asyncio.run(scenario(url, players, n, settle_s=1.0 if a.dry_run else 5.0))
    finally:
        stop(proc)
        log.close()
    idle, busy = statistics.median(r["idle_switch_s"]), statistics.median(r["busy_switch_s"])
    r.update(players=players, idle_median_s=round(idle, 3), busy_median_s=round(busy, 3),
             slowdown=round(busy / idle, 2), cores=os.cpu_count())
    rows = [(f"A page switch while {players} GAN playgrounds are open, idle / all running (median of {n})",
             f"{idle:.2f} s / {busy:.2f} s"),
            (f"Their redraws per second meanwhile (all {players} together)", f"{r['player_redraws_per_s']:g}")]
    record("playground-class", r, readme=rows, dry_run=a.dry_run, note=load_note())


if __name__ == "__main__":
    main()
