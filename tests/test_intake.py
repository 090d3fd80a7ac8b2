"""imgai.data.intake: every odd image file is loaded right or refused in one line."""

import io

import numpy as np
import pytest
from PIL import Image, ImageFile

from image_corpus import corpus_cases, write_corpus
from imgai.data import intake
from imgai.data.intake import ImageError, fit_image, open_image

# The 100-megapixel bomb makes Pillow warn before we refuse it; the refusal is what is tested.
pytestmark = pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")

CASES = {c.name: c for c in corpus_cases()}


def _one_line_error(fn, *args, **kw) -> str:
    with pytest.raises(ImageError) as info:
        fn(*args, **kw)
    msg = str(info.value)
    assert msg and "\n" not in msg and "Traceback" not in msg
    return msg


@pytest.mark.parametrize("name", list(CASES))
def test_corpus_file_is_loaded_right_or_refused_in_one_line(tmp_path, name):
    case = CASES[name]
    path = write_corpus(tmp_path)[name]
    if case.expect is None:
        msg = _one_line_error(open_image, path)
        assert msg.startswith(f"{name}: ")  # a path names its file by default
        return
    img = open_image(path)
    assert img.mode == "RGB"
    if case.expect["size"]:
        assert img.size == case.expect["size"]
    for xy, rgb in case.expect["probes"]:
        got = img.getpixel(xy)
        assert max(abs(a - b) for a, b in zip(got, rgb)) <= case.expect["tol"], (xy, got, rgb)


def test_bytes_and_file_objects_work_like_paths(tmp_path):
    data = CASES["exif6.jpg"].data
    from_bytes = np.asarray(open_image(data))
    from_file = np.asarray(open_image(io.BytesIO(data)))
    from_path = np.asarray(open_image(write_corpus(tmp_path)["exif6.jpg"]))
    assert np.array_equal(from_bytes, from_file) and np.array_equal(from_bytes, from_path)


def test_message_names_the_file_only_when_known():
    assert _one_line_error(open_image, b"not an image", name="cat.jpg") == (
        "cat.jpg: not an image file (could not identify the format)")
    assert _one_line_error(open_image, b"not an image") == "not an image file (could not identify the format)"
    assert _one_line_error(open_image, b"", name="evil\nname.png").startswith("evil name.png: empty file")


def test_decompression_bomb_is_refused_from_its_header_without_decoding(monkeypatch):
    def no_decoding(self):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    for name in ("bomb_100mpx.png", "bomb_claimed.png"):
        assert "too large" in _one_line_error(open_image, CASES[name].data, name=name)


def test_byte_and_pixel_caps(monkeypatch, tmp_path):
    png = CASES["rgb.png"].data  # 20x10
    monkeypatch.setattr(intake, "MAX_BYTES", len(png) - 1)
    assert "too large" in _one_line_error(open_image, png)
    path = tmp_path / "big.png"
    path.write_bytes(png)
    assert "too large" in _one_line_error(open_image, path)
    monkeypatch.setattr(intake, "MAX_BYTES", 10**6)
    monkeypatch.setattr(intake, "MAX_PIXELS", 199)
    assert "too large" in _one_line_error(open_image, png)


def test_unreadable_sources():
    assert "could not read" in _one_line_error(open_image, "/nonexistent/cat.jpg")
    with pytest.raises(TypeError):
        open_image(42)


def test_fit_image_centre_crops_then_resizes():
    img = Image.new("RGB", (60, 20), (255, 0, 0))
    img.paste((0, 255, 0), (20, 0, 40, 20))  # the centre square is green
    x = fit_image(img, 8, 3)
    assert x.shape == (8, 8, 3) and x.dtype == np.uint8
    assert (np.abs(x.astype(int) - [0, 255, 0]) <= 2).all()
    g = fit_image(img, 5, 1)
    assert g.shape == (5, 5, 1) and g.dtype == np.uint8
    assert fit_image(Image.new("RGBA", (4, 4), (0, 0, 0, 0)), 4, 3).min() == 255  # on white
    with pytest.raises(ValueError):
        fit_image(img, 8, 2)


def _big_halves(mode, left, right, size=(400, 300)) -> Image.Image:
    img = Image.new(mode, size, left)
    img.paste(right, (size[0] // 2, 0, size[0], size[1]))
    return img


def _save(img, fmt, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


_palette = _big_halves("P", 0, 1)
_palette.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
SHRINK_CASES = {
    "1": (_save(_big_halves("1", 0, 1), "PNG"), (0, 0, 0), (255, 255, 255)),
    "I;16": (_save(Image.fromarray(np.where(np.arange(400) < 200, 0, 65535).astype(np.uint16)[None].repeat(300, 0)),
                   "PNG"), (0, 0, 0), (255, 255, 255)),
    "P+transparency": (_save(_palette, "PNG", transparency=0), (255, 255, 255), (255, 0, 0)),
    "LA": (_save(_big_halves("LA", (0, 0), (50, 255)), "PNG"), (255, 255, 255), (50, 50, 50)),
    "CMYK": (_save(_big_halves("CMYK", (0, 255, 255, 0), (255, 255, 0, 0)), "JPEG", quality=95),
             (255, 0, 0), (0, 0, 255)),
    "F": (_save(Image.fromarray(np.where(np.arange(400) < 200, 0, 1).astype(np.float32)[None].repeat(300, 0), "F"),
                "TIFF"), (0, 0, 0), (255, 255, 255)),
}


@pytest.mark.parametrize("mode", list(SHRINK_CASES))
def test_every_mode_is_shrunk_right_while_read(mode):
    data, left, right = SHRINK_CASES[mode]
    img = open_image(data, min_side=100)  # 300 px high: reduced by 3 (a JPEG: decoded at 1/2, then kept)
    assert img.mode == "RGB" and 100 <= min(img.size) < 200, img.size
    w, h = img.size
    for (x, y), rgb in (((w // 4, h // 2), left), ((3 * w // 4, h // 2), right)):
        got = img.getpixel((x, y))
        tol = 40 if mode == "CMYK" else 1  # JPEG's colour error
        assert max(abs(a - b) for a, b in zip(got, rgb)) <= tol, (mode, got, rgb)


@pytest.mark.parametrize("name", ["exif6.jpg", "exif8.jpg"])
def test_exif_rotation_is_undone_on_the_shrunk_picture(name):
    img = open_image(CASES[name].data, min_side=10)  # 60x40 upright, decoded at 1/4 scale
    assert img.size == (15, 10)
    assert img.getpixel((1, 1))[0] > 200 and img.getpixel((1, 1))[1] < 80  # the red block is top-left
    assert min(img.getpixel((13, 8))) > 200
