"""The exported demo.html, opened from disk in Chromium as a student opens it: no server, no internet. It
answers what imgai answers for the same picture, a drawn digit gets an answer, and a generator draws."""
import json
import re

import numpy as np
import pytest
import torch
from PIL import Image

from imgai.data.intake import open_image
from imgai.export import export_checkpoint
from imgai.inference.classify import load_classifier
from app_server import shot

def _open(browser, folder):
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route("http*://**", lambda route: (errors.append(f"asked the network for {route.request.url}"), route.abort()))
    page.goto((folder / "demo.html").as_uri())
    page.wait_for_function("document.body.dataset.ready", timeout=90_000)
    assert page.evaluate("document.body.dataset.ready") == "1", page.inner_text("#status")
    return page, errors


def _answer(page, picture):
    page.set_input_files("#picture", str(picture))
    page.wait_for_function("document.getElementById('status').textContent.startsWith('answered')", timeout=30_000)
    return page.evaluate("document.getElementById('answer').dataset.label"), \
        np.array(json.loads(page.evaluate("document.getElementById('answer').dataset.probabilities")))


@pytest.mark.parametrize("weights, index", [("digits-cnn", 0), ("digits-cnn", 7), ("cifar10-cnn", 3)])
def test_the_demo_answers_what_imgai_answers(browser, tmp_path, weights, index):
    folder = export_checkpoint(f"weights/{weights}", tmp_path / weights)
    data = np.load(f"imgai/assets/{'digits' if weights.startswith('digits') else 'cifar10-5k'}.npz")
    x = data["val_x"][index]
    picture = tmp_path / "picture.png"
    Image.fromarray(x if x.ndim == 2 else x.transpose(1, 2, 0)).save(picture)
    clf = load_classifier(f"weights/{weights}")
    want = clf.probabilities(clf.prepare(open_image(picture))).numpy()
    page, errors = _open(browser, folder)
    label, probabilities = _answer(page, picture)
    shot(page, "export", f"export-demo-{weights}-{index}")
    assert label == clf.class_names[int(want.argmax())]
    np.testing.assert_allclose(probabilities, want, atol=2e-3)   # the same input, float32 in another runtime
    assert errors == []


def test_a_digit_drawn_on_the_pad_gets_an_answer(browser, tmp_path):
    folder = export_checkpoint("weights/digits-cnn", tmp_path / "d")
    page, errors = _open(browser, folder)
    box = page.locator("#pad").bounding_box()
    page.mouse.move(box["x"] + 140, box["y"] + 50)
    page.mouse.down()
    for y in range(50, 240, 10):                  # one vertical stroke: a "1"
        page.mouse.move(box["x"] + 140, box["y"] + y)
    page.mouse.up()
    page.wait_for_function("document.getElementById('answer').dataset.label", timeout=30_000)
    shot(page, "export", f"export-demo-drawn")
    assert page.evaluate("document.getElementById('answer').dataset.label") == "1"
    assert errors == []


def test_a_picture_the_browser_cannot_read_gets_one_line(browser, tmp_path):
    folder = export_checkpoint("weights/cifar10-cnn", tmp_path / "c")
    page, errors = _open(browser, folder)
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    page.set_input_files("#picture", str(bad))
    page.wait_for_function("document.getElementById('status').className === 'error'", timeout=30_000)
    assert "broken.png is not a picture" in page.inner_text("#status") and errors == []


@pytest.mark.parametrize("weights", ["digits-dcgan", "digits-cdcgan"])
def test_the_generator_demo_draws_new_samples(browser, tmp_path, weights):
    folder = export_checkpoint(f"weights/{weights}", tmp_path / weights)
    page, errors = _open(browser, folder)
    first = page.evaluate("document.getElementById('grid').toDataURL()")
    if weights == "digits-cdcgan":
        page.select_option("#label", "7")
    page.click("#sample")
    page.wait_for_function(f"document.getElementById('grid').toDataURL() !== {json.dumps(first)}", timeout=30_000)
    shot(page, "export", f"export-demo-{weights}")
    # the grid shows pictures, not a blank canvas: some pixels bright, some dark
    levels = page.evaluate("""() => { const c = document.getElementById('grid'), d = c.getContext('2d')
        .getImageData(0, 0, c.width, c.height).data; let lo = 0, hi = 0;
        for (let i = 0; i < d.length; i += 4) { if (d[i] < 40) lo++; if (d[i] > 200) hi++; } return [lo, hi]; }""")
    assert min(levels) > 100 and errors == []


def test_the_classify_page_hands_over_a_checked_export(serve, browser, user_folders, tmp_path):
    """A student on Classify opens "Take this model home", presses Export, downloads the zip: it unzips into
    a folder whose model answers in onnxruntime."""
    import zipfile

    import onnxruntime as ort
    from app_server import settle
    url = serve(user_folders)
    page = browser.new_page()
    page.goto(url + "/classify")
    settle(page)
    page.get_by_text("Take this model home (ONNX)").click()
    page.get_by_role("button", name="Export (ONNX)").click()
    download_button = page.get_by_role("button", name=re.compile(r"Download .*-onnx\.zip"))
    download_button.wait_for(timeout=120_000)
    settle(page)
    shot(page, "export", "classify-export")
    assert "differ from imgai's by at most" in page.inner_text("body")
    with page.expect_download() as info:
        download_button.click()
    path = tmp_path / "model.zip"
    info.value.save_as(path)
    zipfile.ZipFile(path).extractall(tmp_path / "unzipped")
    folder = next((tmp_path / "unzipped").iterdir())
    spec = json.loads((folder / "preprocess.json").read_text())
    x = np.zeros((1, spec["channels"], *spec["size"]), np.float32)
    probs, = ort.InferenceSession(str(folder / "model.onnx")).run(["probabilities"], {"input": x})
    assert probs.shape[1] == len((folder / "labels.txt").read_text().splitlines())
