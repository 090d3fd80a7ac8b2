"""AppTest tests of the Classify page (app_pages/classify.py), driven through its real widgets: photos and a corpus
of bad files through the file uploader, the ImageNet model on a real photo, teach-your-own on generated photos,
'Inside the network', and the same answers as `python -m imgai classify` for the same files."""
import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

from image_corpus import corpus_cases, phone_photo
from imgai.inference.classify import load_classifier
from imgai.data.intake import open_image
from ui.jobs import NO_BROWSER
from ui.safe_text import md

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "app_pages" / "classify.py")
PHOTOS = Path(__file__).parent / "photos"
CAT_CLASSES = {"tabby", "tiger cat", "Egyptian cat", "Persian cat", "Siamese cat", "lynx"}
MODEL = "test-digits"


@pytest.fixture(scope="module")
def digit_ckpt(tmp_path_factory):
    """A digits CNN trained for one epoch (a few seconds): good enough to read most phone-photo digits."""
    from imgai.models.checkpoint import save_checkpoint
    from imgai.training.runs import RunSpec, default_train_config, prepare_run
    cfg = replace(default_train_config("cnn", "fast"), epochs=1)
    run = prepare_run(RunSpec(model="cnn", preset="fast", dataset="digits", train=cfg), device="cpu")
    last = {}
    for m in run.loop():
        last.update({k: v for k, v in m.items() if isinstance(v, float)})
    meta = {**run.meta, "metrics": {"val_acc": last.get("val_acc")}}
    return save_checkpoint(tmp_path_factory.mktemp("ckpt") / MODEL, run.model, meta)


@pytest.fixture
def models(digit_ckpt):
    """The user's models folder (a fresh temp dir per test, from conftest) holding the test digits model."""
    from imgai.models.checkpoint import models_dir
    d = models_dir()
    d.mkdir(parents=True, exist_ok=True)
    for ext in (".safetensors", ".json"):
        shutil.copy(digit_ckpt.with_suffix(ext), d / (MODEL + ext))
    return d


def start(model_prefix: str | None = MODEL) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=90)
    at.run()
    assert not at.exception, at.exception
    if model_prefix:
        pick = at.selectbox(key="classify_model")
        label = next(o for o in pick.options if o.startswith(model_prefix))
        pick.set_value(label)
        at.run()
        assert not at.exception, at.exception
    return at


def frame_with(at, column: str):
    """The first dataframe on the page with this column (AppTest dataframes carry no key)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def table(at) -> "dict[str, dict]":
    return {row["file"]: row for row in frame_with(at, "top 5").to_dict("records")}


def png(img: Image.Image) -> bytes:
    import io
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def jpeg(img: Image.Image) -> bytes:
    import io
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


# ------------------------------------------------------------------------------------------- photos

def test_digit_photos_and_bad_files_through_the_uploader(models, digits, tmp_path):
    rng = np.random.default_rng(0)
    good = {}
    for i in range(8):
        pixels, label = digits.val_x[i, 0].numpy(), digits.class_names[int(digits.val_y[i])]
        good[f"phone_{i}_{label}.jpg"] = (phone_photo(pixels, rng, rotate_exif=(i == 3)), label)
    bad = {c.name: c.data for c in corpus_cases() if c.expect is None}
    uploads = [(n, data, "image/jpeg") for n, (data, _) in good.items()]
    uploads += [(n, data, "application/octet-stream") for n, data in bad.items()]

    at = start()
    at.file_uploader(key="classify_files").set_value(uploads)
    at.run()
    assert not at.exception, at.exception

    # one clear line per bad file, naming it; the good files are still classified
    errors = [e.value for e in at.error]
    assert len(errors) == len(bad)
    for name, line in zip(bad, errors):
        assert line.startswith(md(name + ":")) and "\n" not in line and "Traceback" not in line  # shown as text
    rows = table(at)
    assert set(rows) == set(good) | set(bad)
    assert all(rows[n]["error"] and not rows[n]["prediction"] for n in bad)
    right = sum(rows[n]["prediction"] == label for n, (_, label) in good.items())
    assert right >= 7, {n: rows[n]["prediction"] for n in good}
    assert any(f"**{len(good)} of {len(uploads)} files classified**" in m.value for m in at.markdown)
    # a result card per good file: photo, model input, saliency overlay
    heads = [m.value for m in at.markdown if "sure" in m.value and "→" in m.value]
    assert len(heads) == len(good)
    caps = image_captions(at)
    assert caps.count("your picture") == len(good)
    assert sum(c.startswith("what the model reads: 28×28") for c in caps) >= len(good)
    assert sum(c.startswith("where it looked (Grad-CAM)") for c in caps) >= len(good)

    # the CLI gives the same answer for the same files: both are Classifier.predict on intake.open_image
    for n, (data, _) in good.items():
        (tmp_path / n).write_bytes(data)
    out = subprocess.run([sys.executable, "-m", "imgai", "classify", "--weights", str(models / MODEL),
                          *[str(tmp_path / n) for n in good]], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.splitlines()
    assert len(lines) == len(good)
    clf = load_classifier(str(models / MODEL))
    for line in lines:
        cli = json.loads(line)
        row = rows[Path(cli["file"]).name]
        # in this process, the page's numbers are exactly those of the library path the CLI takes
        here = clf.predict(open_image(cli["file"]))
        assert (row["prediction"], row["confidence"]) == (here["label"], here["prob"])
        assert row["top 5"] == "; ".join(f"{n} {q:.4f}" for n, q in here["top"])
        # across processes, float rounding may differ in the last digits (seen: up to 2e-4 on a 0.997)
        assert row["prediction"] == cli["label"], (cli, row)
        assert row["confidence"] == pytest.approx(cli["prob"], abs=1e-3), (cli, row)


def test_results_csv_has_a_row_per_file():
    from ui.classify.batch import results_table
    recs = [{"name": "a.png", "error": None, "prediction": {"label": "7", "prob": 0.9, "top": [["7", 0.9]]}},
            {"name": "b.png", "error": "b.png: not an image file (could not identify the format)"}]
    csv = results_table(recs, "digits-cnn").to_csv(index=False).splitlines()
    assert csv[0] == "file,prediction,confidence,top 5,error,model"
    assert csv[1].startswith("a.png,7,0.9,7 0.9000,,digits-cnn")
    assert csv[2].startswith("b.png,,,,b.png: not an image file")


def test_results_csv_cannot_start_a_spreadsheet_formula():
    """A file named like a formula and a taught label like one are written as text, numbers as numbers."""
    import csv
    import io

    from ui.classify.batch import results_csv, results_table
    recs = [{"name": "=HYPERLINK(\"http://x\",\"y\").png", "error": None,
             "prediction": {"label": "@SUM(A1)", "prob": 0.5, "top": [["@SUM(A1)", 0.5], ["-cat", 0.25]]}},
            {"name": "+1.png", "error": "+1.png: not an image file"}]
    rows = list(csv.DictReader(io.StringIO(results_csv(results_table(recs, "-model")).decode())))
    for row in rows:
        for name, cell in row.items():
            assert not cell.startswith(("=", "+", "-", "@")), (name, cell)
    assert rows[0]["file"] == "'=HYPERLINK(\"http://x\",\"y\").png"
    assert rows[0]["prediction"] == "'@SUM(A1)" and rows[0]["confidence"] == "0.5"
    assert rows[1]["error"] == "'+1.png: not an image file" and rows[1]["model"] == "'-model"


def test_imagenet_names_the_cat(models):
    at = start("imagenet")
    assert "1000 everyday things" in " ".join(c.value for c in at.caption)
    at.file_uploader(key="classify_files").set_value([
        ("chelsea.jpg", (PHOTOS / "chelsea.jpg").read_bytes(), "image/jpeg"),
        ("coffee.jpg", (PHOTOS / "coffee.jpg").read_bytes(), "image/jpeg"),
        ("icon.png", png(Image.open(PHOTOS / "chelsea.jpg").resize((32, 32))), "image/png"),
    ])
    at.run()
    assert not at.exception, at.exception
    # a 32×32 picture is read as a 224×224 blur: the page says so, under that picture only
    hints = [c.value for c in at.caption if "blown up to 224×224" in c.value]
    assert len(hints) == 1 and "only 32×32 pixels" in hints[0]
    rows = table(at)
    assert rows["chelsea.jpg"]["prediction"] in CAT_CLASSES
    assert rows["coffee.jpg"]["prediction"] in {"espresso", "cup", "coffee mug"}
    # Inside the network: the photo model's stem, 7 stages and head conv, first-layer colour filters
    layers = [m.value for m in at.markdown if m.value.startswith("**Layer ")]
    assert len(layers) == 9 and "1280 maps of 7×7" in layers[-1]
    assert any("32 learned 3×3 filters" in c for c in image_captions(at))


def image_captions(at) -> list[str]:
    return [c for img in at.get("image") for c in img.captions]


def test_inside_the_network_for_a_digit(models):
    at = start()
    # with nothing uploaded, example digits from the bundled data set are offered
    pick = next(s for s in at.selectbox if s.label == "Picture")
    assert any(o.startswith("example: a 7") for o in pick.options)
    pick.set_value(next(o for o in pick.options if o.startswith("example: a 7")))
    at.run()
    assert not at.exception, at.exception
    layers = [m.value for m in at.markdown if m.value.startswith("**Layer ")]
    assert [l.split(" — ")[0] for l in layers] == ["**Layer 1: conv 1 · 32 maps of 28×28**",
                                                 "**Layer 2: conv 2 · 64 maps of 14×14**",
                                                 "**Layer 3: conv 3 · 128 maps of 7×7**"]
    assert any(m.value == "The model says **7** (100%)." or m.value.startswith("The model says **7**")
               for m in at.markdown)
    at.slider(key="classify_inside_n").set_value(32)
    at.run()
    assert "the 32 most active shown" in next(m.value for m in at.markdown if m.value.startswith("**Layer 1"))


def test_inside_the_network_shows_each_layers_strongest_maps_pixel_for_pixel(models, digit_ckpt, monkeypatch):
    """Each layer's picture is its maps themselves, recomputed here from the checkpoint: lossless (handed to the
    page as an array, Streamlit re-encoded the tiles as a JPEG), and the same again on the next page run (the
    pictures are kept per picture and per maps-per-layer, not redrawn on every run)."""
    from streamlit.testing.v1 import app_test as app_test_module
    from test_latent_page import RecordingStorage, pixels
    from imgai.data.datasets import load_dataset
    from imgai.inference.explain import activation_maps, maps_to_uint8, strongest
    from ui.classify.inside import _grid
    monkeypatch.setattr(app_test_module, "MemoryMediaFileStorage", RecordingStorage)
    at = start()
    pick = next(s for s in at.selectbox if s.label == "Picture")
    pick.set_value(next(o for o in pick.options if o.startswith("example: a 7")))
    at.run()
    assert not at.exception, at.exception

    d = load_dataset("digits")
    seven = next(x for x, y in zip(d.val_x, d.val_y.tolist()) if d.class_names[y] == "7")
    clf = load_classifier(digit_ckpt)
    layers = activation_maps(clf.model, clf.prepare(Image.fromarray(seven[0].numpy()).convert("RGB")))
    expected = [_grid(maps_to_uint8(layer.maps)[strongest(layer.maps, 16)]) for layer in layers]
    for _ in range(2):   # and once more: a run that only redraws the page shows the same pictures
        inside = next(t for t in at.tabs if "Inside the network" in t.label)
        shown = [pixels(img.proto.imgs[0].url) for img in inside.get("image")][-len(layers):]
        for got, want in zip(shown, expected):
            assert got.shape[:2] == want.shape[:2]
            assert np.array_equal(got if got.ndim == want.ndim else got[..., 0], want)
        at.run()
        assert not at.exception, at.exception


def test_a_result_cards_pictures_are_the_models_input_and_heat_map_pixel_for_pixel(models, digit_ckpt, monkeypatch):
    """The card shows exactly what the model read and where it looked, recomputed here from the checkpoint
    (lossless: handed arrays, Streamlit re-encoded them as JPEG on every run), on this run and the next."""
    from streamlit.testing.v1 import app_test as app_test_module
    from test_latent_page import RecordingStorage, pixels
    from imgai.data.datasets import load_dataset
    from imgai.inference.explain import explain_image, overlay
    from ui.classify.results import SHOW_PX, big_input
    monkeypatch.setattr(app_test_module, "MemoryMediaFileStorage", RecordingStorage)
    d = load_dataset("digits")
    photo = Image.fromarray(255 - d.val_x[3, 0].numpy()).resize((112, 112)).convert("RGB")  # dark ink on white
    at = start()
    at.file_uploader(key="classify_files").set_value([("digit.png", png(photo), "image/png")])
    at.run()
    assert not at.exception, at.exception
    out = explain_image(load_classifier(digit_ckpt), open_image(png(photo)), "grad-cam")
    want = {"what the model reads": big_input(out["input"]),
            "where it looked": overlay(out["input"], out["heat"], size=SHOW_PX)}
    for _ in range(2):
        photos = next(t for t in at.tabs if "Classify photos" in t.label)
        shown = {im.caption: pixels(im.url) for img in photos.get("image") for im in img.proto.imgs}
        for start_, pic in want.items():
            got = next(v for c, v in shown.items() if c.startswith(start_))
            assert np.array_equal(got if got.ndim == pic.ndim else got[..., 0], pic), start_
        at.run()
        assert not at.exception, at.exception


def test_canvas_picture_reads_both_backgrounds():
    from ui.classify.draw import canvas_picture
    assert canvas_picture(None) is None
    blank = np.zeros((280, 280, 4), np.uint8)
    assert canvas_picture(blank) is None
    drawn = blank.copy()
    drawn[60:220, 130:150] = (255, 255, 255, 255)       # a white "1" on a transparent layer
    img = canvas_picture(drawn)
    assert img.mode == "RGB" and np.asarray(img)[100, 140].tolist() == [255, 255, 255]
    assert np.asarray(img)[10, 10].tolist() == [0, 0, 0]


# ---------------------------------------------------------------------------------------- teach your own

def disc(rng) -> Image.Image:
    """A red disc on a noisy grey background."""
    w, h = int(rng.integers(180, 260)), int(rng.integers(180, 260))
    img = Image.fromarray(np.clip(rng.normal(128, 35, (h, w, 3)), 0, 255).astype(np.uint8))
    r = int(rng.integers(35, min(w, h) // 2 - 5))
    cx, cy = int(rng.integers(r, w - r)), int(rng.integers(r, h - r))
    ImageDraw.Draw(img).ellipse([cx - r, cy - r, cx + r, cy + r], fill=(int(rng.integers(190, 256)), 25, 25))
    return img


def stripes(rng) -> Image.Image:
    """Blue and green stripes of random width and direction."""
    w, h = int(rng.integers(180, 260)), int(rng.integers(180, 260))
    yy, xx = np.mgrid[:h, :w]
    band = ((xx if rng.random() < 0.5 else yy) // int(rng.integers(10, 35))) % 2
    rgb = np.where(band[..., None] == 1, [30, 60, 220], [40, 190, 70]) + rng.normal(0, 12, (h, w, 3))
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))


def test_teach_your_own_separates_two_classes_and_saves(models):
    rng = np.random.default_rng(0)
    at = start(None)
    assert at.button(key="teach_train").disabled  # nothing to train on yet
    at.text_input(key="teach_name_0").set_value("disc")
    at.text_input(key="teach_name_1").set_value("stripes")
    at.file_uploader(key="teach_files_0").set_value([(f"d{i}.jpg", jpeg(disc(rng)), "image/jpeg") for i in range(8)]
                                                    + [("broken.jpg", b"\xff\xd8\xff\xe0 nope", "image/jpeg")])
    at.file_uploader(key="teach_files_1").set_value([(f"s{i}.jpg", jpeg(stripes(rng)), "image/jpeg")
                                                     for i in range(8)])
    at.run()
    at.slider(key="teach_holdout").set_value(25)
    at.run()
    at.button(key="teach_train").click()
    at.run()
    assert not at.exception, at.exception
    assert any(e.value.startswith("broken\\.jpg\\:") for e in at.error)  # a bad photo: one line, training goes on
    assert any("100%** right on the 4 photos it never saw" in s.value for s in at.success), \
        [s.value for s in at.success]
    per_class = frame_with(at, "right on held-back photos")
    assert per_class.set_index("class")["right on held-back photos"].to_dict() == {"disc": 1.0, "stripes": 1.0}

    tries = [("new_disc.jpg", jpeg(disc(rng)), "image/jpeg"), ("new_stripes.jpg", jpeg(stripes(rng)), "image/jpeg")]
    at.file_uploader(key="teach_try").set_value(tries)
    at.run()
    heads = [m.value for m in at.markdown if "→" in m.value]
    assert any(h.startswith("**new\\_disc\\.jpg** → **disc**") for h in heads), heads
    assert any(h.startswith("**new\\_stripes\\.jpg** → **stripes**") for h in heads), heads

    at.text_input(key="teach_save_name").set_value("bad/name")
    at.button(key="teach_save").click()
    at.run()
    assert any("Use only letters" in e.value for e in at.error)
    at.text_input(key="teach_save_name").set_value("discs-vs-stripes")
    at.button(key="teach_save").click()
    at.run()
    assert not at.exception, at.exception
    mine = models / NO_BROWSER  # this browser's own folder (AppTest has no cookie)
    assert (mine / "discs-vs-stripes.safetensors").exists()
    meta = json.loads((mine / "discs-vs-stripes.json").read_text())
    assert meta["kind"] == "photo-head" and meta["class_names"] == ["disc", "stripes"]
    # it is now in the picker like any other model, and classifies photos there
    pick = at.selectbox(key="classify_model")
    label = next(o for o in pick.options if o.startswith("discs-vs-stripes"))
    pick.set_value(label)
    at.run()
    at.file_uploader(key="classify_files").set_value([("again.jpg", jpeg(disc(rng)), "image/jpeg"),
                                                      ("stripy.jpg", jpeg(stripes(rng)), "image/jpeg")])
    at.run()
    rows = table(at)
    assert rows["again.jpg"]["prediction"] == "disc" and rows["stripy.jpg"]["prediction"] == "stripes"


def test_the_picker_shows_the_saved_weights_own_accuracy_and_nothing_when_unknown(models):
    """The figure beside a model is its meta's val_acc (with how many images it was measured on), never a
    figure from elsewhere; a checkpoint without one shows no figure."""
    for name, metrics in (("scored", {"val_acc": 0.827, "val_images": 500, "acc": 0.95}),
                          ("unscored", {"acc": 0.95, "loss": 0.2})):
        for ext in (".safetensors", ".json"):
            shutil.copy(models / (MODEL + ext), models / (name + ext))
        meta = json.loads((models / f"{name}.json").read_text())
        (models / f"{name}.json").write_text(json.dumps({**meta, "metrics": metrics}))
    options = AppTest.from_file(PAGE, default_timeout=90).run().selectbox(key="classify_model").options
    scored = next(o for o in options if o.startswith("scored"))
    unscored = next(o for o in options if o.startswith("unscored"))
    assert "82.7% right on 500 unseen images" in scored and "95" not in scored
    assert "%" not in unscored


def _zip_of(folders: dict) -> bytes:
    """{folder: [PIL images]} → zip bytes with a folder per class inside one wrapping folder, as a user zips it."""
    import io
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for folder, imgs in folders.items():
            for i, img in enumerate(imgs):
                z.writestr(f"my photos/{folder}/{i}.jpg", jpeg(img))
        z.writestr("my photos/disc/readme.txt", "not a photo")
    return buf.getvalue()


def test_teach_takes_a_zip_of_class_folders_and_clear_all_empties_the_photo_boxes():
    rng = np.random.default_rng(1)
    at = start(None)
    # a zip dropped into one class's box is refused there, with the way to use it
    at.file_uploader(key="teach_files_0").set_value([("pets.zip", b"PK\x05\x06" + b"\0" * 18, "application/zip"),
                                                     ("d0.jpg", jpeg(disc(rng)), "image/jpeg")])
    at.run()
    assert any(w.value.startswith("pets") and "is a zip: choose **one zip with a folder per class**" in w.value
               for w in at.warning)
    assert "1 photo" in [c.value for c in at.caption]              # not "1 photos"
    # Clear all photos empties every box (new drops would otherwise pile onto the old ones)
    at.button(key="teach_clear").click().run()
    assert not at.exception, at.exception
    assert [c.value for c in at.caption if c.value.endswith(("photo", "photos"))] == ["0 photos", "0 photos"]
    assert all(not u.value for u in at.get("file_uploader") if u.proto.label.startswith("Photos of"))

    # one zip with a folder per class: the folders become the classes
    at.radio(key="teach_source").set_value("zip").run()
    assert at.button(key="teach_train").disabled
    uploader = next(u for u in at.get("file_uploader") if u.proto.label == "One zip with a folder per class")
    uploader.set_value([("my photos.zip", _zip_of({"disc": [disc(rng) for _ in range(6)],
                                                   "stripes": [stripes(rng) for _ in range(6)]}),
                         "application/zip")])
    at.run()
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    assert any(m.value.startswith("2 classes from my photos") and "**disc** (6 photos)" in m.value
               for m in at.markdown)
    assert any("1 file in the zip was not a readable photo" in c.value for c in at.caption)
    at.button(key="teach_train").click().run()
    assert not at.exception, at.exception
    assert any("Trained on 10 photos" in s.value and "right on the 2 photos" in s.value for s in at.success), \
        [s.value for s in at.success]
    assert at.session_state["teach_result"]["names"] == ["disc", "stripes"]

    # a zip that is not one: one line, Train stays off
    at.button(key="teach_clear").click().run()
    uploader = next(u for u in at.get("file_uploader") if u.proto.label == "One zip with a folder per class")
    uploader.set_value([("broken.zip", b"not a zip at all", "application/zip")]).run()
    assert not at.exception and len(at.error) == 1 and "\n" not in at.error[0].value
    assert at.button(key="teach_train").disabled and "teach_result" not in at.session_state


def test_inside_the_network_keeps_the_first_pick_made_as_a_drawing_appears(models, monkeypatch):
    """The drawing box is a fragment: the page learns of a new drawing in the same run as the user's next pick
    in 'Inside the network'. That pick must stand, and the drawing must be offered."""
    import ui.classify.draw as draw
    drawing = {"img": None}
    monkeypatch.setattr(draw, "canvas_picture", lambda rgba: drawing["img"])
    at = start()
    pick = next(s for s in at.selectbox if s.label == "Picture")
    assert "your drawing" not in pick.options
    seven = next(o for o in pick.options if o.startswith("example: a 7"))
    one = Image.new("RGB", (280, 280))
    ImageDraw.Draw(one).rectangle([130, 50, 150, 230], fill=(255, 255, 255))
    drawing["img"] = one                                      # a stroke on the canvas ...
    pick.set_value(seven)                                     # ... then the first pick in Inside
    at.run()
    assert not at.exception, at.exception
    pick = next(s for s in at.selectbox if s.label == "Picture")
    assert pick.value == seven and "your drawing" in pick.options
    assert any(m.value.startswith("The model says **7**") for m in at.markdown)
    pick.set_value("your drawing")
    at.run()
    assert next(s for s in at.selectbox if s.label == "Picture").value == "your drawing"
    assert any(m.value.startswith("The model says **1**") for m in at.markdown)


def test_the_page_names_the_buttons_it_has(models):
    at = start()
    info = " ".join(i.value for i in at.info)
    assert "**Upload**" in info and "Browse files" not in info       # Streamlit's uploader button says Upload
    draw_caption = next(c.value for c in at.caption if "bin" in c.value)
    assert "After your first stroke" in draw_caption                # the canvas shows its toolbar only then


def test_teach_refuses_a_zip_too_big_for_it_with_a_pointer(monkeypatch):
    import ui.classify.teach as teach
    monkeypatch.setattr(teach, "MAX_ZIP_PHOTOS", 4)
    rng = np.random.default_rng(2)
    at = start(None)
    at.radio(key="teach_source").set_value("zip").run()
    uploader = next(u for u in at.get("file_uploader") if u.proto.label == "One zip with a folder per class")
    uploader.set_value([("big.zip", _zip_of({"disc": [disc(rng) for _ in range(3)],
                                             "stripes": [stripes(rng) for _ in range(3)]}), "application/zip")])
    at.run()
    assert not at.exception and len(at.error) == 1
    assert "Teach takes up to 4 photos" in at.error[0].value and "Train page" in at.error[0].value
    assert at.button(key="teach_train").disabled


def test_a_batch_of_pixel_bombs_is_refused_from_its_headers_before_any_is_decoded(monkeypatch):
    import ui.classify.results as common
    from hostile_corpus import gray_png
    from imgai.data.intake import UPLOAD_MEGAPIXELS
    decoded = []
    monkeypatch.setattr(common, "open_image", lambda *a, **k: decoded.append(1) or open_image(*a, **k))
    n = int(UPLOAD_MEGAPIXELS // 49) + 1              # just over the budget for one upload
    # 49 megapixels each, a few KB of PNG; each a different picture (the same one twice is read once)
    bombs = [gray_png(7000, 7000 + i) for i in range(n)]
    at = start("digits-cnn")                           # the shipped digits model
    at.file_uploader(key="classify_files").set_value([(f"black{i}.png", b, "image/png") for i, b in enumerate(bombs)])
    at.run()
    assert not at.exception, at.exception
    assert len(at.error) == 1 and f"over {UPLOAD_MEGAPIXELS:g} megapixels in all" in at.error[0].value
    assert not decoded and not at.get("dataframe")    # nothing decoded, no results


def test_the_same_picture_uploaded_twice_is_classified_once(digits):
    import io
    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(digits.val_x[0, 0].numpy()).save(buf, format="PNG")
    at = start("digits-cnn")
    at.file_uploader(key="classify_files").set_value([("seven.png", buf.getvalue(), "image/png"),
                                                       ("seven (1).png", buf.getvalue(), "image/png")])
    at.run()
    assert not at.exception
    said = [c.value.replace("\\", "") for c in at.caption]        # captions are markdown-escaped
    assert any("seven (1).png is the same picture as seven.png: classified once" in c for c in said)
    assert sum("→" in m.value for m in at.markdown) == 1          # one result card
