"""A class at once: N browser sessions (own cookies each: N students) open the app, press Start together on a
short run, switch pages while the runs train, and wait for their run to end — on the threads backend and
on Ray (IMGAI_JOBS=ray). Localhost only, bounded by --timeout.

    PYTHONPATH=. nice -n 5 python bench/bench_classroom.py [--sessions 10] [--backends threads ray] [--dry-run]

Measured per session: first page usable (Train page with its Start button and data preview), Start →
the live view, a page switch (Train → Classify), whether the run was accepted, refused or had to wait in
line, and whether it finished. tests/e2e/test_classroom_browser.py runs the same scenario and asserts the
behaviour (queueing, isolation); timings are only recorded here.
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
sys.path.insert(0, str(ROOT))

from record import add_dry_run, record  # noqa: E402

READY = "Training images per class"          # the data preview: the Train page is drawn and usable
QUEUED = "waiting for a free worker"
REFUSED = "Cannot start now"


def _poll(pages, test, timeout: float, t0: dict) -> dict:
    """Seconds from t0[i] until test(page) first holds, for every page (None: not within timeout)."""
    done, end = {}, time.monotonic() + timeout
    while len(done) < len(pages) and time.monotonic() < end:
        for i, page in enumerate(pages):
            if i not in done:
                try:
                    if test(page):
                        done[i] = time.monotonic() - t0[i]
                except Exception:  # a page in the middle of a rerun: try again next round
                    pass
        time.sleep(0.1)
    return {i: done.get(i) for i in range(len(pages))}


def _visible(text, exact=False):
    return lambda page: page.get_by_text(text, exact=exact).first.is_visible()


def _job_id(page) -> str | None:
    from urllib.parse import parse_qs, urlparse
    return (parse_qs(urlparse(page.url).query).get("job") or [None])[0]


def classroom(url: str, sessions: int, epochs: float, timeout: float, browser) -> dict:
    """Drive `sessions` students through a short run; returns measurements and what each one saw."""
    contexts = [browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(sessions)]
    for c in contexts:
        c.set_default_timeout(timeout * 1000)   # a crowded machine: every wait is bounded by --timeout
    pages = [c.new_page() for c in contexts]
    t0 = {}
    for i, page in enumerate(pages):
        t0[i] = time.monotonic()
        page.goto(url, wait_until="commit")
    ready = _poll(pages, _visible(READY), timeout, t0)
    for page in pages:
        box = page.get_by_role("spinbutton", name="Epochs")
        box.fill(f"{epochs:g}")
        box.press("Enter")
    time.sleep(2.0)
    for i, page in enumerate(pages):       # everybody presses Start at (nearly) the same moment
        t0[i] = time.monotonic()
        page.get_by_role("button", name="Start training").click(no_wait_after=True)
    answered = _poll(pages, lambda p: _visible("Watch it learn")(p) or _visible(REFUSED)(p), timeout, t0)
    refused = [i for i, p in enumerate(pages) if _visible(REFUSED)(p)]
    queued_seen = set()
    for i, p in enumerate(pages):
        if _visible(QUEUED)(p):
            queued_seen.add(i)
    # a page switch while the class trains (and waits): Train → Classify
    switch = {}
    for i, page in enumerate(pages):
        if _visible(QUEUED)(page):
            queued_seen.add(i)
        start = time.monotonic()
        page.get_by_role("link", name="Classify").first.click(no_wait_after=True)
        try:
            page.get_by_role("heading", name="Classify", exact=False).first.wait_for(timeout=timeout * 1000)
            switch[i] = time.monotonic() - start
        except Exception:
            switch[i] = None
        page.get_by_role("link", name="Train").first.click(no_wait_after=True)
    # every accepted run ends by itself (queued ones start when a worker is free)
    accepted = [i for i in range(sessions) if i not in refused]
    end = time.monotonic() + timeout
    finished = set()
    while time.monotonic() < end and len(finished) < len(accepted):
        for i in accepted:
            if i in finished:
                continue
            page = pages[i]
            try:
                if page.get_by_text(QUEUED).first.is_visible():
                    queued_seen.add(i)
                if page.get_by_text("finished", exact=False).first.is_visible():
                    finished.add(i)
            except Exception:
                pass
        time.sleep(0.25)
    # each page keeps its own job in its URL (?job=ID); read them once the pages have settled
    _poll(pages, lambda p: _job_id(p) is not None, 30, {i: time.monotonic() for i in range(sessions)})
    ids = {i: _job_id(p) for i, p in enumerate(pages)}
    for c in contexts:
        c.close()
    return {"sessions": sessions, "ready_s": ready, "start_s": answered, "switch_s": switch, "refused": refused,
            "queued": sorted(queued_seen), "finished": sorted(finished), "job_ids": ids}


def summarise(r: dict) -> dict:
    def stats(d):
        v = [x for x in d.values() if x is not None]
        return {"median": round(statistics.median(v), 2) if v else None, "max": round(max(v), 2) if v else None,
                "missing": sum(x is None for x in d.values())}
    return {"sessions": r["sessions"], "page_ready_s": stats(r["ready_s"]), "start_answer_s": stats(r["start_s"]),
            "page_switch_s": stats(r["switch_s"]), "refused": len(r["refused"]), "waited_in_line": len(r["queued"]),
            "finished": len(r["finished"])}


def run_backend(backend: str, sessions: int, epochs: float, timeout: float, tmp: Path) -> dict:
    from playwright.sync_api import sync_playwright

    from app_server import ARGS, CHROMIUM, start_app, stop
    env = {"IMGAI_MODELS": str(tmp / "models"), "IMGAI_DATA": str(tmp / "data")}
    if backend == "ray":
        env.update(IMGAI_JOBS="ray", IMGAI_RAY_CPUS=str(os.cpu_count()))
    log = open(tmp / f"server-{backend}.log", "w")
    proc, url = start_app(env, log)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                warm = browser.new_page()       # the first page starts the registry (and Ray): not measured
                warm.goto(url)
                warm.get_by_text(READY).first.wait_for(timeout=timeout * 1000)
                warm.close()
                return classroom(url, sessions, epochs, timeout, browser)
            finally:
                browser.close()
    finally:
        stop(proc)
        log.close()


def main():
    import tempfile
    p = add_dry_run(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    p.add_argument("--sessions", type=int, default=10)
    p.add_argument("--epochs", type=float, default=0.05, help="length of each student's run")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds any one wait may take")
    p.add_argument("--backends", nargs="+", default=["threads", "ray"])
    a = p.parse_args()
    if not Path("/usr/bin/chromium").exists():
        if a.dry_run:   # CI without a browser: nothing to prove here
            print("bench_classroom: no Chromium at /usr/bin/chromium; dry run skipped")
            return
        raise SystemExit("needs Chromium at /usr/bin/chromium")
    sessions, backends = a.sessions, a.backends
    if a.dry_run:
        sessions, backends = 2, ["threads"]
    figures = {"sessions": sessions, "epochs": a.epochs, "cores": os.cpu_count(), "backends": {}}
    rows = []
    with tempfile.TemporaryDirectory(prefix="imgai-classroom-") as tmp:
        for backend in backends:
            r = run_backend(backend, sessions, a.epochs, a.timeout, Path(tmp))
            s = summarise(r)
            figures["backends"][backend] = {"summary": s, "raw": {k: v for k, v in r.items() if k != "job_ids"}}
            print(backend, s, flush=True)
            rows += [
                (f"class of {sessions} ({backend}): page usable, median / worst",
                 f"{s['page_ready_s']['median']:.1f} s / {s['page_ready_s']['max']:.1f} s"),
                (f"class of {sessions} ({backend}): page switch while training, median / worst",
                 f"{s['page_switch_s']['median']:.1f} s / {s['page_switch_s']['max']:.1f} s"),
                (f"class of {sessions} ({backend}): runs refused / waited in line / finished",
                 f"{s['refused']} / {s['waited_in_line']} / {s['finished']}"),
            ]
    record("classroom", figures, readme=rows, dry_run=a.dry_run,
           note="one shared 2-core machine runs the server, all runs and the 10 browsers; other sessions were "
                "using the CPUs too")


if __name__ == "__main__":
    main()
