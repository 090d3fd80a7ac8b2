"""Take the model home: a checkpoint as a folder any program can use, checked before it is handed over.

    files = export_files(model, meta, "digits-cnn")      # {file name: bytes}
    write_export(files, "out/digits-cnn")                 # or export_zip(files, "digits-cnn") for a download

The folder: model.onnx; labels.txt (class names in output order); preprocess.json (how a picture becomes
the input); preprocess.py (the same steps in numpy + Pillow); README.md (copy-paste snippets for Python
onnxruntime and the browser); demo.html (+ model.js, ort-wasm.js) that runs the model in a browser from
the folder itself; export.json (the check's figures). Every export is run through onnxruntime and compared with imgai's own answer on seeded
inputs first: an export that does not give imgai's numbers is refused, never handed over.
"""
import base64
import gzip
import io
import json
import re
import string
import zipfile
from pathlib import Path

import numpy as np
import torch

from imgai.models import KIND_NAMES
from imgai.models.sampling import generate
from imgai.models.safe_write import atomic_write
from imgai.models.tta import tta_logits
from .onnx_model import OPSET, to_onnx

KIT = Path(__file__).parent / "kit"
ORT_VERSION = "1.31.1"          # kit/ort: onnxruntime-web's files, see kit/ort/README.md
# Largest |onnxruntime - torch| allowed, relative to the size of the value (|a - b| <= TOL * (1 + |b|)):
# float32 kernels differ in summation order (measured: 4e-6 on the shipped models' logits).
TOLERANCE = 1e-4
CHECK_BATCH = 3


class ExportError(RuntimeError):
    """An export that cannot be made or does not match imgai; str(e) is one line."""


def preprocess_spec(meta: dict) -> dict:
    """preprocess.json for a classifier: pixels / 255, then (x - mean) / std, NCHW float32, after the intake."""
    intake = meta.get("intake", "fit")
    size = int(meta["image_size"])
    steps = {
        "fit": "centre-crop to a square, resize to size x size (Lanczos); transparency composited on white",
        "photo": "resize the shorter side to size and centre-crop (bilinear), as ImageNet models expect",
        "digit": "MNIST's recipe: grayscale; dark ink on light paper inverted to white on black; the ink's "
                 "bounding box fitted into digit_box x digit_box keeping its aspect ratio, placed in "
                 "size x size with its centre of mass at the centre",
    }
    spec = {"size": [size, size], "channels": int(meta["channels"]), "mean": [float(v) for v in meta["mean"]],
            "std": [float(v) for v in meta["std"]], "scale": "pixels / 255", "layout": "NCHW", "dtype": "float32",
            "colour": "RGB" if int(meta["channels"]) == 3 else "grayscale, L = 0.299 R + 0.587 G + 0.114 B",
            "intake": intake, "intake_steps": steps[intake], "input": "input",
            "outputs": {"logits": "(N, classes)", "probabilities": "(N, classes), softmax of the logits"}}
    if intake == "digit":
        spec["digit_box"] = 20
    if meta.get("tta", "none") != "none":
        spec["test_time_augmentation"] = f"{meta['tta']}: inside model.onnx, nothing to do"
    return spec


def generator_spec(meta: dict) -> dict:
    """preprocess.json for a generator: what to feed it and what comes out."""
    cfg = meta["config"]
    spec = {"inputs": {"z": {"shape": ["N", cfg["nz"]], "dtype": "float32", "distribution": "standard normal"}},
            "outputs": {"images": {"shape": ["N", cfg["channels"], cfg["image_size"], cfg["image_size"]],
                                   "dtype": "float32", "range": [0, 1], "layout": "NCHW"}}}
    if meta["kind"] == "cdcgan":
        spec["inputs"]["label"] = {"shape": ["N"], "dtype": "int64", "values": "class index, see labels.txt"}
    return spec


def check_export(model: torch.nn.Module, meta: dict, blob: bytes, seed: int = 0) -> float:
    """Run the ONNX bytes in onnxruntime and imgai's own path on the same seeded inputs; returns the largest
    difference, or raises ExportError when any output differs by more than TOLERANCE."""
    import onnxruntime as ort
    try:
        session = ort.InferenceSession(blob, providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001 — onnxruntime's own errors are many kinds
        raise ExportError(f"onnxruntime cannot load the exported model: {str(e).splitlines()[0][:200]}") from None
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        if meta["kind"] in ("dcgan", "cdcgan"):
            z = torch.randn(CHECK_BATCH, meta["config"]["nz"], generator=g)
            y = torch.arange(CHECK_BATCH) % meta["config"].get("n_classes", 1) if meta["kind"] == "cdcgan" else None
            want = {"images": (generate(model.generator, z, y) + 1) / 2}
            feeds = {"z": z.numpy(), **({} if y is None else {"label": y.numpy()})}
        else:
            c, s = int(meta["channels"]), int(meta["image_size"])
            x = torch.randn(CHECK_BATCH, c, s, s, generator=g)
            logits = tta_logits(model.eval(), x, meta.get("tta", "none"))
            want = {"logits": logits, "probabilities": torch.softmax(logits, dim=1)}
            feeds = {"input": x.numpy()}
    got = dict(zip(want, session.run(list(want), feeds)))
    worst = 0.0
    for name, ref in want.items():
        ref = ref.clamp(0, 1).numpy() if name == "images" else ref.numpy()
        err = np.abs(got[name] - ref) / (1 + np.abs(ref))
        worst = max(worst, float(err.max()))
        if not err.max() <= TOLERANCE:     # also catches NaN
            raise ExportError(f"the exported model's {name} differ from imgai's by {float(err.max()):.2g} "
                              f"(allowed {TOLERANCE:g}): not exported")
    return worst


def _about(meta: dict, name: str) -> str:
    kind = KIND_NAMES.get(meta["kind"], meta["kind"])
    data = str(meta.get("dataset", "")).removeprefix("folder:")
    acc = (meta.get("metrics") or {}).get("val_acc")
    scored = f", {acc:.1%} right on its validation pictures" if isinstance(acc, (int, float)) else ""
    classes = meta.get("class_names") or []
    what = f"{len(classes)} classes" if meta["kind"] != "dcgan" else "pictures"
    return f"{name}: a {kind} trained on {data or 'your pictures'} ({what}{scored}), exported by imgai."


def _readme(meta: dict, name: str, spec: dict, worst: float) -> str:
    template = string.Template((KIT / ("README-generator.md" if meta["kind"] in ("dcgan", "cdcgan")
                                       else "README-classifier.md")).read_text())
    cfg = meta.get("config", {})
    return template.substitute(
        name=name, about=_about(meta, name), opset=OPSET, ort_version=ORT_VERSION, worst=f"{worst:.1g}",
        tolerance=f"{TOLERANCE:g}", size=spec.get("size", [0])[0], channels=spec.get("channels", cfg.get("channels")),
        nz=cfg.get("nz", 0), label_feed=', "label": np.full(16, 3, np.int64)' if meta["kind"] == "cdcgan" else "",
        label_js=(', label: new ort.Tensor("int64", new BigInt64Array(16).fill(3n), [16])'
                  if meta["kind"] == "cdcgan" else ""))


def _demo(meta: dict, name: str, spec: dict) -> str:
    bundle = (KIT / "ort" / "ort.wasm.bundle.min.mjs").read_text()
    # The bundle is an ES module ending in `export{a as InferenceSession, ...}`; inlined in the page, its
    # names are handed to the page's own script through window.ort instead.
    m = re.search(r"export\{([^}]*)\};?", bundle)
    if m is None:
        raise ExportError("the vendored onnxruntime-web bundle has no export list (see imgai/export/kit/ort)")
    names = [p.strip().split(" as ") for p in m.group(1).split(",")]
    bundle = bundle[:m.start()] + "window.ort={" + ",".join(f"{b}:{a}" for a, b in names if b != "default") + \
        "};" + bundle[m.end():]
    info = {"name": name, "kind": meta["kind"], "about": _about(meta, name), "preprocess": spec,
            "labels": list(meta.get("class_names") or []), "nz": meta.get("config", {}).get("nz")}
    page = (KIT / "demo.html").read_text()
    # </ inside inlined text would end the <script> element early
    return page.replace("__IMGAI_META__", json.dumps(info).replace("</", "<\\/")) \
               .replace("__ORT_BUNDLE__", bundle.replace("</script", "<\\/script"))


def export_files(model: torch.nn.Module, meta: dict, name: str) -> dict[str, bytes]:
    """Every file of the export, checked against imgai's own answer before anything is returned."""
    kind = meta.get("kind")
    if kind not in ("cnn", "photo-head", "dcgan", "cdcgan"):
        raise ExportError(f"cannot export a {kind} model")
    try:
        blob = to_onnx(model, meta)
    except Exception as e:  # noqa: BLE001 — the exporter's errors are many kinds; the user gets one line
        raise ExportError(f"torch could not export this model to ONNX: {str(e).splitlines()[0][:200]}") from None
    worst = check_export(model, meta, blob)
    spec = generator_spec(meta) if kind in ("dcgan", "cdcgan") else preprocess_spec(meta)
    files = {"model.onnx": blob, "preprocess.json": json.dumps(spec, indent=2).encode() + b"\n",
             "README.md": _readme(meta, name, spec, worst).encode(),
             "demo.html": _demo(meta, name, spec).encode(),
             "model.js": b'window.IMGAI_MODEL="' + base64.b64encode(blob) + b'";\n',
             "ort-wasm.js": b'window.ORT_WASM="' + base64.b64encode(
                 gzip.decompress((KIT / "ort" / "ort-wasm-simd-threaded.wasm.gz").read_bytes())) + b'";\n',
             "ONNXRUNTIME-LICENSE.md": (KIT / "ort" / "README.md").read_bytes(),
             "checkpoint.json": json.dumps(meta, indent=2, default=str).encode() + b"\n",
             "export.json": json.dumps({"opset": OPSET, "onnxruntime_web": ORT_VERSION, "check": {
                 "max_difference": worst, "tolerance": TOLERANCE, "inputs": f"{CHECK_BATCH} seeded, seed 0",
                 "against": "imgai's own forward pass (the checkpoint's test-time augmentation included)"}},
                 indent=2).encode() + b"\n"}
    if kind != "dcgan":
        files["labels.txt"] = "".join(f"{n}\n" for n in meta["class_names"]).encode()
    if kind in ("cnn", "photo-head"):
        files["preprocess.py"] = (KIT / "preprocess.py").read_bytes()
    return files


def write_export(files: dict[str, bytes], out_dir) -> Path:
    """Write the files into OUT_DIR (made if missing), each one atomically: a full disk or a killed process
    leaves earlier files whole and no half-written one. Refuses a folder that holds other things."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out} is a file, not a folder")
    strangers = sorted(p.name for p in out.iterdir() if p.name not in files) if out.exists() else []
    if strangers:
        raise ExportError(f"{out} already holds other files ({strangers[0]}, ...): export into a new folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        for file_name, data in files.items():
            atomic_write(out / file_name, data)
            (out / file_name).chmod(0o644)     # a folder to open, serve and share, not a private temporary
    except OSError as e:
        raise ExportError(f"could not write the export to {out}: {e.strerror or e}") from None
    return out


def export_zip(files: dict[str, bytes], name: str) -> bytes:
    """The export as NAME-onnx.zip in memory (one folder NAME-onnx/ inside), for a Download button."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for file_name, data in files.items():
            z.writestr(f"{name}-onnx/{file_name}", data)
    return buf.getvalue()
