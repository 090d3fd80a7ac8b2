"""Generated test images: a corpus of bad / odd image files, and synthetic phone photos of digits.

Nothing here is stored in the repo; every file is built in memory in a few milliseconds, so any
test can reuse it: `write_corpus(tmp_path)` writes all cases, `phone_photo(digit, rng)` gives the
JPEG bytes of a hand-written digit photographed on paper.

    paths = write_corpus(tmp_path); jpeg = phone_photo(digits["val_x"][0], np.random.default_rng(0))
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

DIGITS_NPZ = Path(__file__).resolve().parent.parent / "imgai" / "assets" / "digits.npz"

RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)


@dataclass
class Case:
    """One corpus file. `expect` None: open_image must refuse it with a one-line ImageError.
    Otherwise open_image must return an RGB image of `size` (if given) whose pixels at the
    `probes` ((x, y), (r, g, b)) match within `tol`."""

    name: str
    data: bytes
    expect: dict | None = field(default=None)


def _encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def _png(width: int, height: int, bit_depth: int, color_type: int, idat: bytes) -> bytes:
    """Hand-built PNG, so its header can claim any size."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat)
            + _png_chunk(b"IEND", b""))


def bomb_png(width: int = 10_000, height: int = 10_000) -> bytes:
    """A valid 1-bit PNG of width x height black pixels: 100 Mpx in ~12 KB (a real bomb)."""
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed bits
    z = zlib.compressobj(9)
    chunks = [z.compress(row * 500) for _ in range(height // 500)]
    chunks.append(z.compress(row * (height % 500)))
    return _png(width, height, 1, 0, b"".join(chunks) + z.flush())


def _halves(left, right, mode="RGB", size=(20, 10)) -> Image.Image:
    """An image whose left half is `left` and right half `right` (probe at x=2 and x=17)."""
    img = Image.new(mode, size, left)
    img.paste(right, (size[0] // 2, 0, size[0], size[1]))
    return img


def _expect(probes, size=None, tol=3) -> dict:
    return {"size": size, "probes": probes, "tol": tol}


def _exif_jpeg(orientation: int) -> bytes:
    """An upright 60x40 image (red block top-left) stored rotated, with the EXIF tag that undoes it."""
    upright = Image.new("RGB", (60, 40), WHITE)
    upright.paste(RED, (0, 0, 20, 14))
    # exif_transpose applies ROTATE_270 for tag 6 and ROTATE_90 for tag 8: store the inverse.
    stored = upright.transpose(Image.Transpose.ROTATE_90 if orientation == 6 else Image.Transpose.ROTATE_270)
    exif = Image.Exif()
    exif[0x0112] = orientation
    return _encode(stored, "JPEG", quality=95, exif=exif.tobytes())


@lru_cache(maxsize=1)
def corpus_cases() -> tuple[Case, ...]:
    rng = np.random.default_rng(0)
    noisy = Image.fromarray(rng.integers(0, 256, (200, 200, 3), dtype=np.uint8))
    jpeg = _encode(noisy, "JPEG", quality=90)
    png = _encode(noisy, "PNG")
    two = _halves(RED, BLUE)
    two_probes = [((2, 5), RED), ((17, 5), BLUE)]

    gray16 = Image.fromarray(np.tile(np.linspace(0, 65535, 256).astype(np.uint16), (8, 1)))
    assert gray16.mode.startswith("I;16")
    gray_probes = [((0, 4), (0, 0, 0)), ((128, 4), (128, 128, 128)), ((255, 4), WHITE)]
    floats = Image.fromarray(np.tile(np.linspace(0, 1, 256, dtype=np.float32), (8, 1)), "F")

    palette = Image.new("P", (20, 10), 0)
    palette.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    palette.paste(1, (10, 0, 20, 10))

    rgba = Image.new("RGBA", (30, 10), (0, 0, 0, 0))
    rgba.paste((0, 0, 0, 128), (10, 0, 20, 10))
    rgba.paste((0, 0, 255, 255), (20, 0, 30, 10))

    frames = [Image.new("P", (20, 10), 0), Image.new("P", (20, 10), 1)]
    for f in frames:
        f.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    gif = io.BytesIO()
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)

    return (
        # refused
        Case("empty.png", b""),
        Case("random.jpg", rng.integers(0, 256, 2000, dtype=np.uint8).tobytes()),
        Case("text.png", b"hello, this is a text file and not a picture\n" * 20),
        Case("fake.pdf.png", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"),
        Case("photo.heic", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(200)),
        Case("truncated.jpg", jpeg[: len(jpeg) // 2]),
        Case("truncated.png", png[: len(png) // 2]),
        Case("header_only.png", png[:33]),  # signature + IHDR, no pixel data
        Case("bomb_claimed.png", _png(100_000, 100_000, 8, 2, zlib.compress(bytes(1000)))),
        Case("bomb_100mpx.png", bomb_png()),
        # loaded
        Case("rgb.png", _encode(two, "PNG"), _expect(two_probes, (20, 10), 0)),
        Case("jpeg_named.png", _encode(two, "JPEG", quality=95), _expect(two_probes, (20, 10), 40)),
        Case("gray16.png", _encode(gray16, "PNG"), _expect(gray_probes, (256, 8), 1)),
        Case("float.tif", _encode(floats, "TIFF"), _expect(gray_probes, (256, 8), 1)),
        Case("cmyk.jpg", _encode(_halves((0, 255, 255, 0), (255, 255, 0, 0), "CMYK"), "JPEG", quality=95),
             _expect(two_probes, (20, 10), 40)),
        Case("palette_transparent.png", _encode(palette, "PNG", transparency=0),
             _expect([((2, 5), WHITE), ((17, 5), RED)], (20, 10), 0)),
        Case("rgba.png", _encode(rgba, "PNG"),
             _expect([((2, 5), WHITE), ((15, 5), (127, 127, 127)), ((25, 5), BLUE)], (30, 10), 1)),
        Case("la.png", _encode(_halves((0, 0), (50, 255), "LA"), "PNG"),
             _expect([((2, 5), WHITE), ((17, 5), (50, 50, 50))], (20, 10), 0)),
        Case("animated.gif", gif.getvalue(), _expect([((2, 5), RED), ((17, 5), RED)], (20, 10), 0)),
        Case("image.webp", _encode(two, "WEBP", lossless=True), _expect(two_probes, (20, 10), 0)),
        Case("image.bmp", _encode(two, "BMP"), _expect(two_probes, (20, 10), 0)),
        Case("image.tiff", _encode(two, "TIFF"), _expect(two_probes, (20, 10), 0)),
        Case("exif6.jpg", _exif_jpeg(6), _expect([((5, 5), RED), ((55, 35), WHITE)], (60, 40), 40)),
        Case("exif8.jpg", _exif_jpeg(8), _expect([((5, 5), RED), ((55, 35), WHITE)], (60, 40), 40)),
    )


def write_corpus(directory) -> dict[str, Path]:
    """Write every corpus case into `directory`; returns {name: path}."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for case in corpus_cases():
        (directory / case.name).write_bytes(case.data)
        paths[case.name] = directory / case.name
    return paths


# ---------------------------------------------------------------------------------------------
# Synthetic phone photos of hand-written digits
# ---------------------------------------------------------------------------------------------


def load_digits() -> dict[str, np.ndarray]:
    """The bundled MNIST digits: train_x, train_y, val_x, val_y (uint8 28x28, white on black)."""
    with np.load(DIGITS_NPZ) as d:
        return {k: d[k] for k in d.files}


def phone_photo(digit28: np.ndarray, rng: np.random.Generator, size: int = 480,
                rotate_exif: bool | int = False, quality: int = 70) -> bytes:
    """JPEG bytes of `digit28` (MNIST, white on black) written in dark ink on light paper.

    The paper is unevenly lit (a linear gradient and a soft-edged shadow), slightly tinted; the
    digit is 35-70% of the photo's height at a random place; pixel noise, then JPEG compression.
    rotate_exif: True (tag 6 or 8 at random) or an EXIF orientation (6, 8): the pixels are
    stored rotated and the tag says how to turn them upright, as phones do."""
    h = size
    w = int(size * rng.uniform(0.75, 1.33))
    yy, xx = np.mgrid[0:h, 0:w] / size
    a = rng.uniform(0, 2 * np.pi)
    light = rng.uniform(0.7, 0.95) + rng.uniform(0.1, 0.3) * ((xx - 0.5) * np.cos(a) + (yy - 0.5) * np.sin(a))
    a = rng.uniform(0, 2 * np.pi)
    edge = (xx - w / size / 2) * np.cos(a) + (yy - 0.5) * np.sin(a) - rng.uniform(-0.35, 0.35)
    light = light * (1 - rng.uniform(0.2, 0.45) / (1 + np.exp(-edge / rng.uniform(0.02, 0.08))))

    side = int(h * rng.uniform(0.35, 0.7))  # the 28x28 frame, digit is 20/28 of it
    big = Image.fromarray(digit28).resize((side, side), Image.Resampling.BICUBIC)
    ink = np.zeros((h, w), np.float32)
    top, left = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
    ink[top:top + side, left:left + side] = np.clip(np.asarray(big, np.float32) / 255, 0, 1)

    paper = np.array([1.0, rng.uniform(0.95, 1.0), rng.uniform(0.85, 1.0)])  # warm white
    pen = rng.choice([[0.12, 0.12, 0.14], [0.12, 0.18, 0.5]])  # black or blue ink reflectance
    rgb = light[..., None] * paper * (1 - ink[..., None] * (1 - pen))
    rgb = rgb + rng.normal(0, rng.uniform(0.01, 0.035), rgb.shape)
    img = Image.fromarray(np.clip(rgb * 255, 0, 255).astype(np.uint8), "RGB")

    kw = {}
    if rotate_exif:
        orientation = int(rng.choice([6, 8])) if rotate_exif is True else int(rotate_exif)
        img = img.transpose(Image.Transpose.ROTATE_90 if orientation == 6 else Image.Transpose.ROTATE_270)
        exif = Image.Exif()
        exif[0x0112] = orientation
        kw["exif"] = exif.tobytes()
    return _encode(img, "JPEG", quality=quality, **kw)
