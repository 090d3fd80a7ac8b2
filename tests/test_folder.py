"""imgai.data.folder: hostile zips are refused in one line and leave nothing behind; class folders load."""

import io
import stat
import warnings
import zipfile

import numpy as np
import pytest
from PIL import Image

from image_corpus import corpus_cases, write_corpus
from imgai.data import folder, intake
from imgai.data.folder import FolderError, extract_zip, load_image_folder

pytestmark = pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")


def _png(color) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (12, 8), color).save(buf, "PNG")
    return buf.getvalue()


RED, BLUE = _png((255, 0, 0)), _png((0, 0, 255))


def _zip(entries) -> bytes:
    """entries: (name or ZipInfo, bytes) pairs."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name" is what one test wants
        for name, data in entries:
            zf.writestr(name, data)
    return buf.getvalue()


def _refused(fn, *args, **kw) -> str:
    with pytest.raises(FolderError) as info:
        fn(*args, **kw)
    msg = str(info.value)
    assert msg and "\n" not in msg
    return msg


PETS = [("cats/a.png", RED), ("cats/b.png", RED), ("dogs/c.png", BLUE),
        ("dogs/readme.txt", b"not an image"), ("dogs/broken.png", b"\x89PNG\r\n\x1a\n broken"),
        ("notes.md", b"# loose file"), (".DS_Store", b"x"), ("__MACOSX/cats/._a.png", b"x"),
        ("cats/.hidden.png", b"x")]


def _check_pets(x, y, names, skipped, channels=3):
    assert names == ["cats", "dogs"]
    assert x.dtype == np.uint8 and x.shape == (3, 32, 32, channels)
    assert y.dtype == np.int64 and y.tolist() == [0, 0, 1]
    assert skipped == 3  # readme.txt, broken.png, notes.md; OS clutter is not counted
    if channels == 3:
        assert (x[0] == [255, 0, 0]).all() and (x[2] == [0, 0, 255]).all()


def test_zip_of_class_folders(tmp_path):
    _check_pets(*load_image_folder(_zip(PETS)))
    _check_pets(*load_image_folder(io.BytesIO(_zip(PETS)), channels=1), channels=1)
    path = tmp_path / "pets.zip"
    path.write_bytes(_zip(PETS))
    _check_pets(*load_image_folder(path, work_dir=tmp_path / "work"))


def test_zip_with_one_wrapping_folder():
    wrapped = [(f"pets/{name}", data) for name, data in PETS if not name.startswith(("__", "."))]
    _check_pets(*load_image_folder(_zip(wrapped)))


def test_directory_of_class_folders_and_bad_images(tmp_path):
    for name, data in PETS:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    (tmp_path / "empty_class").mkdir()
    _check_pets(*load_image_folder(tmp_path))
    paths = write_corpus(tmp_path / "odd")  # the whole bad-image corpus as a third class
    x, y, names, skipped = load_image_folder(tmp_path, size=16)
    n_ok = sum(c.expect is not None for c in corpus_cases())
    assert names == ["cats", "dogs", "odd"] and x.shape == (3 + n_ok, 16, 16, 3)
    assert skipped == 3 + len(paths) - n_ok


@pytest.mark.parametrize("evil", ["../evil.png", "/abs/evil.png", "C:/evil.png", "cats/../../evil.png",
                                  "cats\\..\\..\\evil.png"])
def test_zip_slip_is_refused_and_nothing_is_written(tmp_path, evil):
    dest = tmp_path / "dest"
    msg = _refused(extract_zip, _zip([("cats/a.png", RED), (evil, BLUE)]), dest)
    assert "refused" in msg
    assert not list(tmp_path.rglob("evil.png"))
    assert not dest.exists() or not any(dest.iterdir())


def test_symlink_entry_is_refused(tmp_path):
    link = zipfile.ZipInfo("cats/link.png")
    link.create_system = 3  # Unix, so the mode bits below count
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    assert "symbolic link" in _refused(extract_zip, _zip([("cats/a.png", RED), (link, "/etc/passwd")]), tmp_path)
    assert not any(tmp_path.iterdir())


def test_encrypted_entry_is_refused(tmp_path):
    data = bytearray(_zip([("cats/a.png", RED), ("dogs/b.png", BLUE)]))
    # Set the "encrypted" flag bit in every local and central header (zipfile cannot encrypt).
    for sig, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        i = data.find(sig)
        while i >= 0:
            data[i + offset] |= 0x01
            i = data.find(sig, i + 4)
    assert "encrypted" in _refused(extract_zip, bytes(data), tmp_path)


def test_zip_bomb_by_declared_size(tmp_path):
    bomb = _zip([("cats/a.png", RED), ("dogs/zeros.png", bytes(3 * 2**20))])  # 3 MB -> ~3 KB
    assert len(bomb) < 20_000
    assert "zip bomb" in _refused(extract_zip, bomb, tmp_path, max_bytes=2**20)
    assert not any(tmp_path.iterdir())


def test_zip_that_holds_more_than_it_declares(tmp_path):
    data = bytearray(_zip([("cats/a.png", RED), ("dogs/zeros.png", bytes(100_000))]))
    # Rewrite the second entry's declared uncompressed size (local + central header) to 100 bytes.
    for sig, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        i = data.find(sig, data.find(sig) + 4)
        data[i + offset:i + offset + 4] = (100).to_bytes(4, "little")
    _refused(extract_zip, bytes(data), tmp_path)  # refused as a bomb or as corrupt: never extracted
    assert not any(tmp_path.iterdir())


def test_too_many_files(tmp_path, monkeypatch):
    many = _zip([(f"cats/{i}.png", RED) for i in range(4)] + [(f"dogs/{i}.png", BLUE) for i in range(2)])
    assert "too many files" in _refused(extract_zip, many, tmp_path, max_files=5)
    assert "too many" in _refused(load_image_folder, many, max_files=3)
    monkeypatch.setattr(folder, "MAX_ZIP_ENTRIES", 5)
    assert "too many entries" in _refused(extract_zip, many, tmp_path)


def test_oversized_entry_is_skipped_and_counted(monkeypatch):
    monkeypatch.setattr(intake, "MAX_BYTES", len(RED) + 10)
    x, y, names, skipped = load_image_folder(_zip([("cats/a.png", RED), ("cats/big.png", RED + bytes(100)),
                                                   ("dogs/b.png", BLUE)]))
    assert len(x) == 2 and skipped == 1


def test_duplicate_entries_are_refused(tmp_path):
    assert "clashes" in _refused(extract_zip, _zip([("cats/a.png", RED), ("cats/a.png", BLUE)]), tmp_path)


def test_one_class_only_is_refused():
    msg = _refused(load_image_folder, _zip([("cats/a.png", RED), ("cats/b.png", RED)]))
    assert "at least two" in msg and "cats" in msg


def test_a_class_without_images_does_not_count():
    msg = _refused(load_image_folder, _zip([("cats/a.png", RED), ("dogs/notes.txt", b"woof")]))
    assert "at least two" in msg and "1 files skipped" in msg


def test_not_a_folder_nor_a_zip(tmp_path):
    assert "not a valid zip" in _refused(load_image_folder, b"hello")
    (tmp_path / "a.txt").write_text("hello")
    assert "not a folder or a zip" in _refused(load_image_folder, tmp_path / "a.txt")
    assert "no such folder" in _refused(load_image_folder, tmp_path / "missing")
    assert "no class folders" in _refused(load_image_folder, _zip([("a.png", RED), ("b.png", BLUE)]))


def test_folder_and_intake_make_their_one_line_errors_with_one_helper():
    assert getattr(folder._fail, "func", None) is intake.fail        # not a second copy of the logic
    e = folder._fail("evil\nname.zip", "not a valid zip file")
    assert type(e) is FolderError and str(e) == "evil name.zip: not a valid zip file"
    e = intake.fail("a\r\nb.png", "empty file (0 bytes)")
    assert type(e) is intake.ImageError and str(e) == "a b.png: empty file (0 bytes)"
