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
from PIL import Image, ImageDraw

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


# Photo styles: "plain" is the original recipe (the digit's own MNIST strokes in black or blue ink);
# the others each add one thing real photos have, so a test can report accuracy per difficulty.
PHOTO_STYLES = ("plain", "thin-pen", "marker", "pencil", "ballpoint", "tilted", "small", "textured",
                "hard-shadow")


def phone_photo(digit28: np.ndarray, rng: np.random.Generator, size: int = 480,
                rotate_exif: bool | int = False, quality: int = 70, style: str = "plain") -> bytes:
    """JPEG bytes of `digit28` (MNIST, white on black) written in dark ink on light paper.

    The paper is unevenly lit (a linear gradient and a soft-edged shadow), slightly tinted; the
    digit is 35-70% of the photo's height at a random place; pixel noise, then JPEG compression.
    rotate_exif: True (tag 6 or 8 at random) or an EXIF orientation (6, 8): the pixels are
    stored rotated and the tag says how to turn them upright, as phones do.
    style (one of PHOTO_STYLES, or "mixed" for a random one of them):
      plain        the recipe above (the same random draws as before styles existed)
      thin-pen     strokes redrawn along the digit's skeleton, 2-5% of its height (a fine pen)
      marker       redrawn 16-24% of its height (a felt marker; MNIST's own are ~14%)
      pencil       grey, grainy strokes only 30-55% darker than the paper
      ballpoint    blue ink, 3-7% of the height, on tinted (yellow, grey or blue-ish) notepaper
      tilted       the digit rotated by up to 12 degrees and seen in perspective
      small        a 3x bigger photo with the digit 10-18% of its height, anywhere
      textured     paper grain and fibres (a few % of brightness), strokes of 3-12%
      hard-shadow  a sharp-edged shadow (40-60% darker) across the digit's part of the page
    """
    if style == "mixed":
        style = str(rng.choice(PHOTO_STYLES[1:]))
    if style not in PHOTO_STYLES:
        raise ValueError(f"unknown photo style {style!r}")
    h = size * 3 if style == "small" else size
    w = int(h * rng.uniform(0.75, 1.33))
    yy, xx = np.mgrid[0:h, 0:w] / h
    a = rng.uniform(0, 2 * np.pi)
    light = rng.uniform(0.7, 0.95) + rng.uniform(0.1, 0.3) * ((xx - 0.5) * np.cos(a) + (yy - 0.5) * np.sin(a))
    a = rng.uniform(0, 2 * np.pi)
    edge = (xx - w / h / 2) * np.cos(a) + (yy - 0.5) * np.sin(a) - rng.uniform(-0.35, 0.35)
    light = light * (1 - rng.uniform(0.2, 0.45) / (1 + np.exp(-edge / rng.uniform(0.02, 0.08))))

    frac = rng.uniform(0.1, 0.18) if style == "small" else rng.uniform(0.35, 0.7)
    side = int(h * frac)  # the 28x28 frame, digit is 20/28 of it
    digit_px = side * 20 / 28
    widths = {"thin-pen": (0.02, 0.05), "marker": (0.16, 0.24), "ballpoint": (0.03, 0.07), "textured": (0.03, 0.12)}
    if style in widths:
        stroke = stroke_mask(digit28, side, rng.uniform(*widths[style]) * digit_px)
    else:
        big = Image.fromarray(digit28).resize((side, side), Image.Resampling.BICUBIC)
        stroke = np.clip(np.asarray(big, np.float32) / 255, 0, 1)
    if style == "tilted":
        stroke = _tilt(stroke, rng)
    sh, sw = stroke.shape
    ink = np.zeros((h, w), np.float32)
    top, left = rng.integers(0, max(1, h - sh + 1)), rng.integers(0, max(1, w - sw + 1))
    ink[top:top + sh, left:left + sw] = stroke[:h - top, :w - left]

    paper = np.array([1.0, rng.uniform(0.95, 1.0), rng.uniform(0.85, 1.0)])  # warm white
    pen = rng.choice([[0.12, 0.12, 0.14], [0.12, 0.18, 0.5]])  # black or blue ink reflectance
    if style == "ballpoint":
        paper = np.array([[1.0, 0.97, 0.78], [0.9, 0.92, 0.93], [0.86, 0.92, 1.0]][rng.integers(3)])
        pen = np.array([0.15, 0.2, 0.6]) + rng.uniform(-0.05, 0.05, 3)
    elif style == "pencil":
        pen = np.full(3, rng.uniform(0.45, 0.7))  # graphite: 30-55% darker than the paper
        grain = _smooth_noise(rng, (h, w), 1.5)
        ink = ink * np.clip(1 + 0.35 * grain / grain.std(), 0.3, 1.2)
    elif style == "hard-shadow":
        # A straight sharp edge through the digit's frame: one side of it in shadow.
        a = rng.uniform(0, 2 * np.pi)
        cy, cx = (top + sh * rng.uniform(0.2, 0.8)) / h, (left + sw * rng.uniform(0.2, 0.8)) / h
        edge = (xx - cx) * np.cos(a) + (yy - cy) * np.sin(a)
        light = light * (1 - rng.uniform(0.4, 0.6) / (1 + np.exp(np.clip(-edge / rng.uniform(0.001, 0.004), -50, 50))))
    if style == "textured":
        fibres = _smooth_noise(rng, (h, w), 1.0) + 0.7 * _smooth_noise(rng, (h, w), 6.0)
        light = light * (1 + rng.uniform(0.02, 0.05) * fibres / fibres.std())
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


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], scale: float) -> np.ndarray:
    """Gaussian noise blurred over ~`scale` px (paper grain, pencil graphite), float32 zero-mean."""
    h, w = shape
    sh, sw = max(1, int(h / scale)), max(1, int(w / scale))
    n = Image.fromarray(rng.normal(0, 1, (sh, sw)).astype(np.float32), "F").resize((w, h), Image.Resampling.BICUBIC)
    n = np.asarray(n, np.float32)
    return n - n.mean()


def _tilt(stroke: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rotate a stroke layer by up to 12 degrees, then a mild perspective (a page not held flat)."""
    img = Image.fromarray(stroke.astype(np.float32), "F").rotate(rng.uniform(-12, 12), Image.Resampling.BICUBIC,
                                                                 expand=True)
    w, h = img.size
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], float)
    dst = src + rng.uniform(-0.08, 0.08, (4, 2)) * [w, h]  # corners moved up to 8%
    # Pillow's PERSPECTIVE maps output (x, y) to input ((a x + b y + c) / (g x + h y + 1), ...).
    rows, rhs = [], []
    for (x, y), (u, v) in zip(dst, src):
        rows += [[x, y, 1, 0, 0, 0, -u * x, -u * y], [0, 0, 0, x, y, 1, -v * x, -v * y]]
        rhs += [u, v]
    coeffs = np.linalg.solve(np.array(rows), np.array(rhs))
    out = img.transform((w, h), Image.Transform.PERSPECTIVE, tuple(coeffs), Image.Resampling.BICUBIC)
    return np.clip(np.asarray(out, np.float32), 0, 1)


# ---------------------------------------------------------------------------------------------
# Strokes redrawn along a digit's skeleton: other pens, and drawings on a canvas
# ---------------------------------------------------------------------------------------------


def _thin(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning of a boolean mask to one-pixel-wide lines."""
    m = np.pad(mask, 1).astype(np.uint8)
    while True:
        changed = False
        for step in (0, 1):
            p = np.pad(m[1:-1, 1:-1], 1)
            n = [p[:-2, 1:-1], p[:-2, 2:], p[1:-1, 2:], p[2:, 2:], p[2:, 1:-1], p[2:, :-2], p[1:-1, :-2], p[:-2, :-2]]
            count = sum(n)  # P2..P9 clockwise from north
            trans = sum((n[i] == 0) & (n[(i + 1) % 8] == 1) for i in range(8))
            p2, p4, p6, p8 = n[0], n[2], n[4], n[6]
            if step == 0:
                cond = (p2 * p4 * p6 == 0) & (p4 * p6 * p8 == 0)
            else:
                cond = (p2 * p4 * p8 == 0) & (p2 * p6 * p8 == 0)
            gone = (m[1:-1, 1:-1] == 1) & (count >= 2) & (count <= 6) & (trans == 1) & cond
            if gone.any():
                m[1:-1, 1:-1][gone] = 0
                changed = True
        if not changed:
            return m[1:-1, 1:-1].astype(bool)


@lru_cache(maxsize=4096)
def _skeleton_points(digit_bytes: bytes, up: int = 4) -> tuple[np.ndarray, list]:
    digit = np.frombuffer(digit_bytes, np.uint8).reshape(28, 28)
    big = np.asarray(Image.fromarray(digit).resize((28 * up, 28 * up), Image.Resampling.BILINEAR))
    skel = _thin(big > 100)
    ys, xs = np.nonzero(skel)
    pts = np.stack([xs, ys], 1).astype(float) + 0.5
    # Neighbouring skeleton pixels (E, S, SE, SW) are joined by a line, so the pen never lifts.
    links = []
    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
        nb = np.zeros_like(skel)
        nb[max(0, -dy):28 * up - max(0, dy), max(0, -dx):28 * up - max(0, dx)] = \
            skel[max(0, dy):, max(0, dx):][:28 * up - abs(dy), :28 * up - abs(dx)]
        for y, x in zip(*np.nonzero(skel & nb)):
            links.append(((x + 0.5, y + 0.5), (x + dx + 0.5, y + dy + 0.5)))
    return pts / (28 * up), [(np.array(a) / (28 * up), np.array(b) / (28 * up)) for a, b in links]


def stroke_mask(digit28: np.ndarray, side: int, width: float) -> np.ndarray:
    """float32 (side, side) 0..1: the digit redrawn with a round pen `width` px wide along its
    skeleton, in a side x side frame placed like MNIST's 28x28 (anti-aliased: drawn at 2x)."""
    pts, links = _skeleton_points(np.ascontiguousarray(digit28, np.uint8).tobytes())
    ss = 2
    canvas = Image.new("L", (side * ss, side * ss), 0)
    draw = ImageDraw.Draw(canvas)
    r = max(0.5, width * ss / 2)
    for x, y in pts * side * ss:
        draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    for a, b in links:
        draw.line([tuple(a * side * ss), tuple(b * side * ss)], fill=255, width=max(1, round(2 * r)))
    return np.asarray(canvas.resize((side, side), Image.Resampling.BOX), np.float32) / 255


def canvas_drawing(digit28: np.ndarray, side: int = 280, width: float = 20, background: int | None = None,
                   ink: int = 255) -> np.ndarray:
    """uint8 (side, side, 4) RGBA, as a drawing canvas returns it: `digit28` redrawn with a round
    brush `width` px wide (the frame as big as the canvas, so the digit is ~70% of its height) in
    grey level `ink`, on a transparent (`background` None) or opaque grey-level background."""
    m = stroke_mask(digit28, side, width)[..., None]
    rgba = np.empty((side, side, 4), np.float32)
    if background is None:
        rgba[..., :3], rgba[..., 3:] = ink, 255 * m
    else:
        rgba[..., :3], rgba[..., 3:] = background * (1 - m) + ink * m, 255
    return np.rint(rgba).astype(np.uint8)
