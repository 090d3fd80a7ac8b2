"""iPhone photos: HEIC/HEIF is read by imgai.data.intake.open_image (so Classify, Teach and Train's zips)
through pillow-heif, upright, under the same size limits as every other format."""
import io

import numpy as np
import pytest
from PIL import Image

from heic_corpus import PHOTOS, heic_bytes, heic_claiming, heic_photo
from hostile_corpus import _zip
from imgai.data.folder import load_image_folder
from test_classify_page import digit_ckpt, models  # noqa: F401  (fixtures)
from imgai.data.intake import ImageError, PixelBudget, decoded_pixels, fit_image, open_image


def _upright_jpeg_pixels(name="chelsea.jpg") -> np.ndarray:
    return np.asarray(Image.open(PHOTOS / name).convert("RGB"), np.float32)


def test_heic_photo_is_read_with_the_pixels_it_holds():
    img = open_image(heic_photo(), name="IMG_0001.HEIC")
    ref = _upright_jpeg_pixels()
    assert img.mode == "RGB" and img.size == (ref.shape[1], ref.shape[0])
    assert np.abs(np.asarray(img, np.float32) - ref).mean() < 6  # HEVC at quality 80 vs the JPEG it came from


@pytest.mark.parametrize("orientation, turn", [(6, Image.Transpose.ROTATE_270), (8, Image.Transpose.ROTATE_90),
                                               (3, Image.Transpose.ROTATE_180)])
def test_rotated_heic_comes_out_upright_once(orientation, turn):
    """An iPhone portrait: pixels stored sideways, an irot box and EXIF orientation both say how to turn
    them. Turned once (as the same JPEG with that EXIF tag is), never twice."""
    raw = Image.open(PHOTOS / "chelsea.jpg").convert("RGB")
    got = open_image(heic_bytes(raw, orientation=orientation))
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    raw.save(buf, "JPEG", quality=95, exif=exif.tobytes())
    jpeg = open_image(buf.getvalue())
    want = np.asarray(raw.transpose(turn), np.float32)
    assert got.size == jpeg.size == (want.shape[1], want.shape[0])
    assert np.abs(np.asarray(got, np.float32) - want).mean() < 6
    assert np.abs(np.asarray(jpeg, np.float32) - want).mean() < 6


def test_budget_reads_a_heic_size_from_its_header():
    assert decoded_pixels(heic_photo()) == 451 * 300
    assert decoded_pixels(heic_claiming(3000, 2000)) == 3000 * 2000  # what it claims, nothing decoded
    budget = PixelBudget(megapixels=10)
    budget.charge(heic_claiming(3000, 2000))
    with pytest.raises(ImageError, match="megapixels"):
        budget.charge(heic_claiming(3000, 2000))


def test_big_heic_is_shrunk_after_decoding_like_png():
    img = open_image(heic_photo(size=(900, 600)), min_side=128)
    assert img.size == (225, 150)  # a whole factor (600 // 128 = 4) keeping the shorter side >= 128


def test_huge_heic_header_is_refused_in_one_line():
    with pytest.raises(ImageError) as info:
        open_image(heic_claiming(9000, 9000), name="IMG_0002.HEIC")
    msg = str(info.value)
    assert msg.startswith("IMG_0002.HEIC: image too large") and "\n" not in msg


def test_zip_of_heic_class_folders_trains_like_jpegs():
    jpeg = {p: (PHOTOS / p).read_bytes() for p in ("chelsea.jpg", "coffee.jpg")}
    heic = {p: heic_photo(p) for p in jpeg}
    x, y, names, skipped = load_image_folder(_zip([("cats/a.heic", heic["chelsea.jpg"]),
                                                   ("cats/b.HEIF", heic["chelsea.jpg"]),
                                                   ("cups/c.heic", heic["coffee.jpg"]),
                                                   ("cups/d.jpg", jpeg["coffee.jpg"])]), size=32)
    assert names == ["cats", "cups"] and list(y) == [0, 0, 1, 1] and skipped == 0
    want = fit_image(open_image(jpeg["coffee.jpg"]), 32, 3).astype(np.float32)
    assert np.abs(x[2].astype(np.float32) - want).mean() < 8  # the HEIC decoded to the same picture


def test_classify_page_names_the_cat_in_an_iphone_photo(models):
    """The whole way in: a rotated HEIC dropped on Classify is read upright and named (ImageNet model)."""
    from test_classify_page import CAT_CLASSES, start
    at = start("imagenet")
    turned = Image.open(PHOTOS / "chelsea.jpg").transpose(Image.Transpose.ROTATE_90)  # stored sideways
    at.file_uploader(key="classify_files").set_value([
        ("IMG_0003.HEIC", heic_bytes(turned, orientation=6), "image/heic")])
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    answer = next(m.value for m in at.markdown if m.value.startswith("**IMG\\_0003\\.HEIC** → "))
    assert answer.split("**")[3] in CAT_CLASSES, answer  # the name the upright JPEG gets
