"""python -m imgai export: onnxruntime gives imgai's numbers for every model kind, the exported digits CNN
scores what imgai classify scores with nothing but onnxruntime and preprocess.json, and bad exports are
refused in one line."""
import importlib.util
import json
import zipfile
import io

import numpy as np
import onnxruntime as ort
import pytest
import torch
from PIL import Image

from imgai.cli import main
from imgai.export import ExportError, export_checkpoint, export_files, export_zip, load_for_export, write_export
from imgai.inference.classify import load_classifier
from imgai.models.sampling import fixed_noise, generate
from imgai.models.tta import tta_logits

ATOL = 1e-4   # the export's own check allows 1e-4 relative; measured differences are ~1e-6


def _preprocess_module(folder):
    spec = importlib.util.spec_from_file_location("exported_preprocess", folder / "preprocess.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def digits_export(tmp_path_factory):
    return export_checkpoint("weights/digits-cnn", tmp_path_factory.mktemp("x") / "digits-cnn")


@pytest.mark.parametrize("weights", ["weights/digits-cnn", "weights/cifar10-cnn"])
def test_onnxruntime_gives_the_classifiers_own_logits(weights, tmp_path):
    out = export_checkpoint(weights, tmp_path / "e")
    clf = load_classifier(weights)
    x = torch.randn(4, clf.meta["channels"], clf.meta["image_size"], clf.meta["image_size"],
                    generator=torch.Generator().manual_seed(7))
    logits, probs = ort.InferenceSession(str(out / "model.onnx")).run(None, {"input": x.numpy()})
    with torch.no_grad():   # the checkpoint's own test-time augmentation (cifar10-cnn: flip-translate)
        want = tta_logits(clf.model, x, clf.tta)
    np.testing.assert_allclose(logits, want.numpy(), atol=ATOL, rtol=ATOL)
    np.testing.assert_allclose(probs, torch.softmax(want, 1).numpy(), atol=ATOL)
    assert (out / "labels.txt").read_text().splitlines() == clf.class_names


@pytest.mark.parametrize("weights", ["weights/digits-dcgan", "weights/digits-cdcgan"])
def test_onnxruntime_draws_the_generators_own_pictures(weights, tmp_path):
    out = export_checkpoint(weights, tmp_path / "e")
    model, meta, _ = load_for_export(weights)
    z = fixed_noise(meta["config"]["nz"], 5, seed=3)
    feeds, y = {"z": z.numpy()}, None
    if meta["kind"] == "cdcgan":
        y = torch.tensor([0, 3, 7, 7, 9])
        feeds["label"] = y.numpy()
    images, = ort.InferenceSession(str(out / "model.onnx")).run(["images"], feeds)
    want = ((generate(model.generator, z, y) + 1) / 2).clamp(0, 1)
    np.testing.assert_allclose(images, want.numpy(), atol=ATOL)
    spec = json.loads((out / "preprocess.json").read_text())
    assert spec["inputs"]["z"]["shape"] == ["N", meta["config"]["nz"]]
    assert ("label" in spec["inputs"]) == (meta["kind"] == "cdcgan")


def test_the_photo_classifier_exports_whole(tmp_path):
    """A Teach model is a head on the ImageNet backbone: the export holds both, and answers like Classify."""
    from imgai.models.checkpoint import save_checkpoint
    from imgai.models.imagenet import PhotoHead, PhotoHeadConfig, photo_head_meta
    head = PhotoHead(PhotoHeadConfig(num_classes=2)).eval()
    save_checkpoint(tmp_path / "mine", head, photo_head_meta(head, ["cat", "cup"], {}))
    out = export_checkpoint(tmp_path / "mine", tmp_path / "e")
    clf = load_classifier(str(tmp_path / "mine"))
    picture = Image.fromarray(np.random.default_rng(0).integers(0, 255, (300, 240, 3), np.uint8))
    x = _preprocess_module(out).model_input(picture, json.loads((out / "preprocess.json").read_text()))
    np.testing.assert_allclose(x, clf.prepare(picture).numpy(), atol=1e-6)   # the same input as Classify
    probs, = ort.InferenceSession(str(out / "model.onnx")).run(["probabilities"], {"input": x})
    np.testing.assert_allclose(probs[0], clf.probabilities(torch.from_numpy(x)).numpy(), atol=ATOL)


def test_onnxruntime_and_preprocess_json_alone_score_like_imgai_classify(digits_export, tmp_path):
    """The bundled held-out digits as PNG files: imgai classify's accuracy and the export's (onnxruntime +
    the folder's own preprocess.py reading preprocess.json) are within 0.2 points."""
    d = np.load("imgai/assets/digits.npz")
    files = []
    for i, (x, y) in enumerate(zip(d["val_x"], d["val_y"])):
        files.append((tmp_path / f"{i:03d}.png", int(y)))
        Image.fromarray(x).save(files[-1][0])
    clf = load_classifier("weights/digits-cnn")
    from imgai.data.intake import open_image
    imgai_acc = np.mean([clf.predict(open_image(f))["label"] == str(y) for f, y in files])
    pre = _preprocess_module(digits_export)
    spec = json.loads((digits_export / "preprocess.json").read_text())
    session = ort.InferenceSession(str(digits_export / "model.onnx"))
    labels = (digits_export / "labels.txt").read_text().splitlines()
    onnx_acc = np.mean([labels[session.run(["probabilities"], {"input": pre.model_input(f, spec)})[0].argmax()]
                        == str(y) for f, y in files])
    assert imgai_acc > 0.95 and abs(onnx_acc - imgai_acc) <= 0.002, (onnx_acc, imgai_acc)


def test_the_cli_exports_a_folder_and_says_what_it_wrote(tmp_path, capsys):
    assert main(["export", "--weights", "weights/digits-dcgan", "--out", str(tmp_path / "g")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["out"] == str(tmp_path / "g") and report["max_difference"] < 1e-4
    assert {"model.onnx", "demo.html", "model.js", "ort-wasm.js", "README.md", "preprocess.json"} <= \
        {p.name for p in (tmp_path / "g").iterdir()}


def test_a_zip_export_holds_the_same_files_in_one_folder(digits_export):
    model, meta, name = load_for_export("weights/cifar10-cnn")
    files = export_files(model, meta, name)
    z = zipfile.ZipFile(io.BytesIO(export_zip(files, name)))
    assert sorted(z.namelist()) == sorted(f"cifar10-cnn-onnx/{n}" for n in files)
    assert z.read("cifar10-cnn-onnx/model.onnx") == files["model.onnx"]


def test_an_export_that_disagrees_with_imgai_is_refused(monkeypatch):
    """The check is real: a graph whose numbers differ from the model's is never handed over."""
    import copy
    import imgai.export.package as package
    model, meta, name = load_for_export("weights/cifar10-cnn")
    changed = copy.deepcopy(model)
    with torch.no_grad():
        [m for m in changed.modules() if isinstance(m, torch.nn.Linear)][-1].weight.add_(0.1)
    wrong = package.to_onnx(changed, meta)
    monkeypatch.setattr(package, "to_onnx", lambda m, meta: wrong)
    with pytest.raises(ExportError, match="differ from imgai's"):
        export_files(model, meta, name)


@pytest.mark.parametrize("args, message", [
    (["--weights", "weights/nope"], "nope"),
    (["--weights", "weights/digits-cnn", "--out", "README.md"], "is a file"),
])
def test_cli_refusals_are_one_line(args, message, tmp_path, capsys):
    args = args + (["--out", str(tmp_path / "o")] if "--out" not in args else [])
    assert main(["export", *args]) != 0
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_an_export_never_mixes_into_a_folder_of_other_files(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    model, meta, name = load_for_export("weights/cifar10-cnn")
    with pytest.raises(ExportError, match="other files"):
        write_export(export_files(model, meta, name), tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
