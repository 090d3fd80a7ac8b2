"""The real app for browser tests: `streamlit run app.py` on a free port, Chromium's launch settings, and the
helpers every browser test uses (the fixtures are in conftest.py).

    proc, url = start_app({"IMGAI_MODELS": str(tmp)}); ...; settle(page); shot(page, "latent", "1-start"); stop(proc)
"""
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"  # Debian's; playwright's own browser download does not work offline
ROOT = Path(__file__).resolve().parents[2]
# no background networking: on a machine without internet Chromium would otherwise retry connections
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
needs_chromium = [pytest.mark.browser,
                  pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Chromium at /usr/bin/chromium")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(env: dict, log=subprocess.DEVNULL, cwd=None):
    """Start the app with these extra environment variables (from the checkout at cwd, default this one);
    returns (process, url) once it is healthy."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                             "--server.headless", "true"], cwd=cwd or ROOT,
                            env={**os.environ, "IMGAI_THREADS": "1", **env},
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://localhost:{port}"
    for _ in range(120):
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=1).read() == b"ok":
                return proc, url
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.5)
    stop(proc)
    pytest.fail("streamlit did not start within a minute")


def settle(page, timeout_s: float = 90):
    """Wait until the app has drawn a page and no script run is in progress (no running indicator, no
    spinner) for a moment."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_s * 1000)
    page.wait_for_selector("h1", timeout=timeout_s * 1000)  # every page starts with its title
    quiet, end = 0, time.time() + timeout_s
    while quiet < 6 and time.time() < end:
        busy = sum(page.locator(f'[data-testid="{t}"]').count() for t in ("stStatusWidget", "stSpinner"))
        quiet = 0 if busy else quiet + 1
        page.wait_for_timeout(250)  # lets Playwright process the browser's events (time.sleep would not)


def shot(page, folder: str, name: str, full_page: bool = True) -> Path:
    """A screenshot to $IMGAI_SHOTS/folder/name.png (default /tmp/shots/folder), to look at as a user would."""
    out = Path(os.environ.get("IMGAI_SHOTS", "/tmp/shots")) / folder
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def stop(proc):
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
