"""Your own image dataset: safe zip extraction and loading of one-sub-folder-per-class images.

A dataset is a folder (or a zip of one) holding a sub-folder per class: `cats/`, `dogs/`, ...
Zips come from strangers over the web, so extraction refuses anything that could write outside
its folder, fill the disk or hide behind a password; every image goes through
`intake.open_image`, and files that are not images, or are broken, are skipped and counted.
What an upload costs is its decoded pixels: all headers are read first and the upload is refused
when they add up to more than a budget, before a single pixel is decoded. A `progress` callback
is called between files; whatever it raises stops the reading (the app raises when its page is
gone) and nothing is left behind.

    x, y, class_names, skipped = load_image_folder("pets.zip", size=32, channels=3)
"""

from __future__ import annotations

import io
import os
import re
import shutil
import stat
import tempfile
import zipfile
import zlib
from functools import partial
from pathlib import Path

import numpy as np

from imgai.data import intake

MAX_FILES = 10_000  # images per dataset: a classroom set; decoding 10k phone photos takes minutes
MAX_ZIP_ENTRIES = 50_000  # every entry, folders and __MACOSX clutter included: bounds the scan
MAX_TOTAL_BYTES = 512 * 2**20  # uncompressed bytes a zip may expand to (zip bombs claim far more)
MAX_ARRAY_BYTES = 2 * 2**30  # the returned uint8 array: 10k images at 256x256x3 is ~2 GB
MAX_SIZE = 512  # largest side length load_image_folder resizes to
IMAGE_SUFFIXES = frozenset(
    ".png .jpg .jpeg .jpe .jfif .gif .webp .bmp .dib .tif .tiff .ppm .pgm .pbm .pnm .avif .heic .heif".split()
)
_IGNORED_NAMES = frozenset({"__MACOSX", "Thumbs.db", "desktop.ini"})
_DRIVE = re.compile(r"^[A-Za-z]:")


class FolderError(ValueError):
    """str(e) is one clear line for the user, naming the dataset and the problem."""


_fail = partial(intake.fail, error=FolderError)   # FolderError("NAME: PROBLEM"), one line


def _ignored(part: str) -> bool:
    """Operating-system clutter: macOS resource forks and .DS_Store, Windows thumbnails."""
    return part.startswith(".") or part in _IGNORED_NAMES


def _display_name(source) -> str:
    if isinstance(source, (str, os.PathLike)):
        return Path(source).name or str(source)
    name = getattr(source, "name", None)
    return Path(name).name if isinstance(name, str) else "zip file"


def _entry_parts(filename: str, zip_name: str) -> list[str]:
    """The path components of a zip entry, or FolderError if it could land outside the folder."""
    name = filename.replace("\\", "/")  # zips made on Windows may use backslashes
    if name.startswith("/") or _DRIVE.match(name):
        raise _fail(zip_name, f"refused: entry {filename!r} has an absolute path")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise _fail(zip_name, f"refused: entry {filename!r} points outside the folder (..)")
    if any("\x00" in p for p in parts):
        raise _fail(zip_name, f"refused: entry {filename!r} has an invalid name")
    return parts


def extract_zip(zip_source, dest_dir, *, max_files: int | None = None, max_bytes: int | None = None,
                progress=None) -> Path:
    """Extract a zip (path, bytes or binary file) into a new folder inside `dest_dir`.

    Returns the class-folder root: the extraction folder, or the single top-level folder that
    holds the class folders. Raises FolderError (one line) for path escapes (../, absolute
    paths, drive letters), symlinks and special files, encrypted entries, more than
    `max_files` files (default MAX_FILES) or more than `max_bytes` uncompressed bytes (default
    MAX_TOTAL_BYTES; checked on the declared sizes first, then on the bytes actually written).
    __MACOSX and dot-files are ignored; nothing is left behind when it refuses. progress("unpacking",
    done, total) is called before each file; what it raises stops the extraction (nothing left behind).
    """
    return _extract_zip(zip_source, dest_dir, max_files, max_bytes, progress)[0]


def _extract_zip(zip_source, dest_dir, max_files=None, max_bytes=None, progress=None) -> tuple[Path, int]:
    """extract_zip, also returning how many files were left out for being over the per-file size."""
    max_files = MAX_FILES if max_files is None else max_files
    max_bytes = MAX_TOTAL_BYTES if max_bytes is None else max_bytes
    name = _display_name(zip_source)
    if isinstance(zip_source, (bytes, bytearray, memoryview)):
        zip_source = io.BytesIO(bytes(zip_source))
    elif isinstance(zip_source, (str, os.PathLike)):
        try:
            if os.path.getsize(zip_source) > max_bytes:
                raise _fail(name, f"zip file too large (over {max_bytes / 2**20:.0f} MB)")
        except OSError as e:
            raise _fail(name, f"could not read the file ({e.strerror or type(e).__name__})") from None
    elif hasattr(zip_source, "seek"):
        zip_source.seek(0)  # an uploaded file may have been read already
    try:
        zf = zipfile.ZipFile(zip_source)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
        raise _fail(name, "not a valid zip file") from None

    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ZIP_ENTRIES:
            raise _fail(name, f"too many entries in the zip ({len(infos)}; the limit is {MAX_ZIP_ENTRIES})")
        plan, dirs, n_files, declared, too_big = [], [], 0, 0, 0
        for info in infos:
            parts = _entry_parts(info.filename, name)
            if not parts or any(_ignored(p) for p in parts):
                continue
            mode = info.external_attr >> 16  # Unix permission and type bits, when made on Unix
            if stat.S_ISLNK(mode):
                raise _fail(name, f"refused: entry {info.filename!r} is a symbolic link")
            if info.flag_bits & 0x1:
                raise _fail(name, "encrypted (password-protected) zips are not supported")
            if info.is_dir() or stat.S_ISDIR(mode):
                dirs.append(parts)
                continue
            if stat.S_IFMT(mode) not in (0, stat.S_IFREG):
                raise _fail(name, f"refused: entry {info.filename!r} is not a regular file")
            if info.file_size > intake.MAX_BYTES:
                too_big += 1  # open_image would refuse it anyway: skip it, count it
                continue
            n_files += 1
            declared += info.file_size
            if n_files > max_files:
                raise _fail(name, f"too many files (over {max_files})")
            if declared > max_bytes:
                raise _fail(name, f"unpacks to over {max_bytes / 2**20:.0f} MB (the limit); "
                                  "possibly a zip bomb")
            plan.append((info, parts))

        Path(dest_dir).mkdir(parents=True, exist_ok=True)
        out = Path(tempfile.mkdtemp(prefix="zip-", dir=dest_dir)).resolve()
        try:
            for parts in dirs:
                out.joinpath(*parts).mkdir(parents=True, exist_ok=True)
            written = 0
            for done, (info, parts) in enumerate(plan):
                if progress is not None:
                    progress("unpacking", done, len(plan))
                target = out.joinpath(*parts)
                if not target.resolve().is_relative_to(out):  # belt and braces after _entry_parts
                    raise _fail(name, f"refused: entry {info.filename!r} points outside the folder")
                target.parent.mkdir(parents=True, exist_ok=True)
                size = 0
                # "xb": a second entry with the same name must not overwrite the first.
                with zf.open(info) as src, open(target, "xb") as dst:
                    while chunk := src.read(1 << 20):
                        # Count what is really written, not what the headers declare (zipfile
                        # itself stops at the declared size today; this does not rely on it).
                        size += len(chunk)
                        written += len(chunk)
                        if size > info.file_size or written > max_bytes:
                            raise _fail(name, "refused: the zip holds more data than it declares "
                                              "(possibly a zip bomb)")
                        dst.write(chunk)
        except FolderError:
            shutil.rmtree(out, ignore_errors=True)
            raise
        except FileExistsError:
            shutil.rmtree(out, ignore_errors=True)
            raise _fail(name, f"refused: entry {info.filename!r} clashes with another entry") from None
        except (zipfile.BadZipFile, EOFError, zlib.error) as e:
            shutil.rmtree(out, ignore_errors=True)
            raise _fail(name, f"corrupt zip file ({str(e).strip() or type(e).__name__})") from None
        except NotImplementedError:
            shutil.rmtree(out, ignore_errors=True)
            raise _fail(name, "the zip uses an unsupported compression method; re-zip it") from None
        except (OSError, RuntimeError) as e:
            shutil.rmtree(out, ignore_errors=True)
            raise _fail(name, f"could not extract the zip ({type(e).__name__}: {e})") from None
        except BaseException:  # stopped by the progress callback (a closed page), or interrupted
            shutil.rmtree(out, ignore_errors=True)
            raise
    return _class_root(out), too_big


def _visible(path: Path) -> tuple[list[Path], list[Path]]:
    """(sub-folders, files) of a folder, without OS clutter, sorted by name."""
    dirs, files = [], []
    for p in sorted(path.iterdir(), key=lambda p: p.name):
        if _ignored(p.name):
            continue
        (dirs if p.is_dir() else files).append(p)
    return dirs, files


def _class_root(path: Path) -> Path:
    """Step into wrapping folders: `pets.zip` often holds `pets/cats/...`, not `cats/...`.

    Only while the folder holds nothing but one sub-folder that itself has sub-folders, so a
    zip with a single class (`cats/*.jpg`) still reports that class, not "no classes"."""
    for _ in range(4):
        dirs, files = _visible(path)
        if len(dirs) != 1 or files or not _visible(dirs[0])[0]:
            break
        path = dirs[0]
    return path


def load_image_folder(path_or_zip, size: int = 32, channels: int = 3, max_files: int = MAX_FILES,
                      work_dir=None, progress=None, megapixels: float | None = None,
                      ) -> tuple[np.ndarray, np.ndarray, list[str], int]:
    """Load a folder with one sub-folder per class, or a zip of one (path, bytes or binary file).

    Returns (x uint8 (N, size, size, channels), y int64 (N,), class_names sorted, skipped):
    each image centre-cropped and resized; files that are not images or cannot be decoded are
    skipped and counted; classes without a single image are left out. A zip is extracted into
    `work_dir` when given (and left there), else into a temporary folder that is removed.
    Raises FolderError (one line) unless at least two classes have images, or when the images'
    headers add up to more than `megapixels` of decoded pixels (default intake.UPLOAD_MEGAPIXELS;
    JPEGs count at the reduced scale they are decoded at), before any of them is decoded.
    progress(stage, done, total), stage "unpacking", "checking" or "reading", is called before each
    file; whatever it raises stops the loading and propagates (temporary files are removed).
    """
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, not {channels}")
    if not 1 <= size <= MAX_SIZE:
        raise ValueError(f"size must be between 1 and {MAX_SIZE}, not {size}")
    name = _display_name(path_or_zip)
    if isinstance(path_or_zip, (str, os.PathLike)):
        path = Path(path_or_zip)
        if path.is_dir():
            return _load_classes(path, name, size, channels, max_files, 0, progress, megapixels)
        if not path.is_file():
            raise _fail(name, "no such folder or zip file")
        if not zipfile.is_zipfile(path):
            raise _fail(name, "not a folder or a zip file")
    if work_dir is not None:
        root, skipped = _extract_zip(path_or_zip, work_dir, max_files, progress=progress)
        return _load_classes(root, name, size, channels, max_files, skipped, progress, megapixels)
    with tempfile.TemporaryDirectory(prefix="imgai-") as tmp:
        root, skipped = _extract_zip(path_or_zip, tmp, max_files, progress=progress)
        return _load_classes(root, name, size, channels, max_files, skipped, progress, megapixels)


def _class_files(folder: Path, name: str, max_files: int, seen: int) -> tuple[list[Path], int, int]:
    """(image files under a class folder, recursively; files skipped as non-images; new count)."""
    images, others = [], 0
    # followlinks=False: a symlink loop in a local folder must not walk forever.
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not _ignored(d))
        for fname in sorted(filenames):
            if _ignored(fname):
                continue
            seen += 1
            if seen > 4 * max_files:  # bounds the walk of a huge tree of non-image files too
                raise _fail(name, f"too many files (over {4 * max_files})")
            if Path(fname).suffix.lower() in IMAGE_SUFFIXES:
                images.append(Path(dirpath) / fname)
                if len(images) > max_files:
                    raise _fail(name, f"too many images (over {max_files})")
            else:
                others += 1
    return images, others, seen


def _load_classes(root: Path, name: str, size: int, channels: int, max_files: int, skipped: int,
                  progress=None, megapixels: float | None = None,
                  ) -> tuple[np.ndarray, np.ndarray, list[str], int]:
    dirs, loose = _visible(root)
    skipped += len(loose)  # files beside the class folders belong to no class
    per_class, seen, total = [], 0, 0
    for d in dirs:
        files, others, seen = _class_files(d, name, max_files, seen)
        skipped += others
        total += len(files)
        if total > max_files:
            raise _fail(name, f"too many images (over {max_files})")
        per_class.append((d.name, files))
    if not dirs:
        raise _fail(name, "no class folders found; put the images in one sub-folder per class "
                          "(e.g. cats/, dogs/)")
    if total * size * size * channels > MAX_ARRAY_BYTES:
        raise _fail(name, f"{total} images at {size}x{size} would need over "
                          f"{MAX_ARRAY_BYTES / 2**30:.0f} GB; use fewer images or a smaller size")

    # Twice the target size is all the centre-crop + resize needs: JPEGs decode at the smallest
    # 1/2..1/8 scale still above it, other formats are box-reduced right after decoding.
    min_side = 2 * size
    # What decoding will cost, from the headers alone: refuse a pixel bomb before decoding any of it.
    budget = intake.PixelBudget(megapixels)
    done = 0
    for _, files in per_class:
        for f in files:
            if progress is not None:
                progress("checking", done, total)
            done += 1
            try:
                budget.charge(f, min_side=min_side)
            except intake.ImageError as e:
                raise _fail(name, str(e)) from None

    x = np.empty((total, size, size, channels), np.uint8)
    y = np.empty(total, np.int64)
    class_names, n, done = [], 0, 0
    for class_name, files in per_class:
        start = n
        for f in files:
            if progress is not None:
                progress("reading", done, total)
            done += 1
            try:
                img = intake.open_image(f, name=f"{class_name}/{f.relative_to(root / class_name)}", min_side=min_side)
            except intake.ImageError:
                skipped += 1
                continue
            x[n] = intake.fit_image(img, size, channels)
            y[n] = len(class_names)
            n += 1
        if n > start:
            class_names.append(class_name)
    if len(class_names) < 2:
        found = f"{len(class_names)} ({', '.join(class_names)})" if class_names else "none"
        raise _fail(name, f"need at least two class folders with images; classes with images: {found}"
                          + (f"; {skipped} files skipped (not images, or unreadable)" if skipped else ""))
    return x[:n].copy(), y[:n].copy(), class_names, skipped
