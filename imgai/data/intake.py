"""Image intake: decode any user image safely and cheaply, within a budget of decoded pixels.

Every image that enters imgai (uploads, dataset folders, the CLI) goes through `open_image`,
which either returns a plain RGB picture or raises `ImageError` with one line a user can act on.
What a picture costs is its decoded pixels, not its bytes (a 7000x7000 black PNG is 6 KB): each
image is refused from its header above MAX_PIXELS, decoded no larger than needed (JPEG's scaled
decoding, then `Image.reduce`), and an upload of many files is checked against `PixelBudget`
from the headers alone before a single pixel is decoded. `fit_image` centre-crops and resizes.

    img = open_image(uploaded_bytes, name="cat.jpg"); x = fit_image(img, 32, 3)
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

try:  # HEIC/HEIF (iPhone photos): pillow-heif registers a lazy plugin, the size is read from the header
    import pillow_heif
except ImportError:  # without it a HEIC photo is refused by name (_unidentified), not decoded
    pillow_heif = None
else:
    pillow_heif.register_heif_opener()
    pillow_heif.options.THUMBNAILS = False  # embedded previews and depth maps are never used here:
    pillow_heif.options.DEPTH_IMAGES = False  # not reading them saves work on every photo

MAX_BYTES = 25 * 1024 * 1024  # a 12-48 Mpx phone JPEG is 3-15 MB; 25 MB leaves room for PNG/TIFF
MAX_PIXELS = 50_000_000  # 50 Mpx (~8660x5770): above any phone camera; an RGB decode is ~150 MB
# Shorter side open_image keeps by default: every model input is far smaller (ImageNet 224, a
# digit's working copy 400, a small digit's crop of a 12 Mpx photo still ~150 px), so a bigger
# picture is shrunk while it is decoded (JPEG) or right after (Image.reduce), before the costly
# colour conversion and filtered resizing that made a 49 Mpx image take seconds.
DECODE_SIDE = 1024
# Decoded pixels one upload (a zip, a set of photos) may cost in all. A class set of 500 phone
# JPEGs decodes at 1/8 scale for training (~0.2 Mpx each, ~100 Mpx); 10,000 CIFAR-sized pictures
# are ~10 Mpx; 200 bomb PNGs of 7000x7000 are 9,800 Mpx and are refused from their headers.
# CPU per decoded megapixel: bench/results/hostile.json.
UPLOAD_MEGAPIXELS = 1000

# Pillow's own bomb guard (warning above MAX_IMAGE_PIXELS, DecompressionBombError above twice
# that) is a backstop: we check the header size against MAX_PIXELS ourselves before decoding,
# so lowering Pillow's limit to ours only makes it refuse sooner. Never raise it above ours.
if Image.MAX_IMAGE_PIXELS is None or Image.MAX_IMAGE_PIXELS > MAX_PIXELS:
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS

# Only plain raster formats are decoded: Pillow also knows EPS (which runs Ghostscript), WMF,
# FITS, ... that no user of a teaching app needs and that widen the attack surface.
Image.init()
# HEIF is pillow-heif's: libheif turns the picture upright while it decodes (the irot/imir boxes) and the
# plugin resets the EXIF orientation to 1, so open_image's own EXIF rotation never turns it twice.
_FORMATS = tuple(
    f for f in ("PNG", "JPEG", "MPO", "GIF", "WEBP", "BMP", "DIB", "TIFF", "PPM", "AVIF", "HEIF") if f in Image.ID
)

# Recognisable things that are not (supported) images, for a more helpful refusal.
_KNOWN_OTHER = (
    (b"%PDF", "a PDF document, not an image"),
    (b"PK\x03\x04", "a zip archive, not an image"),
    (b"8BPS", "a Photoshop file; export it as PNG or JPEG"),
    (b"\x00\x00\x01\x00", "an icon file; export it as PNG"),
)


class ImageError(ValueError):
    """str(e) is one clear line for the user, naming the problem (and the file when known)."""


def fail(name: str | None, problem: str, error: type[ValueError] = ImageError) -> ValueError:
    """ERROR("NAME: PROBLEM") on one line, whatever the file name holds: a user-supplied name could carry
    newlines. imgai.data.folder makes its FolderErrors with it too."""
    if name:
        problem = f"{name}: {problem}"
    return error(" ".join(problem.split()))


def _read_bytes(source, name: str | None) -> bytes:
    """Read at most MAX_BYTES + 1 bytes, so an oversized input is never held in memory."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source[: MAX_BYTES + 1])
    elif isinstance(source, (str, os.PathLike)):
        try:
            if os.path.getsize(source) > MAX_BYTES:  # refuse before reading anything
                raise fail(name, f"file too large ({os.path.getsize(source) / 2**20:.0f} MB; "
                                  f"the limit is {MAX_BYTES / 2**20:.0f} MB)")
            with open(source, "rb") as f:
                data = f.read(MAX_BYTES + 1)
        except OSError as e:
            raise fail(name, f"could not read the file ({e.strerror or type(e).__name__})") from None
    elif hasattr(source, "read"):
        if hasattr(source, "seek"):
            try:
                source.seek(0)  # Streamlit's UploadedFile may have been read already
            except (OSError, ValueError):
                pass
        data = source.read(MAX_BYTES + 1)
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError("open_image needs a binary file object (opened with 'rb')")
        data = bytes(data)
    else:
        raise TypeError(f"open_image takes a path, bytes or a binary file, not {type(source).__name__}")
    if len(data) > MAX_BYTES:
        raise fail(name, f"file too large (over {MAX_BYTES / 2**20:.0f} MB)")
    return data


def open_image(source, name: str | None = None, min_side: int | None = DECODE_SIDE) -> Image.Image:
    """Decode a path, bytes or binary file into an RGB image, or raise ImageError (one line).

    EXIF orientation is applied, animations give their first frame, transparency is composited
    on white, and 16-bit / CMYK / palette / float modes are converted. `name` (default: the
    file name of a path or of a file object with `.name`) prefixes the error message.
    A picture whose shorter side is over twice `min_side` is shrunk by a whole factor while it is
    decoded, keeping that side >= min_side (None: keep every pixel).
    """
    if name is None and isinstance(source, (str, os.PathLike)):
        name = Path(source).name
    elif name is None and isinstance(getattr(source, "name", None), str):
        name = Path(source.name).name
    data = _read_bytes(source, name)
    if not data:
        raise fail(name, "empty file (0 bytes)")
    im = _open_header(io.BytesIO(data), name, min_side)
    try:
        im.load()  # first frame only: Image.open leaves animations at frame 0
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise fail(name, "image too large (possibly a decompression bomb)") from None
    except MemoryError:
        raise fail(name, "image too large to decode") from None
    except Exception as e:  # noqa: BLE001 - truncated / corrupt data: OSError, SyntaxError, ...
        if "truncated" in str(e) or "Unexpected end of file" in str(e):  # Pillow's words, libheif's
            raise fail(name, "truncated image file (the end of the file is missing)") from None
        raise fail(name, f"corrupt image file ({_reason(e)})") from None
    try:
        orientation = im.getexif().get(0x0112)  # after load(): a PNG may keep its EXIF after the pixels
    except Exception:  # noqa: BLE001 - a broken EXIF block should not cost the user the picture
        orientation = None
    try:
        im = _shrink(im, min_side)
        if orientation in _ORIENTATIONS:
            im = im.transpose(_ORIENTATIONS[orientation])
        return to_rgb(im)
    except ValueError as e:
        raise fail(name, str(e)) from None
    except MemoryError:
        raise fail(name, "image too large to decode") from None


# EXIF orientation -> the transpose that turns the stored pixels upright (as ImageOps.exif_transpose)
_ORIENTATIONS = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
                 5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
                 8: Image.Transpose.ROTATE_90}


def _open_header(fp, name: str | None, min_side: int | None) -> Image.Image:
    """Image.open on a binary file: the header only, checked against MAX_PIXELS, with JPEG's scaled
    decoding set up for `min_side`. Nothing is decoded yet; im.size is what load() will decode."""
    try:
        with warnings.catch_warnings():  # Pillow warns before it refuses: make its warning the refusal
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(fp, formats=_FORMATS)
    except UnidentifiedImageError:
        fp.seek(0)
        raise fail(name, _unidentified(fp.read(16))) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own check fired while reading the header (a claimed size far above ours).
        raise fail(name, f"image too large (over {MAX_PIXELS / 1e6:.0f} megapixels; "
                          "possibly a decompression bomb)") from None
    except Exception as e:  # noqa: BLE001 - a malformed header can raise almost anything in a plugin
        raise fail(name, f"corrupt image file ({_reason(e)})") from None

    # Size check on the header alone, before a single pixel is decoded.
    w, h = im.size
    if w <= 0 or h <= 0:
        raise fail(name, f"corrupt image file (size {w}x{h})")
    if w * h > MAX_PIXELS:
        raise fail(name, f"image too large ({w}x{h} = {w * h / 1e6:.0f} megapixels; the limit is "
                          f"{MAX_PIXELS / 1e6:.0f})")
    if min_side and im.format in ("JPEG", "MPO") and min(w, h) >= 2 * min_side:
        try:
            # The decoder picks the smallest 1/2..1/8 scale whose shorter side stays >= min_side.
            im.draft("RGB", (min_side, min_side))
        except Exception as e:  # noqa: BLE001 - a malformed header again
            raise fail(name, f"corrupt image file ({_reason(e)})") from None
    return im


# Modes Image.reduce works on directly; the others are converted to one of these first.
_REDUCIBLE = {"L", "LA", "RGB", "RGBA", "I", "F", "CMYK"}


def _shrink(im: Image.Image, min_side: int | None) -> Image.Image:
    """Shrink a decoded image by a whole factor (box average) keeping its shorter side >= min_side."""
    factor = min(im.size) // min_side if min_side else 1
    if factor < 2:
        return im
    if im.mode == "1":
        im = im.convert("L")
    elif im.mode.startswith("I;16"):
        im = im.convert("I")  # 32-bit keeps the 16-bit range, so wide_to_uint8 still scales it as 16-bit
    elif im.mode not in _REDUCIBLE:
        im = to_rgb(im)  # palette (transparency composited on white), YCbCr, LAB, ...
    return im.reduce(factor)


def decoded_pixels(source, name: str | None = None, min_side: int | None = DECODE_SIDE) -> int:
    """Pixels open_image(source, min_side=min_side) would decode, read from the header alone.

    0 for a file open_image would refuse (unreadable, not an image, over MAX_PIXELS): refusing it
    costs nothing, so it costs nothing against a budget either. A path is read only as far as its
    header goes (a few KB), not whole."""
    try:
        if isinstance(source, (str, os.PathLike)):
            if not 0 < os.path.getsize(source) <= MAX_BYTES:
                return 0
            with open(source, "rb") as f:
                im = _open_header(f, name, min_side)
                return im.size[0] * im.size[1]
        data = _read_bytes(source, name)
        if not data:
            return 0
        w, h = _open_header(io.BytesIO(data), name, min_side).size
        return w * h
    except (ImageError, OSError):
        return 0


class PixelBudget:
    """Decoded pixels one upload may cost in all. charge() each file from its header before any
    of them is decoded, so an upload over the budget is refused before it costs anything.

        budget = PixelBudget(); [budget.charge(f) for f in files]  # raises ImageError when over
    """

    def __init__(self, megapixels: float | None = None):  # None: UPLOAD_MEGAPIXELS
        self.limit = int((UPLOAD_MEGAPIXELS if megapixels is None else megapixels) * 1e6)
        self.used = 0

    def charge(self, source, name: str | None = None, min_side: int | None = DECODE_SIDE) -> None:
        self.used += decoded_pixels(source, name, min_side)
        if self.used > self.limit:
            raise ImageError(f"these pictures hold over {self.limit / 1e6:.0f} megapixels in all, the limit "
                             "for one upload; use smaller pictures or fewer of them")


def _reason(e: Exception) -> str:
    msg = str(e).strip().splitlines()
    return msg[0][:120] if msg and msg[0] else type(e).__name__


def _unidentified(data: bytes) -> str:
    head = data[:16]
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"hevc"):
        if pillow_heif is None:
            return "HEIC/HEIF photos need the pillow-heif package (pip install pillow-heif), or export it as JPEG"
        return "corrupt HEIC/HEIF photo (could not read its header)"
    for magic, what in _KNOWN_OTHER:
        if head.startswith(magic):
            return what
    if head.lstrip().startswith((b"<svg", b"<?xml")):
        return "an SVG drawing, not a raster image; export it as PNG"
    return "not an image file (could not identify the format)"


def to_rgb(im: Image.Image) -> Image.Image:
    """Convert any Pillow mode to 8-bit RGB; transparency is composited on white.

    Raises ValueError for modes that cannot be converted."""
    mode = im.mode
    if mode == "RGB":
        return im
    if mode.startswith("I;16") or mode in ("I", "F"):
        # Pillow's own convert("L") clips these to 0..255, so a 16-bit photo turns white.
        return Image.fromarray(wide_to_uint8(np.asarray(im)), "L").convert("RGB")
    if (mode == "P" and "transparency" in im.info) or mode in ("PA", "LA", "La", "RGBA", "RGBa"):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    try:
        # CMYK (Pillow undoes Adobe's inverted CMYK while decoding), YCbCr, LAB, HSV, P, L, 1.
        return im.convert("RGB")
    except (ValueError, OSError):
        raise ValueError(f"unsupported colour mode {mode}") from None


def wide_to_uint8(a: np.ndarray) -> np.ndarray:
    """Scale a 16-bit / int32 / float image to 0..255 by its container range, not by clipping."""
    a = a.astype(np.float64)
    finite = np.isfinite(a)
    if not finite.any():
        return np.zeros(a.shape, np.uint8)
    a = np.where(finite, a, 0.0)
    lo, hi = a.min(), a.max()
    if lo >= 0 and hi <= 1.0 and a.dtype.kind == "f":
        scale = 255.0  # float images are conventionally 0..1
    elif lo >= 0 and hi <= 255:
        scale = 1.0  # an 8-bit image stored wide (common for mode "I" TIFFs)
    elif lo >= 0 and hi <= 65535:
        scale = 255.0 / 65535.0  # 16-bit: 65535 -> 255, the mid-grey stays mid-grey
    else:
        a, scale = a - lo, 255.0 / (hi - lo)  # anything else: stretch its range
    return np.clip(np.rint(a * scale), 0, 255).astype(np.uint8)


def fit_image(img: Image.Image, size: int, channels: int) -> np.ndarray:
    """Centre-crop to a square, resize to size x size; uint8 (size, size, channels), channels 1 or 3."""
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, not {channels}")
    if size < 1:
        raise ValueError(f"size must be positive, not {size}")
    img = to_rgb(img)
    w, h = img.size
    side = min(w, h)
    left, top = (w - side) // 2, (h - side) // 2
    # Crop first, then resize (LANCZOS anti-aliases when shrinking): resizing with a box would
    # let the filter reach outside the square and bleed the cropped-off edges in.
    img = img.crop((left, top, left + side, top + side)).resize((size, size), Image.Resampling.LANCZOS)
    if channels == 1:
        return np.asarray(img.convert("L"), dtype=np.uint8)[:, :, None].copy()
    return np.asarray(img, dtype=np.uint8).copy()


