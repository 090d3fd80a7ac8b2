"""ui/server_start.py: `streamlit run app.py` does the one-time start-up (torch, every page's modules) when the
server starts, before it answers anyone, not in the first visitor's session."""
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from app_server import free_port  # noqa: E402

from ui.server_start import READY_LINE  # noqa: E402


def _start(tmp_path, **env):
    log, port = tmp_path / "server.log", free_port()
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                                 "--server.headless", "true"], cwd=ROOT,
                                env={**os.environ, "IMGAI_THREADS": "1", "IMGAI_DATA": str(tmp_path / "data"), **env},
                                stdout=out, stderr=subprocess.STDOUT)
    return proc, log, port


def _healthy(proc, port) -> bool:
    end = time.time() + 240
    while time.time() < end and proc.poll() is None:
        try:
            if urllib.request.urlopen(f"http://localhost:{port}/_stcore/health", timeout=1).read() == b"ok":
                return True
        except OSError:
            time.sleep(0.2)
    return False


@pytest.mark.browser
def test_start_up_is_done_before_the_server_answers(tmp_path):
    proc, log, port = _start(tmp_path)
    try:
        healthy = _healthy(proc, port)
        text = log.read_text()
        assert healthy, text[-2000:]
        # no session has connected yet, and the server process has already imported torch and the pages' code
        assert READY_LINE in text and "torch, pandas, imgai.training.runs" in text, text[-2000:]
        # the event loop every session's deltas cross is uvloop's (C), not asyncio's pure-Python one
        assert sys.platform == "win32" or "event loop uvloop" in text, text[-2000:]
    finally:
        proc.terminate()
        proc.wait(20)


@pytest.mark.browser
def test_with_jobs_on_ray_ray_is_started_before_the_server_answers(tmp_path):
    """A class on Ray: the first visitor's page used to wait for Ray's own start (seconds) before Start."""
    pytest.importorskip("ray")
    proc, log, port = _start(tmp_path, IMGAI_JOBS="ray", IMGAI_RAY_WARM="0")
    try:
        healthy = _healthy(proc, port)
        text = log.read_text()
        assert healthy and "jobs on ray" in text, text[-2000:]
        assert -1 < text.find("Started a local Ray instance") < text.find(READY_LINE), text[-2000:]
    finally:
        proc.terminate()
        proc.wait(30)
