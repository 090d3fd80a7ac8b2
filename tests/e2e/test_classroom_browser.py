"""A class of ten in real browsers, on the app's own local Ray (IMGAI_JOBS=ray, 2 workers): ten students
(separate browser contexts, so separate owners) press Start on a short run at once. Nobody is refused: the
runs beyond the workers wait in line and start by themselves, all ten finish, and nobody gets another's
job through a link. Page timings are measured by bench/bench_classroom.py (same scenario), not asserted.

    IMGAI_CLASSROOM=1 python -m pytest -q -m browser tests/e2e/test_classroom_browser.py

It takes minutes on a busy 2-core machine, so it runs only when IMGAI_CLASSROOM=1 is set.
"""
import os
import sys
from pathlib import Path

import pytest
from app_server import ARGS, CHROMIUM, needs_chromium, start_app, stop

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from bench_classroom import READY, classroom  # noqa: E402

pytestmark = [*needs_chromium, pytest.mark.skipif(not os.environ.get("IMGAI_CLASSROOM"),
                                                  reason="slow (minutes): set IMGAI_CLASSROOM=1 to run it")]
SESSIONS = 10


def test_a_class_of_ten_queues_beyond_the_workers_and_nobody_gets_another_s_job(tmp_path):
    from playwright.sync_api import sync_playwright
    log = open(tmp_path / "server.log", "w")
    proc, url = start_app({"IMGAI_MODELS": str(tmp_path / "models"), "IMGAI_DATA": str(tmp_path / "data"),
                           "IMGAI_JOBS": "ray", "IMGAI_RAY_CPUS": "2"}, log)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                warm = browser.new_page()
                warm.goto(url)
                warm.get_by_text(READY).first.wait_for(timeout=240_000)   # the first page starts Ray
                warm.close()
                r = classroom(url, SESSIONS, epochs=0.05, timeout=240, browser=browser)
                assert r["refused"] == []                                 # nobody is turned away
                assert len(r["queued"]) >= 1                              # beyond 2 workers, runs waited...
                assert r["finished"] == list(range(SESSIONS))             # ...and then ran to the end
                ids = list(r["job_ids"].values())
                assert None not in ids and len(set(ids)) == SESSIONS      # one job each, in each own URL

                # a student who opens another's link does not get that job (nor its controls)
                page = browser.new_context().new_page()
                page.goto(f"{url}/?job={ids[0]}")
                page.get_by_text(READY).first.wait_for(timeout=120_000)
                page.get_by_text("No training run yet").wait_for(timeout=30_000)
                assert f"job={ids[0]}" not in page.url
                assert page.get_by_role("button", name="Pause").count() == 0

                # a link to a run the server does not know says plainly that it was lost
                page.goto(f"{url}/?job=0123456789ab")
                page.get_by_text("was lost").first.wait_for(timeout=60_000)
            finally:
                browser.close()
    finally:
        stop(proc)
        log.close()
    assert "Traceback" not in (tmp_path / "server.log").read_text()
