"""The Classify page in a real browser: `streamlit run app.py`, headless Chromium, files dropped into the
uploader, a digit drawn on the canvas with the mouse and looked at inside the network, two classes taught
from a zip, the ImageNet model on a tiny picture. Screenshots go to $IMGAI_SHOTS (default /tmp/shots/classify)."""
import re
import shutil
import sys
from dataclasses import replace

import numpy as np
import pytest
from app_server import ROOT, settle, shot, start_app, stop


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The whole app on a free port; a digits model is guaranteed in the picker (shipped or trained here)."""
    from imgai.models.checkpoint import WEIGHTS_DIR, save_checkpoint
    models = tmp_path_factory.mktemp("models")
    if not (WEIGHTS_DIR / "digits-cnn.json").exists():  # no shipped model yet: half an epoch, ~4 s
        from imgai.training.runs import RunSpec, default_train_config, prepare_run
        cfg = replace(default_train_config("cnn", "fast"), epochs=0.5)
        run = prepare_run(RunSpec(model="cnn", dataset="digits", train=cfg), device="cpu")
        for _ in run.loop():
            pass
        save_checkpoint(models / "digits-test", run.model, {**run.meta, "metrics": {}})
    proc, url = start_app({"IMGAI_MODELS": str(models)})
    try:
        yield url
    finally:
        stop(proc)


@pytest.fixture
def files(tmp_path, digits):
    sys.path.insert(0, str(ROOT / "tests"))
    from image_corpus import phone_photo
    rng = np.random.default_rng(3)
    out = []
    for i in range(2):
        label = digits.class_names[int(digits.val_y[i])]
        p = tmp_path / f"paper_{label}.jpg"
        p.write_bytes(phone_photo(digits.val_x[i, 0].numpy(), rng))
        out.append(p)
    shutil.copy(ROOT / "tests" / "photos" / "chelsea.jpg", tmp_path / "chelsea.jpg")
    (tmp_path / "notes.png").write_bytes(b"shopping list: milk, eggs\n" * 10)
    return out + [tmp_path / "chelsea.jpg", tmp_path / "notes.png"]


@pytest.fixture
def zipped(tmp_path):
    """A zip of two class folders of generated photos (red discs, stripes), wrapped in one folder."""
    sys.path.insert(0, str(ROOT / "tests"))
    from test_classify_page import _zip_of, disc, stripes
    rng = np.random.default_rng(5)
    path = tmp_path / "my photos.zip"
    path.write_bytes(_zip_of({"disc": [disc(rng) for _ in range(6)], "stripes": [stripes(rng) for _ in range(6)]}))
    return path


@pytest.fixture
def icon(tmp_path):
    from PIL import Image
    path = tmp_path / "icon.png"
    Image.open(ROOT / "tests" / "photos" / "chelsea.jpg").resize((32, 32)).save(path)
    return path


def test_classify_page_in_chromium(server, files, zipped, icon, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 2000})
    # start at the app's root and click through its navigation, as a user does
    page.goto(server)
    page.wait_for_selector('[data-testid="stApp"]')
    nav = page.locator('[data-testid="stSidebarNav"]')
    nav.get_by_text("Latent space").wait_for(timeout=60_000)  # app.py's own navigation is up
    nav.locator("a", has_text="Classify").click()
    page.get_by_role("tab", name="Classify photos").wait_for(timeout=60_000)
    settle(page)
    shot(page, "classify", "e2e-1-start", full_page=False)

    # the hint names the uploader's button as the browser shows it
    button = page.locator('[data-testid="stFileUploaderDropzone"] button').first.inner_text().split("\n")[-1]
    assert button and page.get_by_test_id("stAlertContentInfo").get_by_text(f"click {button})").count() == 1, button

    # several files at once, one of them not an image
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files([str(f) for f in files])
    page.get_by_text("classified by").wait_for(timeout=90_000)
    settle(page)
    page.get_by_test_id("stAlertContentError").get_by_text("notes.png: not an image file").wait_for()
    assert page.get_by_text("3 of 4 files classified").count() == 1
    for f in files[:2]:  # the phone photos of digits are read as their digits
        digit = f.stem.split("_")[1]
        assert page.get_by_text(f"{f.name} → {digit}").count() == 1, f.name
    # the cat photo (and only it) is flagged as unlike the digits the model learned from
    assert page.get_by_text("This picture is unlike anything the model learned from").count() == 1
    # the download button and the charts are lazily loaded parts of Streamlit's frontend
    page.locator('[data-testid="stDownloadButton"] button', has_text="Download results (CSV)").first.wait_for()
    page.locator(".js-plotly-plot").first.wait_for()
    assert page.locator(".js-plotly-plot").count() == 3  # a top-5 chart per classified picture
    settle(page)
    shot(page, "classify", "e2e-2-photos")

    # draw a "1" on the canvas: the answer appears without pressing anything
    page.get_by_role("tab", name="Draw a digit").click()
    settle(page)
    canvas = page.locator('[data-testid="stTabPanel"]:visible canvas').last
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box and box["width"] >= 200
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.18
    page.mouse.move(x, y)
    page.mouse.down()
    for i in range(1, 21):
        page.mouse.move(x - i * 0.6, y + i * box["height"] * 0.032, steps=2)
    page.mouse.up()
    page.get_by_text("It's a").wait_for(timeout=60_000)
    settle(page)
    assert page.get_by_text("It's a 1").count() == 1
    shot(page, "classify", "e2e-3-draw", full_page=False)

    # 'Inside the network' offers the drawing at once, and the first pick there stands
    page.get_by_role("tab", name="Inside the network").click()
    settle(page)
    assert page.get_by_text("Layer 1: conv 1").count() == 1
    picture = page.locator('[data-testid="stTabPanel"]:visible [data-testid="stSelectbox"]').first
    picture.click()
    page.get_by_role("option", name="your drawing").click()
    settle(page)
    page.get_by_text("The model says 1").wait_for(timeout=30_000)
    shown = picture.inner_text() + " " + " ".join(i.input_value() for i in picture.locator("input").all())
    assert "your drawing" in shown, shown
    shot(page, "classify", "e2e-4-inside")

    # teach two classes from one zip with a folder per class
    page.get_by_role("tab", name="Teach your own classes").click()
    settle(page)
    assert page.get_by_text("Photos of class A").count() == 1
    page.get_by_text("one zip with a folder per class").click()
    settle(page)
    panel = page.locator('[data-testid="stTabPanel"]:visible')
    panel.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(zipped))
    page.get_by_text("2 classes from").wait_for(timeout=120_000)
    settle(page)
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text("Trained on 10 photos").wait_for(timeout=60_000)
    settle(page)
    shot(page, "classify", "e2e-5-teach-zip")
    panel.get_by_role("button", name="Export (ONNX)").click()          # take the taught model home
    panel.get_by_role("button", name=re.compile(r"Download my-classes-onnx\.zip")).wait_for(timeout=180_000)
    assert panel.get_by_text("differ from imgai's by at most").count() == 1

    # the ImageNet model on a 32×32 picture says why its answers are odd
    page.get_by_role("tab", name="Classify photos").click()
    settle(page)
    page.locator('[data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name=re.compile("^imagenet")).click()
    settle(page)
    page.locator('[data-testid="stTabPanel"]:visible [data-testid="stFileUploaderDropzoneInput"]').first \
        .set_input_files(str(icon))
    page.get_by_text("blown up to 224×224").first.wait_for(timeout=120_000)
    settle(page)
    shot(page, "classify", "e2e-6-imagenet-tiny")
    page.close()
