"""The app offline, in a real browser: no page asks any host but the app's own server for anything (the tab
icon included: a ":material/…:" page icon is fetched from fonts.gstatic.com), and no image the page refers to
is missing (a 404 for /media/*.png in the console). Screenshots: $IMGAI_SHOTS/offline.

    python -m pytest -q -m browser tests/e2e/test_offline_browser.py
"""
import pytest
from app_server import settle, shot

PAGES = ["", "classify", "latent", "experiments"]


@pytest.fixture
def watched(serve, user_folders, browser):
    """(page, url, outside, failed): every request to another host, and every failed response of the app's."""
    url = serve(user_folders)
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    outside, failed = [], []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((url, "data:", "blob:")) else None)
    # Streamlit's frontend itself first probes /<page>/_stcore/health and host-config, which 404 by design
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}")
            if r.status >= 400 and "/_stcore/" not in r.url else None)
    yield page, url, outside, failed
    page.close()


def test_no_page_fetches_anything_from_the_internet_and_the_tab_has_its_icon(watched):
    page, url, outside, failed = watched
    for name in PAGES:
        page.goto(f"{url}/{name}")
        settle(page)
        page.wait_for_timeout(1500)
        shot(page, "offline", name or "train")
    icons = page.evaluate("Array.from(document.querySelectorAll('link[rel*=icon]')).map(l => l.href)")
    assert icons and all(i.startswith(url) for i in icons), icons
    assert outside == [], outside
    assert failed == [], failed
