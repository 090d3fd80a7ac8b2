"""Two students in two browsers (two Playwright contexts = two XSRF cookies = two owners) on one real app:
B trains on a zip whose class folders carry markup, then tries to overwrite A's model, private and shared.
B cannot replace either, and when A classifies with the model B shared, A's page shows B's class names as
text: no link, no bold, no image, no request anywhere but the app itself.

    python -m pytest -q -m browser tests/e2e/test_two_students_browser.py
    IMGAI_SHOTS=/tmp/shots python -m pytest ...   # also keep the screenshots there
"""
import hashlib
import io
import json
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from app_server import ARGS, CHROMIUM, needs_chromium, start_app, stop
from PIL import Image

pytestmark = needs_chromium
FAVICON = "https://fonts.gstatic.com/s/i/short-term/release/materialsymbolsrounded/"

# class folder names a hostile student can put in a zip (no "/": a folder name cannot hold one)
CRAFTED = ['<a href="javascript:alert(1)">cat', "<b>bold", "![p](pwned1.png)", "[link](javascript:alert(2))",
           "<img src=pwned2.png>", "**star**", "dog\u202egpj.exe", "<i>it", ":red[red] $x^2$", "# head"]


def crafted_zip() -> bytes:
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for k, name in enumerate(CRAFTED):
            for i in range(12):
                img = (rng.random((28, 28)) * 60 + 20 * k).clip(0, 255).astype(np.uint8)
                png = io.BytesIO()
                Image.fromarray(img).save(png, format="PNG")
                z.writestr(f"set/{name}/{i}.png", png.getvalue())
    return buf.getvalue()


def digit_png() -> bytes:
    img = np.zeros((28, 28), np.uint8)
    img[6:22, 12:16] = 255
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return buf.getvalue()


def digest(base: Path) -> str:
    return hashlib.sha256(base.with_suffix(".safetensors").read_bytes() + base.with_suffix(".json").read_bytes()).hexdigest()


def owner_of(context) -> str:
    """The owner id the app gives this browser (ui.jobs.owner_id, from its XSRF cookie)."""
    from ui.jobs import _XSRF_COOKIE, _xsrf_secret
    cookie = next(c["value"] for c in context.cookies() if c["name"] == _XSRF_COOKIE)
    return hashlib.sha256(_xsrf_secret(cookie)).hexdigest()[:16]


def place_model(base: Path):
    """A's earlier save (made here, directly in A's folder, to keep the test short)."""
    from imgai.models.checkpoint import save_checkpoint
    from imgai.models import CNN, CNN_PRESETS
    torch.manual_seed(0)
    meta = {"kind": "cnn", "dataset": "digits", "class_names": [str(i) for i in range(10)], "image_size": 28,
            "channels": 1, "mean": [0.13], "std": [0.31], "intake": "digit"}
    save_checkpoint(base, CNN(CNN_PRESETS["fast"]()), meta)


@pytest.fixture
def app(tmp_path):
    log = open(tmp_path / "server.log", "w")
    models = tmp_path / "models"
    proc, url = start_app({"IMGAI_MODELS": str(models), "IMGAI_DATA": str(tmp_path / "data")}, log)
    try:
        yield url, models
    finally:
        stop(proc)
        log.close()


def shot(page, tmp_path, name):
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if os.environ.get("IMGAI_SHOTS"):
        Path(os.environ["IMGAI_SHOTS"]).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(os.environ["IMGAI_SHOTS"]) / path.name)


def pick(page, label: str, option_text: str):
    page.get_by_test_id("stSelectbox").filter(has_text=label).first.click()
    page.get_by_role("option").filter(has_text=option_text).first.click()


def save(page, name: str, share: bool):
    box = page.get_by_label("Name", exact=True)
    box.fill(name)
    box.press("Enter")
    checkbox = page.get_by_role("checkbox", name="Share with the class")
    if checkbox.is_checked() != share:
        page.get_by_text("Share with the class").click()
    page.wait_for_timeout(800)
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_timeout(1500)


def test_b_can_neither_overwrite_nor_inject_into_a(app, tmp_path):
    from playwright.sync_api import sync_playwright
    url, models = app
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        ctx_a, ctx_b = browser.new_context(viewport={"width": 1440, "height": 1000}), \
            browser.new_context(viewport={"width": 1440, "height": 1000})
        a, b = ctx_a.new_page(), ctx_b.new_page()
        requests = []
        a.on("request", lambda r: requests.append(r.url))
        # A's tab comes back after a server restart: its ?job= names a run this server never had
        a.goto(url + "/?job=000000000000")
        a.wait_for_selector('[data-testid="stApp"]')
        a.get_by_text("Train a network").wait_for(timeout=60_000)
        a.get_by_text("it is no longer on the server", exact=False).first.wait_for(timeout=30_000)
        a.wait_for_function("!location.search.includes('job=')", timeout=10_000)
        shot(a, tmp_path, "a-run-gone-after-restart")
        b.goto(url)
        b.wait_for_selector('[data-testid="stApp"]')
        b.get_by_text("Train a network").wait_for(timeout=60_000)
        owner_a, owner_b = owner_of(ctx_a), owner_of(ctx_b)
        assert owner_a != owner_b
        place_model(models / owner_a / "class-model")              # A's own model
        place_model(models / "shared" / "pub")                      # and one A shared with the class earlier
        (models / "shared" / "pub.claim").touch()
        before_private, before_shared = digest(models / owner_a / "class-model"), digest(models / "shared" / "pub")

        # --- B trains on class folders named with markup, then saves under A's names
        pick(b, "Data set", "my own .zip")
        b.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(
            files=[{"name": "set.zip", "mimeType": "application/zip", "buffer": crafted_zip()}])
        b.get_by_text("10 classes").first.wait_for(timeout=60_000)
        epochs = b.get_by_role("spinbutton", name="Epochs")
        epochs.fill("1")
        epochs.press("Enter")
        b.wait_for_timeout(1000)
        b.get_by_role("button", name="Start training").click()
        b.get_by_text("finished", exact=False).first.wait_for(timeout=120_000)

        save(b, "class-model", share=False)                        # same name as A's: B gets its own
        b.get_by_text("Saved as class-model in your models", exact=False).wait_for(timeout=30_000)
        save(b, "pub", share=True)                                  # A's shared name: refused
        b.get_by_text("already has a model called pub", exact=False).wait_for(timeout=30_000)
        shot(b, tmp_path, "b-train-save-refused")
        assert digest(models / owner_a / "class-model") == before_private
        assert digest(models / "shared" / "pub") == before_shared
        assert (models / owner_b / "class-model.json").exists()
        with b.expect_download(timeout=60_000) as got:              # the weights from memory, saved or not
            b.get_by_role("button", name="Download").click()
        with zipfile.ZipFile(got.value.path()) as z:
            assert sorted(z.namelist()) == ["pub.json", "pub.safetensors"]
            assert json.loads(z.read("pub.json"))["class_names"] == sorted(CRAFTED)
        save(b, "crafted", share=True)                              # a new name: shared with the class
        b.get_by_text("shared with the class (read-only", exact=False).wait_for(timeout=30_000)

        # --- A classifies with B's shared model: B's class names are text on A's page
        a.goto(url + "/classify")
        a.wait_for_selector('[data-testid="stApp"]')
        a.get_by_text("Show a trained network a picture").wait_for(timeout=60_000)
        pick(a, "Model", "crafted")
        a.get_by_text("classes:", exact=False).first.wait_for(timeout=60_000)
        a.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(
            files=[{"name": "one.png", "mimeType": "image/png", "buffer": digit_png()}])
        a.locator('[data-testid="stPlotlyChart"] .ytick').first.wait_for(timeout=60_000)
        a.wait_for_timeout(1500)
        shot(a, tmp_path, "a-classify-with-b-model")

        found = a.evaluate("""() => ({
            links: [...document.querySelectorAll('a')].map(x => x.getAttribute('href') || '')
                     .filter(h => h.startsWith('javascript') || h.includes('pwned')).length,
            images: [...document.querySelectorAll('img')].filter(x => (x.src || '').includes('pwned')).length,
            plotlyLinks: document.querySelectorAll('.js-plotly-plot a').length,
            boldTicks: document.querySelectorAll('.js-plotly-plot .ytick tspan[style*="bold"]').length,
            ticks: [...document.querySelectorAll('.js-plotly-plot .ytick text')].map(t => t.textContent),
            strong: [...document.querySelectorAll('strong')].map(s => s.textContent).filter(t => t === 'star').length,
            headings: [...document.querySelectorAll('h1')].map(h => h.textContent).filter(t => t.includes('head')).length,
            caption: [...document.querySelectorAll('[data-testid="stCaptionContainer"]')]
                       .map(c => c.textContent).find(t => t.includes('classes:')) || '',
        })""")
        assert found["links"] == 0 and found["images"] == 0 and found["plotlyLinks"] == 0, found
        assert found["boldTicks"] == 0 and found["strong"] == 0 and found["headings"] == 0, found
        assert any("<" in t for t in found["ticks"]), found["ticks"]    # markup shown as text
        assert "![p](pwned1.png)" in found["caption"] and "<b>bold" in found["caption"], found["caption"]
        assert "\u202e" not in found["caption"]
        # only the app itself, and Streamlit's own favicon (the page icon is a Material Symbol it loads from
        # Google Fonts): nothing a class name could point to
        strays = [u for u in requests if "pwned" in u or not (u.startswith(url) or u.startswith(FAVICON))]
        assert not strays, strays
        # A's picker lists A's own class-model once and B's private one nowhere
        a.get_by_test_id("stSelectbox").filter(has_text="Model").first.click()
        listed = a.get_by_role("option").all_inner_texts()
        a.keyboard.press("Escape")
        mine = [o for o in listed if o.startswith("class-model")]
        assert len(mine) == 1 and mine[0].endswith("yours"), listed
        assert any(o.startswith("pub") and o.endswith("shared with the class") for o in listed), listed
        browser.close()
    assert digest(models / owner_a / "class-model") == before_private
