"""The Train page in a real browser: `streamlit run app.py` in a subprocess, headless Chromium via
Playwright, a short real CNN run on digits. Charts and the prediction grid must appear and the run must
finish; a reload must find the same job again.

    python -m pytest -q -m browser tests/e2e/test_train_browser.py
"""

import pytest


@pytest.fixture
def page(serve, user_folders, browser):
    url = serve(user_folders)
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    page.goto(url)
    page.wait_for_selector('[data-testid="stApp"]')
    yield page
    page.close()


def test_a_short_cnn_run_streams_charts_and_grids_and_survives_a_reload(page):
    page.get_by_text("Train a network").wait_for(timeout=60_000)
    page.get_by_text("Training images per class").wait_for(timeout=60_000)     # the data preview
    epochs = page.get_by_role("spinbutton", name="Epochs")
    epochs.fill("0.15")
    epochs.press("Enter")
    page.wait_for_timeout(1500)
    page.get_by_role("button", name="Start training").click()
    page.get_by_role("heading", name="Watch it learn").wait_for(timeout=30_000)
    page.wait_for_function("location.search.includes('job=')", timeout=10_000)  # the job id is in the URL
    page.get_by_text("Training loss (lower is better)").wait_for(timeout=30_000)
    page.get_by_text("finished", exact=False).first.wait_for(timeout=120_000)
    page.get_by_text("Validation images at step").wait_for(timeout=30_000)
    assert page.locator('[data-testid="stPlotlyChart"]').count() >= 3             # loss, accuracy, confusion
    assert page.locator('[data-testid="stImage"] img').count() >= 1
    page.reload()                                                               # a new session, same ?job=
    page.wait_for_selector('[data-testid="stApp"]')
    page.get_by_role("heading", name="Watch it learn").wait_for(timeout=60_000)
    page.get_by_text("Validation accuracy", exact=False).first.wait_for(timeout=30_000)
