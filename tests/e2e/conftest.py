"""Fixtures for the browser tests: the real app started as a user starts it, and one headless Chromium.

    def test_x(serve, browser):
        url = serve({"IMGAI_MODELS": "/tmp/m"}); page = browser.new_page(); page.goto(url); settle(page)

Every test in this folder is marked `browser` and skipped where /usr/bin/chromium is missing. Plain helpers
(start_app, stop, settle, shot) live in app_server.py, which tests import.
"""
from pathlib import Path

import pytest
from app_server import ARGS, CHROMIUM, start_app, stop


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    missing = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Chromium at /usr/bin/chromium")
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(missing)


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test file (pages are cheap, browsers are not)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("needs Chromium at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def serve(tmp_path):
    """serve(env) → the URL of a fresh `streamlit run app.py` with these extra environment variables; the
    server's log is tmp_path/server-N.log, and every server is stopped after the test."""
    procs = []

    def start(env: dict | None = None) -> str:
        log = open(tmp_path / f"server-{len(procs)}.log", "w")
        proc, url = start_app(env or {}, log)
        procs.append((proc, log))
        return url
    yield start
    for proc, log in procs:
        stop(proc)
        log.close()


@pytest.fixture
def user_folders(tmp_path) -> dict:
    """Environment for a server with empty, private models and data folders."""
    return {"IMGAI_MODELS": str(tmp_path / "models"), "IMGAI_DATA": str(tmp_path / "data")}
