"""AppTest tests of ui/classify/camera.py on the Classify page: off by default (no camera asked for), a picture
taken is classified like an uploaded photo under the name camera-N.jpg, a corrupt frame gets one line."""
import numpy as np
from PIL import Image

from image_corpus import phone_photo
from test_classify_page import digit_ckpt, models, start  # noqa: F401 (fixtures)


def test_classify_camera_is_off_until_asked_then_classifies_a_picture(models, digits):
    at = start()
    assert not at.camera_input  # the browser is not asked for the camera until the toggle is on
    at.toggle(key="classify_camera_on").set_value(True).run()
    assert at.camera_input and not at.exception
    label = digits.class_names[int(digits.val_y[0])]
    jpg = phone_photo(digits.val_x[0, 0].numpy(), np.random.default_rng(3))
    at.camera_input(key="classify_camera").upload("image.jpg", jpg).run()
    assert not at.exception, at.exception
    assert any(f"camera\\-1\\.jpg** → **{label}**" in m.value for m in at.markdown), [m.value for m in at.markdown]


def test_a_corrupt_camera_frame_gets_one_line(models):
    at = start()
    at.toggle(key="classify_camera_on").set_value(True).run()
    at.camera_input(key="classify_camera").upload("image.jpg", b"\xff\xd8\xff" + b"\0" * 50).run()
    assert not at.exception and len(at.error) == 1 and "not an image file" in at.error[0].value
