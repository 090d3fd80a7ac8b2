"""The first visitor's wait: a fresh `streamlit run app.py`, Chromium opened the moment /_stcore/health answers,
seconds until the Train page's Start button is usable; then a second visitor. Old (app.py before the warm start,
start-up at the first session) against new (start-up in st.App's lifespan, at server start), in the same run.

    python bench/bench_first_visit.py --rounds 3      # -> bench/results/first_visit.json
    python bench/bench_first_visit.py --rounds 3 --jobs ray --old 4e1b2c0   # -> first_visit-ray.json

With --jobs ray both servers run their jobs on Ray (IMGAI_JOBS=ray), whose own start (processes, the job
directory, a warm worker) the first visitor also used to wait for; --old names the commit to compare with.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "tests" / "e2e")]
from code_at_commit import env_as_installed_at  # noqa: E402
from app_server import ARGS, CHROMIUM, free_port  # noqa: E402
from bench_classroom import MARKS_JS, _seen  # noqa: E402
from record import add_dry_run, load_note, record  # noqa: E402

OLD_REF = "bdcb3ef"   # the commit before the warm start


JOBS_ENV = {}   # set by main(): IMGAI_JOBS for both sides


def _serve(script: str, cwd=ROOT):
    port = free_port()
    t0 = time.time()
    # an older checkout runs as it was installed: without a speed-up package its requirements.txt did not list
    shims = {} if Path(cwd) == ROOT else env_as_installed_at(Path(cwd), Path(cwd).parent)
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port),
                             "--server.headless", "true"], cwd=cwd,
                            env={**os.environ, "IMGAI_THREADS": "1", **JOBS_ENV, **shims},
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://localhost:{port}"
    while time.time() - t0 < 180:
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=1).read() == b"ok":
                return proc, url, time.time() - t0
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{script} did not answer its health check within 3 minutes")


def _visit(browser, url, timeout, shot=None):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.add_init_script(MARKS_JS)
    page = ctx.new_page()
    t0 = time.time()
    page.goto(url, wait_until="commit")
    s = _seen(page, "start", t0, timeout)
    if shot:
        page.screenshot(path=shot)
    ctx.close()
    return None if s is None else round(s, 2)


def one_round(script, browser, timeout, shot=None, cwd=ROOT) -> dict:
    proc, url, health_s = _serve(script, cwd)
    try:
        first = _visit(browser, url, timeout, shot)
        second = _visit(browser, url, timeout)
    finally:
        proc.terminate()
        proc.wait(20)
    return {"health_s": round(health_s, 2), "first_start_usable_s": first, "second_start_usable_s": second}


def main():
    ap = add_dry_run(argparse.ArgumentParser(description=__doc__))
    ap.add_argument("--rounds", type=int, default=2, help="server starts per side (old, new)")
    ap.add_argument("--jobs", choices=("threads", "ray"), default="threads", help="the job backend of both servers")
    ap.add_argument("--old", default=OLD_REF, help="the commit to compare with (default: the one before the warm start)")
    a = ap.parse_args()
    rounds = 1 if a.dry_run else a.rounds
    if a.jobs == "ray":
        JOBS_ENV.update(IMGAI_JOBS="ray", IMGAI_RAY_CPUS=str(os.cpu_count()))
    # the old side is the whole checkout at OLD_REF (its app.py imports the modules of its own tree)
    old = Path(tempfile.mkdtemp(prefix="imgai-first-visit-")) / "old"
    if not a.dry_run:
        subprocess.run(["git", "worktree", "add", "--detach", str(old), a.old], cwd=ROOT, capture_output=True,
                       check=True)
    from playwright.sync_api import sync_playwright
    out = {"old": [], "new": []}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for r in range(rounds):
                if not a.dry_run:   # a dry run proves the new side still runs: one round, no picture kept
                    out["old"].append(one_round("app.py", browser, 120, cwd=old))
                out["new"].append(one_round("app.py", browser, 120, shot=None if a.dry_run or a.jobs != "threads" else
                                            str(ROOT / "bench" / "results" / "first_visit.png") if r == 0 else None))
            browser.close()
    finally:
        if not a.dry_run:
            subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=ROOT, capture_output=True)
    readme = []
    done = {side: [r for r in rows if r["first_start_usable_s"] is not None and r["second_start_usable_s"] is not None]
            for side, rows in out.items()}
    if done["new"]:
        new, med = done["new"], statistics.median
        firsts, seconds = [r["first_start_usable_s"] for r in new], [r["second_start_usable_s"] for r in new]
        # the warm start moves the start-up before the health check: from launch, the whole wait is also shown
        launch = {side: med(r["health_s"] + r["first_start_usable_s"] for r in rows) for side, rows in done.items() if rows}
        on = " with jobs on Ray (`IMGAI_JOBS=ray`)" if a.jobs == "ray" else ""
        readme.append((f"First visitor on a fresh `streamlit run app.py`{on}: seconds from the health check answering to "
                       f"the Train page's Start button usable in Chromium, first visitor / next visitor, median of "
                       f"{len(new)} server starts (worst); from launching the server to the first Start usable",
                       f"{med(firsts):.1f} s ({max(firsts):.1f} s) / {med(seconds):.1f} s ({max(seconds):.1f} s); "
                       f"{launch['new']:.1f} s" + (f" (at {a.old}: {launch['old']:.1f} s)" if "old" in launch else "")))
        if "old" in done and done["old"]:
            olds = [r["first_start_usable_s"] for r in done["old"]]
            readme.append((f"First visitor{on} at {a.old}, the same measure, median (worst)",
                           f"{med(olds):.1f} s ({max(olds):.1f} s)"))
    record("first_visit" if a.jobs == "threads" else "first_visit-ray", {"rounds": out, "old_commit": a.old, "jobs": a.jobs,
                           "measured_from": "the health check answering (health_s: from process launch to it)"},
           readme=readme, dry_run=a.dry_run, note=load_note())


if __name__ == "__main__":
    main()
