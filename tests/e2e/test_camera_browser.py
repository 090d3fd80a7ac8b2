"""The webcam on Classify, in Chromium with a fake camera playing a video made from a photo of a digit
(--use-file-for-fake-video-capture): the capture gets the same answer, input and saliency views as an upload.
Without a camera (permission denied) the page says what to do in one line and nothing breaks."""
import sys

import numpy as np
import pytest
from PIL import Image

from app_server import ARGS, CHROMIUM, ROOT, settle, shot


def write_y4m(path, rgb: np.ndarray, frames: int = 10):
    """A y4m video (a short header, then raw YUV 4:2:0 frames) of one still picture, 640x480."""
    img = Image.fromarray(rgb).convert("RGB").resize((640, 480))
    y, u, v = img.convert("YCbCr").split()
    planes = np.asarray(y).tobytes() + np.asarray(u.resize((320, 240))).tobytes() + \
        np.asarray(v.resize((320, 240))).tobytes()
    with open(path, "wb") as f:
        f.write(b"YUV4MPEG2 W640 H480 F30:1 Ip A1:1 C420jpeg\n")
        for _ in range(frames):
            f.write(b"FRAME\n" + planes)


@pytest.fixture
def camera_browser(tmp_path, browser):
    """A Chromium whose camera plays a phone photo of a 7 (permission granted without asking)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from image_corpus import phone_photo
    from imgai.data.datasets import load_dataset
    from imgai.data.intake import open_image
    d = load_dataset("digits")
    seven = next(i for i in range(len(d.val_y)) if d.class_names[int(d.val_y[i])] == "7")
    photo = np.asarray(open_image(phone_photo(d.val_x[seven, 0].numpy(), np.random.default_rng(1))))
    video = tmp_path / "seven.y4m"
    write_y4m(video, photo)
    # launched by the module's own Playwright (a second sync_playwright may not start while it runs)
    b = browser.browser_type.launch(executable_path=CHROMIUM, args=ARGS + [
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}"])
    yield b
    b.close()


def test_a_camera_picture_is_classified_like_an_upload(serve, camera_browser, user_folders):
    url = serve(user_folders)
    context = camera_browser.new_context(viewport={"width": 1400, "height": 1800}, permissions=["camera"])
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url + "/classify")
    settle(page)
    page.get_by_text("Use the camera").first.click()
    page.get_by_role("button", name="Take Photo").wait_for(timeout=60_000)
    page.wait_for_timeout(1500)                           # a few frames of the video reach the box
    page.get_by_role("button", name="Take Photo").click()
    page.get_by_text("camera-1.jpg →").first.wait_for(timeout=60_000)
    settle(page)
    shot(page, "classify", "camera-capture")
    assert page.get_by_text("camera-1.jpg → 7").count() >= 1   # the digit in the video, read as a 7
    assert page.get_by_text("where it looked").count() >= 1 and errors == []


def test_without_a_camera_the_page_says_what_to_do(serve, browser, user_folders):
    """The shared browser has no fake camera and no permission: Streamlit's box says so, and our line too."""
    url = serve(user_folders)
    page = browser.new_page()
    page.goto(url + "/classify")
    settle(page)
    page.get_by_text("Use the camera").first.click()
    settle(page)
    assert page.get_by_text("Allow this site to use the camera").count() == 1
    assert page.get_by_role("tab", name="Classify photos").count() == 1       # the page still works
    shot(page, "classify", "camera-none")


def test_teach_collects_each_class_from_the_camera_and_reports_on_them(serve, camera_browser, user_folders):
    """Teach: pictures taken go to the chosen class, are counted with its uploads, one is deleted, the classes
    train, and the report shows the held-back pictures' confusion matrix."""
    url = serve(user_folders)
    context = camera_browser.new_context(viewport={"width": 1400, "height": 2200}, permissions=["camera"])
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url + "/classify")
    settle(page)
    page.get_by_role("tab", name="Teach your own classes").click()
    settle(page)
    panel = page.locator('[data-testid="stTabPanel"]:visible')
    panel.get_by_text("Use the camera").click()
    take = panel.get_by_role("button", name="Take Photo")

    def snap(n_expected: str):
        take.wait_for(timeout=60_000)
        page.wait_for_timeout(800)
        take.click()
        panel.get_by_text(n_expected).first.wait_for(timeout=60_000)
        settle(page)
        panel.get_by_role("button", name="Clear photo").click()       # ready for the next picture
        settle(page)

    for k in (1, 2, 3):
        snap(f"{k} camera picture{'s' if k > 1 else ''} in this class")
    panel.get_by_role("combobox", name="Pictures go to").click()
    page.get_by_role("option", name="class B").click()
    settle(page)
    for k in (1, 2, 3):
        snap(f"{k} camera picture{'s' if k > 1 else ''} in this class")
    panel.get_by_role("button", name="Delete").first.click()             # one of class B's goes
    settle(page)
    assert panel.get_by_text("2 camera pictures in this class").count() == 1
    assert panel.get_by_text("0 photos + 3 from the camera").count() == 1  # class A
    assert panel.get_by_text("0 photos + 2 from the camera").count() == 1  # class B
    panel.get_by_role("button", name="Train", exact=True).click()
    panel.get_by_text("Trained on").first.wait_for(timeout=120_000)
    settle(page)
    assert panel.locator('[data-testid="stPlotlyChart"]').count() >= 1     # the held-back confusion matrix
    shot(page, "classify", "teach-camera")
    assert errors == []
