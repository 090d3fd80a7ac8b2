"""The class board in real browsers: one browser trains a short CNN run and publishes it under a nickname on
the Experiments page; a second browser (its own cookies: another student) sees it on the board, and the
nickname's markup is shown as text, never rendered.

    python -m pytest -q -m browser tests/e2e/test_class_board_browser.py

IMGAI_SHOTS=folder keeps screenshots of both browsers.
"""
import os
from pathlib import Path

import pytest
from app_server import ARGS, CHROMIUM, needs_chromium, start_app, stop

pytestmark = needs_chromium
NICK = "Ada <i>L</i>"


@pytest.fixture
def app_url(tmp_path):
    log = open(tmp_path / "server.log", "w")
    proc, url = start_app({"IMGAI_MODELS": str(tmp_path / "models"), "IMGAI_DATA": str(tmp_path / "data"),
                           "IMGAI_RUNS_DB": str(tmp_path / "runs.sqlite")}, log)
    try:
        yield url
    finally:
        stop(proc)
        log.close()


def shot(page, name):
    folder = os.environ.get("IMGAI_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name), full_page=True)


def test_a_run_published_in_one_browser_appears_on_the_board_of_another(app_url):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        ada = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
        ada.goto(app_url)
        ada.wait_for_selector('[data-testid="stApp"]')
        ada.get_by_text("The first training images of each class").wait_for(timeout=60_000)
        epochs = ada.get_by_role("spinbutton", name="Epochs")
        epochs.fill("0.1")
        epochs.press("Enter")
        ada.wait_for_timeout(1500)
        ada.get_by_role("button", name="Start training").click()
        ada.get_by_text("finished", exact=False).first.wait_for(timeout=120_000)

        ada.get_by_role("link", name="Experiments").click()          # the sidebar's page link
        ada.get_by_role("heading", name="Experiments").wait_for(timeout=60_000)
        ada.get_by_text("Settings side by side", exact=False).or_(ada.get_by_text("Settings", exact=True)).first \
            .wait_for(timeout=30_000)
        ada.get_by_role("textbox", name="Nickname shown to the class").fill(NICK)
        ada.get_by_role("button", name="Publish").click()
        ada.get_by_text("it is on the class board now", exact=False).wait_for(timeout=30_000)
        shot(ada, "experiments-compare.png")

        grace = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()   # another student
        grace.goto(app_url + "/experiments")
        grace.wait_for_selector('[data-testid="stApp"]')
        grace.get_by_role("tab", name="Class board").click()
        grace.get_by_text("1 published run", exact=False).first.wait_for(timeout=60_000)  # .first: the board
        # redraws itself on a timer, and for a moment while it does the old copy is still in the page
        grace.get_by_text(NICK, exact=False).first.wait_for(timeout=30_000)    # markup shown as text
        assert grace.locator('[data-testid="stMarkdown"] i').count() == 0     # ... never rendered
        grace.get_by_text("Every published run", exact=False).first.wait_for(timeout=30_000)   # the board's chart
        shot(grace, "experiments-board.png")
        # Grace's own run list holds Ada's run only because it is published
        grace.get_by_role("tab", name="Compare runs").click()
        grace.get_by_text("Publish a run to the class board").click()
        grace.get_by_text("Finish (or stop) a training run", exact=False).wait_for(timeout=30_000)
        browser.close()
