"""Hostile uploads, built in memory: what a student could send to hurt the server, one case per attack.

Each case is an upload of one kind: "zip" (a zip of class folders, read by imgai.data.folder.load_image_folder),
"image" (one picture, read by imgai.data.intake.open_image), "photos" (a set of pictures, as Teach reads them,
checked against imgai.data.intake.PixelBudget) or "points" (a CSV of 2-D points for the GAN playground). `expect` is a piece of the one-line refusal, or None when the
upload must be read (for a picture too big to keep whole: read shrunk). tests/test_hostile_uploads.py runs
them all; bench/bench_hostile.py measures the CPU seconds each costs before it is refused or read.

    for case in hostile_cases(): ...  # case.name, case.kind, case.data, case.expect
"""
from __future__ import annotations

import io
import stat
import warnings
import zipfile
import zlib
from dataclasses import dataclass

import numpy as np
from PIL import Image

from heic_corpus import heic_claiming, heic_photo, truncated_heic
from image_corpus import _png, bomb_png, corpus_cases

# Names a student could type to inject markup where a file name is shown: markdown links and images,
# HTML, a newline that would start a second message line.
CRAFTED_NAMES = ("[click me](http://evil.example/x).png", "![x](http://evil.example/pixel.png).png",
                 "<img src=x onerror=alert(1)>.png", "**bold**\n# heading.png")
CRAFTED_CLASS = "<b onmouseover=alert(1)>dogs"  # a class folder name (no slash: that would nest folders)


@dataclass
class HostileCase:
    name: str
    kind: str            # "zip", "image", "photos" or "points"
    data: object         # zip/image bytes, or for "photos" a list of (file name, bytes)
    expect: str | None   # a piece of the one-line refusal; None: read (maybe shrunk)
    what: str            # the attack, in words (for the benchmark's table)


def _encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def _zip(entries) -> bytes:
    """entries: (name or ZipInfo, bytes) pairs."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, data in entries:
            zf.writestr(name, data)
    return buf.getvalue()


def _symlink(name: str, target: str):
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # Unix, so the mode bits count
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target.encode()


def gray_png(width: int, height: int, level: int = 0) -> bytes:
    """An 8-bit grey PNG of one level, hand-built (encoding it with Pillow takes seconds at 49 Mpx)."""
    z = zlib.compressobj(9)
    row = b"\x00" + bytes([level]) * width
    body = b"".join(z.compress(row * 256) for _ in range(height // 256)) + z.compress(row * (height % 256))
    return _png(width, height, 8, 0, body + z.flush())


def big_jpeg(width: int, height: int) -> bytes:
    """A JPEG photo-sized and then some: smooth colour gradients, so it stays a few MB."""
    yy, xx = np.mgrid[0:height:8, 0:width:8]
    small = np.stack([xx * 255 // width, yy * 255 // height, np.full_like(xx, 128)], -1).astype(np.uint8)
    return _encode(Image.fromarray(small).resize((width, height), Image.Resampling.BILINEAR), "JPEG", quality=80)


def _small_png(color) -> bytes:
    return _encode(Image.new("RGB", (12, 8), color), "PNG")


def _many_frames_gif(frames: int = 500) -> bytes:
    imgs = [Image.new("P", (64, 64), i % 2) for i in range(frames)]
    for im in imgs:
        im.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    buf = io.BytesIO()
    imgs[0].save(buf, "GIF", save_all=True, append_images=imgs[1:], duration=20, loop=0)
    return buf.getvalue()


def hostile_cases(bomb_files: int = 200, side: int = 7000, jpeg_side: tuple[int, int] = (8000, 6000)) -> list:
    """All cases. The defaults are the sizes of the attacks that were run against the app (200 PNGs of
    7000x7000 in a 9.5 MB zip, a 49-megapixel picture); tests pass smaller ones where the size does not
    matter to the outcome."""
    red, blue = _small_png((255, 0, 0)), _small_png((0, 0, 255))
    good = [("cats/a.png", red), ("cats/b.png", red), ("dogs/c.png", blue), ("dogs/d.png", blue)]
    bomb = bomb_png(side, side)  # 1-bit black: a few KB each
    corpus = {c.name: c for c in corpus_cases()}
    odd = [n for n, c in corpus.items() if c.expect is not None]   # 16-bit, CMYK, palette+alpha, EXIF, GIF, ...
    bad = [n for n, c in corpus.items() if c.expect is None and not n.startswith("bomb")]  # empty, truncated, ...
    inner = _zip(good)
    gray = gray_png(side, side, 200)
    cases = [
        HostileCase("zip-pixel-bomb.zip", "zip",
                    _zip([(f"{'cats' if i % 2 else 'dogs'}/{i}.png", bomb) for i in range(bomb_files)]),
                    "megapixels", f"{bomb_files} PNGs of {side}x{side} black in one zip"),
        HostileCase("zip-under-budget.zip", "zip",
                    _zip([(f"{'cats' if i % 2 else 'dogs'}/{i}.png", gray) for i in range(20)]), None,
                    f"20 grey PNGs of {side}x{side}, just under the pixel budget (read, shrunk)"),
        HostileCase("zip-traversal.zip", "zip", _zip(good + [("cats/../../evil.png", red)]), "outside the folder",
                    "an entry named ../../evil.png"),
        HostileCase("zip-absolute.zip", "zip", _zip(good + [("/etc/evil.png", red)]), "absolute path",
                    "an entry with an absolute path"),
        HostileCase("zip-symlink.zip", "zip", _zip(good + [_symlink("cats/link.png", "/etc/passwd")]),
                    "symbolic link", "a symbolic link to /etc/passwd"),
        HostileCase("zip-nested.zip", "zip", _zip([("cats/inner.zip", inner), ("dogs/inner.zip", inner)]),
                    "at least two class folders", "zips inside the zip (not opened)"),
        HostileCase("zip-decompression-bombs.zip", "zip",
                    _zip([("cats/bomb.png", corpus["bomb_100mpx.png"].data),
                          ("dogs/claimed.png", corpus["bomb_claimed.png"].data)]),
                    "at least two class folders", "decompression-bomb headers (100 Mpx, 10^10 px claimed)"),
        HostileCase("zip-bad-files.zip", "zip", _zip(good + [(f"cats/{n}", corpus[n].data) for n in bad]), None,
                    "zero-byte, truncated, corrupt, mislabelled files beside good ones (skipped, counted)"),
        HostileCase("zip-odd-modes.zip", "zip", _zip([(f"{'cats' if i % 2 else 'dogs'}/{n}", corpus[n].data)
                                                      for i, n in enumerate(odd)]), None,
                    "16-bit, CMYK, palette with transparency, animated, EXIF-rotated pictures"),
        HostileCase("zip-crafted-names.zip", "zip",
                    _zip([(f"cats/{n.replace(chr(10), ' ')}", red) for n in CRAFTED_NAMES]
                         + [(f"{CRAFTED_CLASS}/[x](http:evil.example).png", blue)]), None,
                    "file and folder names holding markdown and HTML"),
        HostileCase("huge-49mpx.png", "image", bomb, None, f"one {side}x{side} 1-bit PNG (shrunk while read)"),
        HostileCase("huge-49mpx-gray.png", "image", gray, None,
                    f"one {side}x{side} 8-bit PNG (shrunk while read)"),
        HostileCase("huge-48mpx.jpg", "image", big_jpeg(*jpeg_side), None,
                    f"one {jpeg_side[0]}x{jpeg_side[1]} JPEG (decoded at reduced scale)"),
        HostileCase("bomb-100mpx.png", "image", corpus["bomb_100mpx.png"].data, "too large",
                    "a 100-megapixel PNG of 12 KB"),
        HostileCase("bomb-header.png", "image", corpus["bomb_claimed.png"].data, "too large",
                    "a header claiming 100000x100000 pixels"),
        HostileCase("many-frames.gif", "image", _many_frames_gif(), None, "a GIF of 500 frames (first one read)"),
        HostileCase(CRAFTED_NAMES[0], "image", b"<html><script>alert(1)</script></html>", "not an image",
                    "a web page named like a markdown link"),
        HostileCase(CRAFTED_NAMES[3], "image", b"", "empty file", "a zero-byte file whose name holds a newline"),
        HostileCase("photos-pixel-bomb", "photos", [(f"{i}.png", bomb) for i in range(bomb_files)],
                    "megapixels", f"{bomb_files} PNGs of {side}x{side} as one set of photos"),
    ] + _heic_cases(bomb_files, side) + _points_cases() + _camera_cases()
    return cases


def _points_cases() -> list:
    """The GAN playground's CSV of 2-D points (imgai.playground.read_points_csv): a budget in bytes and rows,
    and one line for every way a spreadsheet can go wrong."""
    rows = lambda n: "".join(f"{i % 97 * 0.01},{i % 89 * 0.02}\n" for i in range(n)).encode()
    return [
        HostileCase("points-huge.csv", "points", b"1,2\n" * 400_000, "at most 1 MB", "a 1.6 MB CSV of points"),
        HostileCase("points-many-rows.csv", "points", b"1,2\n" * 200_000 + b"3,4\n", "at most",
                    "a CSV of 200,001 points within a few hundred KB of rows"),
        HostileCase("points-nan.csv", "points", b"x,y\n1,2\nnan,3\n4,5\n", "not a finite number",
                    "a NaN cell"),
        HostileCase("points-inf.csv", "points", b"1,2\ninf,3\n", "not a finite number", "an infinite cell"),
        HostileCase("points-words.csv", "points", b"x,y\n1,2\ncat,dog\n", "is not a number",
                    "a cell that is not a number"),
        HostileCase("points-single.csv", "points", b"1,2\n", "at least", "a single point"),
        HostileCase("points-all-equal.csv", "points", b"1,2\n" * 50, "same point", "every point the same"),
        HostileCase("points-three-columns.csv", "points", b"1,2,3\n4,5,6\n", "columns",
                    "rows of three numbers"),
        HostileCase("points-formula.csv", "points", b"1,2\n=HYPERLINK(\"http://evil.example\"),3\n",
                    "spreadsheet formula", "a formula cell"),
        HostileCase("points-binary.csv", "points", b"\x00\x01\x02" * 100, "not a text", "a binary file"),
        HostileCase("points-good.csv", "points", b"x,y\n" + rows(500), None, "500 ordinary points"),
    ]


def _camera_cases() -> list:
    """Camera captures, as Streamlit's camera box hands them over (a JPEG of the frame)."""
    black = _encode(Image.new("RGB", (640, 480)), "JPEG")
    return [
        HostileCase("camera-black-frame.jpg", "image", black, None, "a black frame (a covered camera)"),
        HostileCase("camera-empty.jpg", "image", b"", "empty file", "an empty capture"),
    ]


def _heic_cases(bomb_files: int, side: int) -> list:
    """iPhone photos (HEIC), read through pillow-heif: the size comes from the header, so the same limits hold."""
    photo, jpeg = heic_photo(size=(96, 64)), _encode(Image.new("RGB", (96, 64), (0, 200, 0)), "JPEG")
    pets = [(f"{'cats' if i % 2 else 'dogs'}/{i}.heic", heic_photo(p, size=(96, 64)))
            for i, p in enumerate(["chelsea.jpg", "coffee.jpg"] * 2)]
    claimed = heic_claiming(side, side)  # a 64x48 picture whose header says side x side
    return [
        HostileCase("heic-truncated.heic", "image", truncated_heic(), "truncated", "a HEIC photo cut short"),
        HostileCase("heic-header-huge.heic", "image", heic_claiming(100_000, 100_000), "too large",
                    "a HEIC whose header claims 100000x100000 pixels"),
        HostileCase("heic-header-60mpx.heic", "image", heic_claiming(8000, 7500), "too large",
                    "a HEIC whose header claims 8000x7500 (over the 50 Mpx limit)"),
        HostileCase("photos-heic-pixel-bomb", "photos", [(f"{i}.heic", claimed) for i in range(bomb_files)],
                    "megapixels", f"{bomb_files} HEICs claiming {side}x{side} as one set of photos"),
        HostileCase("heic-named.jpg", "image", photo, None, "a HEIC photo named .jpg (read by its content)"),
        HostileCase("jpeg-named.heic", "image", jpeg, None, "a JPEG named .heic (read by its content)"),
        HostileCase("zip-heic.zip", "zip", _zip(pets), None, "a zip of HEIC photos in class folders"),
    ]


def read_upload(case: HostileCase):
    """Read a case as the app reads that kind of upload: what was read, or the one-line refusal raised.

    zip: load_image_folder (Train's own data set); image: open_image, then the centre crop a classifier's
    input needs; photos: Teach's order, every header charged to one PixelBudget first, then decoded."""
    from imgai.data.folder import load_image_folder
    from imgai.data.intake import PixelBudget, fit_image, open_image

    if case.kind == "zip":
        return load_image_folder(case.data)
    if case.kind == "image":
        return fit_image(open_image(case.data, name=case.name), 224, 3)
    if case.kind == "points":
        from imgai.playground import read_points_csv
        return read_points_csv(case.data, case.name)
    budget = PixelBudget()
    for name, data in case.data:
        budget.charge(data, name, min_side=224)
    return [fit_image(open_image(data, name=name, min_side=224), 224, 3) for name, data in case.data]
