"""Real HEIC files for tests, made with pillow-heif from the bundled test photos: plain, rotated the way an
iPhone stores a portrait shot (EXIF orientation 6 and an irot box), truncated, and claiming a huge size in
its header (the ispe and clap boxes patched) while holding a tiny picture.

    data = heic_photo("chelsea.jpg", orientation=6); bomb = heic_claiming(100_000, 100_000)
"""
from __future__ import annotations

import io
import struct
from functools import lru_cache
from pathlib import Path

from PIL import Image

PHOTOS = Path(__file__).resolve().parent / "photos"


def heic_bytes(img: Image.Image, orientation: int | None = None, quality: int = 80) -> bytes:
    """img encoded as HEIC by pillow-heif (x265). orientation: the EXIF tag an iPhone writes for a turned
    camera; pillow-heif then stores the pixels as given plus the irot/imir box that turns them upright,
    and keeps the EXIF tag too (as the iPhone does), so a reader that rotates twice is caught."""
    import pillow_heif
    pillow_heif.register_heif_opener()
    kw = {}
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        exif[0x010F] = "Apple"  # Make
        kw["exif"] = exif.tobytes()
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "HEIF", quality=quality, **kw)
    return buf.getvalue()


@lru_cache(maxsize=None)
def heic_photo(name: str = "chelsea.jpg", orientation: int | None = None, size: tuple | None = None) -> bytes:
    img = Image.open(PHOTOS / name)
    if size is not None:
        img = img.resize(size)
    return heic_bytes(img, orientation)


def heic_claiming(width: int, height: int) -> bytes:
    """A valid small HEIC whose header claims width x height: the image's ispe box and the clean-aperture
    (clap) crop pillow-heif writes are patched, so libheif reports that size before decoding anything."""
    b = bytearray(heic_photo("coffee.jpg", size=(64, 48)))
    i = b.find(b"ispe")
    b[i + 8:i + 16] = struct.pack(">II", width, height)  # after the box type: version+flags, then W, H
    j = b.find(b"clap")
    if j >= 0:  # clap: width N/D, height N/D, horizontal offset N/D, vertical offset N/D; whole picture
        b[j + 4:j + 36] = struct.pack(">8i", width, 1, height, 1, 0, 1, 0, 1)
    return bytes(b)


def truncated_heic() -> bytes:
    data = heic_photo()
    return data[: len(data) * 2 // 3]
