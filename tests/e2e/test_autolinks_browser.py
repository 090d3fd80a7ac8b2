"""A nickname on the class board never becomes a link for the classmates who see it (issue 23): GitHub-flavoured
markdown turns bare "www.", "http://" and e-mail addresses into links even inside backslash-escaped text, so
ui.safe_text breaks those patterns. Checked where a student sees it: the Experiments page in real Chromium.

    python -m pytest -q -m browser tests/e2e/test_autolinks_browser.py
"""
import pytest
from app_server import ARGS, CHROMIUM, needs_chromium, start_app, stop

pytestmark = needs_chromium
NICKS = ["go www.evil.example", "kid@evil.example", "http://evil.example"]


@pytest.mark.parametrize("nick", NICKS)
def test_a_published_nickname_is_shown_as_text_never_as_a_link(tmp_path, nick):
    from playwright.sync_api import sync_playwright

    from imgai.experiments.run_store import RunStore
    db = tmp_path / "runs.sqlite"
    store = RunStore(db)
    rid = store.save({"owner": "someone-else", "kind": "cnn", "dataset": "digits", "status": "done",
                      "history": [{"step": 1, "epoch": 1.0, "val_acc": 0.9}],
                      "settings": {"preset": "fast", "train": {}, "model": {}}, "final": {"val_acc": 0.9, "seconds": 5.0}})
    store.publish(rid, "someone-else", nick)
    log = open(tmp_path / "server.log", "w")
    proc, url = start_app({"IMGAI_MODELS": str(tmp_path / "models"), "IMGAI_RUNS_DB": str(db)}, log)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.goto(url + "/experiments")
            page.get_by_role("tab", name="Class board").click(timeout=90_000)
            page.get_by_text("published run", exact=False).first.wait_for(timeout=60_000)
            shown = page.inner_text('[data-testid="stMain"]').replace("\u2060", "")
            assert nick in shown                                   # the nickname reads as typed
            hrefs = [a.get_attribute("href") or "" for a in page.query_selector_all("a")]
            assert not [h for h in hrefs if "evil" in h], hrefs     # and nothing of it is a link
            browser.close()
    finally:
        stop(proc)
        log.close()
