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


def test_teach_trains_on_camera_pictures_counted_per_class_and_deletable(models):
    from test_classify_page import disc, jpeg, stripes
    rng = np.random.default_rng(5)
    at = start()
    at.toggle(key="teach_camera_on").set_value(True).run()
    for c, draw in ((0, disc), (1, stripes)):
        at.selectbox(key="teach_camera_class").set_value(c).run()
        for _ in range(4):
            at.camera_input(key="teach_camera").upload("image.jpg", jpeg(draw(rng))).run()
    assert not at.exception, at.exception
    assert "4 camera pictures in this class" in [c.value for c in at.caption]
    next(b for b in at.button if b.key and b.key.startswith("teach_capture_del_")).click().run()
    assert "3 camera pictures in this class" in [c.value for c in at.caption]
    at.button(key="teach_train").click().run()
    assert not at.exception, at.exception
    assert at.session_state["teach_result"]["report"]["n_train"] + at.session_state["teach_result"]["report"]["n_val"] == 7
