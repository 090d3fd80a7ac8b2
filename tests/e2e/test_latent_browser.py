"""The Latent space page in a real browser: `streamlit run app.py`, headless Chromium, a shared link opened,
sliders moved with the keyboard, seeds picked by clicking, the GIF downloaded.
Screenshots go to $IMGAI_SHOTS (default /tmp/shots/latent)."""
import io
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from app_server import ROOT, settle, shot as _shot, start_app, stop


def models_env() -> dict:
    """The shipped digits GAN and CNN, or tiny ones trained once (tests/test_latent.py) in a user folder."""
    sys.path.insert(0, str(ROOT / "tests"))
    from imgai.models.checkpoint import WEIGHTS_DIR
    from test_latent import tiny_models
    gan, _ = tiny_models()
    return {} if Path(gan).parent == WEIGHTS_DIR else {"IMGAI_MODELS": str(Path(gan).parent)}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    proc, url = start_app({"IMGAI_MODELS": str(tmp_path_factory.mktemp("models")), **models_env()})
    try:
        yield url
    finally:
        stop(proc)


def shot(page, name):
    _shot(page, "latent", name)


def params(page) -> dict:
    return {k: v[-1] for k, v in parse_qs(urlparse(page.url).query).items()}


def wait_for_param(page, key, value, timeout=30):
    """Until the address bar's parameter `key` is `value` (None: absent, as a setting at its default is)."""
    end = time.time() + timeout
    while time.time() < end and params(page).get(key) != value:
        page.wait_for_timeout(250)  # lets Playwright process the browser's events (time.sleep would not)
    assert params(page).get(key) == value, (key, value, page.url)


def test_a_shared_link_reproduces_the_picture_and_the_page_works(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1700})
    page.goto(server)          # the app's front door first: see test_a_link_opened_on_a_fresh_server below
    settle(page)
    link = "gen=digits-dcgan&clf=digits-cnn&a=3&b=9&k=6&method=lerp&psi=0.7&d1=2&tab=directions"
    page.goto(f"{server}/latent?{link}")
    settle(page)
    shot(page, "browser-1-shared-link-directions")
    if params(page).get("gen") != "digits-dcgan":   # tiny test models: the link names one we don't have
        assert page.get_by_text("Ignored from the link").count() == 1
    else:
        assert params(page) == {k: v[-1] for k, v in parse_qs(link).items()}
    assert page.get_by_role("tab", name="Directions").get_attribute("aria-selected") == "true"
    sliders = page.get_by_role("slider")
    assert sliders.nth(0).input_value() == "2"
    assert sliders.nth(6).input_value() == "0.7"
    assert page.locator('[data-testid="stSidebarNav"]').get_by_text("Latent space").count() == 1

    # move the first slider with the keyboard: the URL follows
    before = page.locator('[data-testid="stImage"] img').first.get_attribute("src")
    sliders.nth(0).focus()
    page.keyboard.press("ArrowRight")
    wait_for_param(page, "d1", "2.25")
    settle(page)
    assert page.locator('[data-testid="stImage"] img').first.get_attribute("src") != before
    assert page.get_by_text("Redrawn in").count() == 1

    # interpolate: 6 frames from the link, a sample click sets seed A, the GIF has 6 frames
    page.get_by_role("tab", name="Interpolate").click()
    page.get_by_role("button", name="seed 5", exact=True).wait_for(timeout=60_000)
    settle(page)
    wait_for_param(page, "tab", None)  # the first tab is the default: a short link leaves it out
    page.get_by_role("button", name="seed 5", exact=True).click()
    settle(page)
    wait_for_param(page, "a", "5")
    shot(page, "browser-2-interpolate")
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download the animation (GIF)").click()
    from PIL import Image, ImageSequence
    gif = Image.open(io.BytesIO(Path(dl.value.path()).read_bytes()))
    assert sum(1 for _ in ImageSequence.Iterator(gif)) == 6
    assert dl.value.suggested_filename == "latent-5-9-6.gif"

    # the classifier in the loop: a histogram and a steering curve
    page.get_by_role("tab", name="Classifier in the loop").click()
    page.get_by_text("went from").wait_for(timeout=60_000)
    page.locator('[data-testid="stPlotlyChart"]').nth(1).wait_for(timeout=60_000)
    settle(page)
    assert page.locator('[data-testid="stPlotlyChart"]').count() == 2
    shot(page, "browser-3-classifier")
    # reload the address bar's link: the same state comes back
    url = page.url
    page.goto(url)
    settle(page)
    assert params(page)["a"] == "5" and params(page)["d1"] == "2.25"
    assert page.get_by_role("tab", name="Classifier in the loop").get_attribute("aria-selected") == "true"
    page.close()


# The pages live in app_pages/, not pages/: Streamlit treats a pages/ folder next to app.py as an old-style
# multipage app until app.py has run once, so the first link opened on a fresh server would skip app.py.
def test_a_link_opened_on_a_fresh_server_shows_the_whole_app(browser, serve, tmp_path):
    url = serve({"IMGAI_MODELS": str(tmp_path), **models_env()})
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{url}/latent?a=3&b=9")
    settle(page)
    shot(page, "browser-4-fresh-server-link")
    nav = page.locator('[data-testid="stSidebarNav"]')
    assert nav.get_by_text("Latent space").count() == 1 and nav.get_by_text("app", exact=True).count() == 0
    page.close()
