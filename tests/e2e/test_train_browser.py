"""The Train page in a real browser: `streamlit run app.py` in a subprocess, headless Chromium via
Playwright: a short real CNN run on digits (charts, prediction grid, a reload finds the same job), a GAN run
whose sample grid keeps moving across a page switch, saving after a learning-rate change (the picker's figure is
the saved file's own accuracy), and the first visits on a fresh server. Screenshots: $IMGAI_SHOTS/train.

    python -m pytest -q -m browser tests/e2e/test_train_browser.py
"""
import re
import time
from pathlib import Path

import pytest
from app_server import settle, shot


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
    page.get_by_text("The first training images of each class").wait_for(timeout=60_000)     # the data preview
    epochs = page.get_by_role("spinbutton", name="Epochs")
    epochs.fill("0.15")
    epochs.press("Enter")
    page.wait_for_timeout(1500)
    page.get_by_role("button", name="Start training").click()
    page.get_by_role("heading", name="Watch it learn").wait_for(timeout=30_000)
    page.wait_for_function("location.search.includes('job=')", timeout=10_000)  # the job id is in the URL
    # .first on what the live view draws: it is redrawn every second, and for a moment while Streamlit swaps
    # the new elements in, the old copy is still in the page (seen in CI as a strict-mode "2 elements" error)
    page.get_by_text("Training loss (lower is better)").first.wait_for(timeout=30_000)
    page.get_by_text("finished", exact=False).first.wait_for(timeout=120_000)
    page.get_by_text("Validation images at step").first.wait_for(timeout=30_000)
    assert page.locator('[data-testid="stPlotlyChart"]').count() >= 3             # loss, accuracy, confusion
    assert page.locator('[data-testid="stImage"] img').count() >= 1
    page.reload()                                                               # a new session, same ?job=
    page.wait_for_selector('[data-testid="stApp"]')
    page.get_by_role("heading", name="Watch it learn").wait_for(timeout=60_000)
    page.get_by_text("Validation accuracy", exact=False).first.wait_for(timeout=30_000)


def _start(page, model_label: str, seconds: int):
    """Choose a model, a time budget, and press Start (the Train page's own widgets, as a user does)."""
    page.get_by_text(model_label).click()
    page.wait_for_timeout(800)
    page.get_by_text("a time budget").first.click()
    box = page.get_by_role("spinbutton", name="Seconds of training")
    box.wait_for(timeout=30_000)
    box.fill(str(seconds))
    box.press("Enter")
    page.wait_for_timeout(1500)
    page.get_by_role("button", name="Start training").click()
    page.get_by_role("heading", name="Watch it learn").wait_for(timeout=30_000)


def _grid_step(page, timeout_s: float = 30) -> int:
    caption = page.get_by_text(re.compile(r"The generator's pictures at step [\d,]+")).first
    caption.wait_for(timeout=timeout_s * 1000)
    return int(re.search(r"at step ([\d,]+)", caption.inner_text()).group(1).replace(",", ""))


def _wait_for_grid_after(page, step: int, timeout_s: float = 60) -> int:
    end = time.time() + timeout_s
    while time.time() < end:
        now = _grid_step(page)
        if now > step:
            return now
        page.wait_for_timeout(500)
    pytest.fail(f"the sample grid stayed at step {step}")


def test_a_gan_run_keeps_its_grid_moving_across_a_page_switch(page):
    _start(page, "GAN · learns to invent", 120)
    first = _wait_for_grid_after(page, 0)                     # the second grid: the real slider is drawn
    look_back = page.get_by_role("slider", name="Look back")
    end = time.time() + 10                                    # one slider, not the placeholder beside it; a
    while look_back.count() != 1 and time.time() < end:      # redraw can show two for a moment (see above)
        page.wait_for_timeout(200)
    assert look_back.count() == 1
    # the save panel was drawn right after Start, before any weights: it is redrawn once they exist, so the
    # weights can be downloaded while the run goes on
    download = page.get_by_role("button", name="Download")
    end = time.time() + 30
    while not download.is_enabled() and time.time() < end:
        page.wait_for_timeout(500)
    assert download.is_enabled()
    nav = page.locator('[data-testid="stSidebarNav"]')
    nav.locator("a", has_text="Classify").click()
    page.get_by_role("tab", name="Classify photos").wait_for(timeout=60_000)
    page.wait_for_timeout(3000)                               # training goes on meanwhile
    nav.locator("a", has_text="Train").click()
    page.get_by_role("heading", name="Watch it learn").wait_for(timeout=30_000)
    back = _wait_for_grid_after(page, first)                  # not stuck on the grid seen before leaving
    later = _wait_for_grid_after(page, back)                  # and it keeps following the newest
    assert later > back > first
    shot(page, "train", "gan-after-page-switch")
    page.get_by_role("button", name="Stop").first.click()


def test_saving_after_a_learning_rate_change_labels_the_model_with_its_own_accuracy(page, user_folders):
    """The picker's figure is the accuracy of exactly the weights in the file, not the last epoch's."""
    from imgai.models.checkpoint import load_checkpoint
    from imgai.data.datasets import load_dataset
    from imgai.training.classifier import evaluate
    _start(page, "CNN · learns to recognise", 90)
    page.get_by_text("Training loss (lower is better)").first.wait_for(timeout=30_000)   # .first: see above
    page.get_by_text("Validation images at step").first.wait_for(timeout=90_000)  # an epoch has ended and was scored
    lr = page.get_by_role("slider", name="Learning rate (change it while it trains)").first
    lr.focus()
    for _ in range(2):                                        # the live learning-rate demo the page suggests
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(300)
    page.wait_for_timeout(3000)                               # some steps at the new rate, mid-epoch
    name = page.get_by_role("textbox", name="Name")
    name.fill("after-lr")
    name.press("Enter")
    page.wait_for_timeout(800)
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("Saved as").wait_for(timeout=60_000)
    shot(page, "train", "saved-after-lr-change")
    page.get_by_role("button", name="Stop").first.click()
    page.locator('[data-testid="stSidebarNav"]').locator("a", has_text="Classify").click()
    page.get_by_role("tab", name="Classify photos").wait_for(timeout=60_000)
    settle(page)
    page.locator('[data-testid="stSelectbox"]').first.click()
    option = page.get_by_role("option", name=re.compile(r"^after-lr")).first
    option.wait_for(timeout=10_000)
    label = option.inner_text()
    shown = re.search(r"([\d.]+)% right", label)
    assert shown, label
    saved = next(Path(user_folders["IMGAI_MODELS"]).rglob("after-lr.safetensors"))
    model, meta = load_checkpoint(saved.with_suffix(""))
    data = load_dataset("digits")
    acc = evaluate(model, data.val_x, data.val_y, data.mean, data.std)[0]
    assert shown.group(1) == f"{acc * 100:.1f}", (label, acc)


def test_the_first_visits_on_a_fresh_server_show_the_frame_and_no_import_error(serve, user_folders, browser):
    """Two first visits at once (Train and Classify) on a server that has imported nothing yet."""
    url = serve(user_folders)
    one, two = browser.new_page(viewport={"width": 1400, "height": 900}), browser.new_page()
    one.goto(url)
    two.goto(url + "/classify")
    one.locator('[data-testid="stSidebarNav"]').get_by_text("Latent space").wait_for(timeout=60_000)
    shot(one, "train", "first-visit-frame", full_page=False)  # the frame, drawn before the heavy imports
    settle(one)
    settle(two)
    shot(one, "train", "first-visit-ready", full_page=False)
    for page, title in ((one, "Train a network"), (two, "Classify")):
        page.get_by_role("heading", name=title, exact=True).wait_for(timeout=30_000)
        assert page.locator('[data-testid="stException"]').count() == 0
    one.close()
    two.close()
