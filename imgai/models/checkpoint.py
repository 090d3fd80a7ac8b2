"""Checkpoints: NAME.safetensors (weights) + NAME.json (everything needed to rebuild and use the model).

    save_checkpoint("models/mine", model, meta); model, meta = load_checkpoint("models/mine")

Safetensors holds only tensors, so loading a file from anyone runs no code (unlike torch.load of a pickle).
Each file is written to a hidden temporary name and moved into place, weights first and the JSON last; the
JSON names the sha256 of its weights file, so a save killed between the two moves (new weights beside the
old JSON) is a mismatched pair that the loader refuses and the listing skips. A temporary file names its
writer (host and process id): one whose writer has ended is removed at the next save, listing or server
start, one of a live writer never; others once they are safe_write.STALE_TMP_S old.

Before anything is built, the JSON is checked against the weights file's header (names and shapes only; no
tensor is read): a description that does not fit its weights, or that would build an absurdly large model,
is refused with one line saying what does not fit.
"""
import errno
import hashlib
import io
import json
import os
import tempfile
import time
import zipfile
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file
from safetensors.torch import save as safetensors_bytes

from imgai import __version__
from imgai.models.safe_write import atomic_write, remove_stale_temporaries
from imgai.models import build_on_meta, model_config, model_from_weights

WEIGHTS_DIR = Path(__file__).resolve().parents[2] / "weights"
MAX_JSON_BYTES = 1_000_000  # a sidecar is a few KB; refuse anything absurd before parsing it
# The app's own models have a few million parameters at most (the textbook GANs on colour pictures); 50 million
# (200 MB of float32) leaves room for bigger experiments while refusing a description that would fill the memory.
# imgai.training.runs refuses to build a model beyond it too, so nothing trained here is refused when loaded.
MAX_PARAMETERS = 50_000_000
IMAGE_SIZES = (28, 32)      # what the CNN and the DCGAN are made for (imgai.training.runs trains only these)
HASH_KEY = "weights_sha256"  # the JSON's name for the sha256 of its weights file
SUFFIXES = (".safetensors", ".json")


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be written or used; str(e) is one line for the user."""


def models_dir() -> Path:
    """Where the app saves the user's checkpoints."""
    return Path(os.environ.get("IMGAI_MODELS") or Path.home() / ".cache" / "imgai" / "models")


def checkpoint_base(path) -> Path:
    """PATH without a checkpoint extension. Only .safetensors/.json are dropped: "run.v2" stays "run.v2"."""
    p = Path(path)
    for suffix in SUFFIXES:
        if p.name.endswith(suffix) and len(p.name) > len(suffix):
            return p.with_name(p.name[:-len(suffix)])
    return p


def _file(base: Path, suffix: str) -> Path:
    return base.with_name(base.name + suffix)


def _why(e: BaseException, folder: Path) -> str:
    """One line for a failed write, whether the OS or safetensors (its own error type) reported it."""
    code = getattr(e, "errno", None)
    text = str(e)
    if code in (errno.ENOSPC, errno.EDQUOT) or "No space left" in text or "StorageFull" in text \
            or "os error 28" in text:
        return "no space left on device"
    if code == errno.EROFS or "Read-only file system" in text or "os error 30" in text:
        return f"the folder {folder} is read-only"
    if code in (errno.EACCES, errno.EPERM) or "PermissionDenied" in text or "os error 13" in text:
        return f"the folder {folder} is read-only (no permission to write there)"
    first = text.strip().splitlines()[0][:160] if text.strip() else type(e).__name__
    return getattr(e, "strerror", None) or first


def checkpoint_files(model: torch.nn.Module, meta: dict) -> tuple[bytes, dict]:
    """The two files of a checkpoint, in memory: (weights bytes, description dict naming their sha256).
    The model's own config always wins over a config in `meta`. Also what a download offers."""
    meta = {"created": time.strftime("%Y-%m-%d %H:%M:%S"), "version": __version__, **meta,
            "config": model_config(model)}
    if "kind" not in meta:
        raise CheckpointError("a checkpoint needs a 'kind' (cnn, dcgan, photo-head)")
    # contiguous CPU copies; tensors that share storage (tied weights) would be refused by safetensors
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in model.state_dict().items()}
    blob = safetensors_bytes(tensors)
    meta[HASH_KEY] = hashlib.sha256(blob).hexdigest()
    return blob, meta


def checkpoint_zip(name: str, model: torch.nn.Module, meta: dict) -> bytes:
    """NAME.safetensors + NAME.json in a zip, made in memory: a download that needs no writable folder, and
    unzipped into a models folder a loadable checkpoint."""
    return zip_files(name, *checkpoint_files(model, meta))


def zip_files(name: str, blob: bytes, meta: dict) -> bytes:
    """A checkpoint's two files (from checkpoint_files, or sent by a worker) zipped in memory. The weights are
    stored, not deflated: float tensors hardly compress, and storing keeps a 10 MB model's zip quick to build
    on a busy server."""
    if not name or name in (".", "..") or any(c in name for c in "/\\\0"):
        raise ValueError(f"{name!r} is not a plain file name")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(f"{name}.safetensors", blob, compress_type=zipfile.ZIP_STORED)
        z.writestr(f"{name}.json", json.dumps(meta, indent=1, default=float), compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def save_checkpoint(path, model: torch.nn.Module, meta: dict) -> Path:
    """Write PATH.safetensors and PATH.json; returns PATH (no extension). meta needs at least "kind".
    A failed write (full disk, read-only folder) raises CheckpointError with one line and leaves any
    previous checkpoint of that name as it was."""
    base = checkpoint_base(path)
    try:
        blob, meta = checkpoint_files(model, meta)
    except SafetensorError as e:
        raise CheckpointError(f"could not save the checkpoint {base}: {_why(e, base.parent)}") from None
    return write_files(base, blob, meta)


def write_files(path, blob: bytes, meta: dict) -> Path:
    """Write a checkpoint's two files (from checkpoint_files, or sent by a worker): weights first, the JSON
    naming their hash last, so until it lands the old JSON refuses the new weights. Returns PATH's base."""
    base = checkpoint_base(path)
    try:
        text = json.dumps(meta, indent=1, default=float).encode()
        base.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(base.parent)
        atomic_write(_file(base, ".safetensors"), blob)
        atomic_write(_file(base, ".json"), text)
    except (OSError, SafetensorError) as e:
        raise CheckpointError(f"could not save the checkpoint {base}: {_why(e, base.parent)}") from None
    return base


def check_writable(path) -> Path:
    """Raise CheckpointError (one line) unless PATH's folder can take a checkpoint; returns PATH's base.
    For callers about to spend minutes making weights (the CLI checks before training)."""
    base = checkpoint_base(path)
    try:
        base.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=base.parent, prefix=f".{base.name}.safetensors.", suffix=".tmp")
        os.close(fd)
        os.unlink(tmp)
    except OSError as e:
        raise CheckpointError(f"cannot save to {base}: {_why(e, base.parent)}") from None
    return base


def read_meta(path) -> dict:
    base = checkpoint_base(path)
    js = _file(base, ".json")
    try:
        if js.stat().st_size > MAX_JSON_BYTES:
            raise CheckpointError(f"{js.name}: too large to be a checkpoint description")
        meta = json.loads(js.read_text())
    except FileNotFoundError:
        raise CheckpointError(f"no checkpoint at {base} (expected {js.name} and {base.name}.safetensors)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise CheckpointError(f"{js.name}: not a readable checkpoint description ({type(e).__name__})") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("kind"), str) or not isinstance(meta.get("config"), dict):
        raise CheckpointError(f"{js.name}: not an imgai checkpoint description (no kind/config)")
    return meta


_HASHES = {}  # (path, size, mtime) → sha256: the listing runs on every page draw, files rarely change


def _sha256(path: Path) -> str:
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _HASHES:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        _HASHES[key] = h.hexdigest()
    return _HASHES[key]


def check_pair(base: Path, meta: dict):
    """Refuse weights that are not the ones the JSON was written with (e.g. a save killed between the
    two moves). Checkpoints from before hashes were recorded (no HASH_KEY) are taken as they are."""
    want = meta.get(HASH_KEY)
    if want is None:
        return
    try:
        have = _sha256(_file(base, ".safetensors"))
    except FileNotFoundError:
        raise CheckpointError(f"{base.name}.safetensors is missing") from None
    except OSError as e:
        raise CheckpointError(f"{base.name}.safetensors cannot be read ({e.strerror or e})") from None
    if have != want:
        raise CheckpointError(f"{base.name}: its weights file is not the one its description was saved with "
                              "(an interrupted save?); save the model again")


def _header(weights: Path) -> dict:
    """name → shape for every tensor in a safetensors file, from its header alone (no tensor is read)."""
    with safe_open(str(weights), framework="pt") as f:
        return {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}


def _shape(s) -> str:
    return "×".join(map(str, s)) or "a scalar"


def check_description(name: str, meta: dict, header: dict):
    """Does the JSON describe a model this version builds, of a sane size, whose tensors are exactly the
    ones in the weights file? Checked on the meta device: nothing real is allocated. One line if not."""
    kind, config = meta["kind"], meta["config"]
    classes = meta.get("class_names")
    if kind in ("cnn", "photo-head"):
        if not isinstance(classes, list) or not all(isinstance(c, str) and c.strip() for c in classes):
            raise CheckpointError(f"{name}: its description has no class names")
        if len(classes) < 2:
            raise CheckpointError(f"{name}: a classifier needs at least 2 class names, its description has {len(classes)}")
        if config.get("num_classes") != len(classes):
            raise CheckpointError(f"{name}: its description names {len(classes)} classes but its config has "
                                  f"{config.get('num_classes')} outputs")
    if kind in ("cnn", "dcgan"):
        size = config.get("image_size")
        if size not in IMAGE_SIZES or meta.get("image_size", size) != size:
            raise CheckpointError(f"{name}: image size {meta.get('image_size', size)} is not one this app's "
                                  f"models take ({' or '.join(map(str, IMAGE_SIZES))} pixels)")
        channels = config.get("in_channels" if kind == "cnn" else "channels")
        if channels not in (1, 3) or meta.get("channels", channels) != channels:
            raise CheckpointError(f"{name}: {meta.get('channels', channels)} colour channels do not fit its config "
                                  f"({channels}); expected 1 (grey) or 3 (colour)")
        for key in ("mean", "std"):
            v = meta.get(key)
            if v is not None and (not isinstance(v, list) or len(v) != channels
                                  or not all(isinstance(x, (int, float)) for x in v)):
                raise CheckpointError(f"{name}: its {key} should be {channels} number(s), one per channel")
        if any(not x > 0 for x in meta.get("std") or []):
            raise CheckpointError(f"{name}: its std must be positive")
    try:
        model = build_on_meta(kind, config)
    except (TypeError, ValueError, KeyError, RuntimeError, IndexError, ZeroDivisionError) as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:120]
        raise CheckpointError(f"{name}: its config does not describe a model this version can build ({first})") from None
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    n = sum(v.numel() for v in model.state_dict().values())
    if n > MAX_PARAMETERS:
        raise CheckpointError(f"{name}: its config describes a model of {n / 1e6:,.0f} million numbers "
                              f"({n * 4 / 1e9:.1f} GB); the largest this app loads is {MAX_PARAMETERS / 1e6:.0f} million")
    if kind in ("cnn", "photo-head"):
        last = [k for k, s in expected.items() if k.endswith("weight") and len(s) == 2][-1]
        if last in header and header[last][:1] != (len(classes),):
            raise CheckpointError(f"{name}: the weights have {header[last][0] if header[last] else '?'} outputs but "
                                  f"its description names {len(classes)} classes")
    if kind in ("cnn", "dcgan"):
        first = [k for k, s in expected.items() if len(s) == 4 and not k.startswith("generator.")][0]
        if first in header and len(header[first]) == 4 and header[first][1] != expected[first][1]:
            raise CheckpointError(f"{name}: the weights take {header[first][1]}-channel images but its description "
                                  f"says {expected[first][1]}")
    missing = [k for k in expected if k not in header]
    extra = [k for k in header if k not in expected]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise CheckpointError(f"{name}: the weights lack {missing[0]}{more}, which its description's model needs")
    if extra:
        more = f" (and {len(extra) - 1} more)" if len(extra) > 1 else ""
        raise CheckpointError(f"{name}: the weights hold {extra[0]}{more}, which its description's model does not have")
    for k, s in expected.items():
        if header[k] != s:
            raise CheckpointError(f"{name}: {k} is {_shape(header[k])} in the weights but {_shape(s)} in the model "
                                  "its description builds")
    return model


def check_checkpoint(base: Path, meta: dict) -> torch.nn.Module:
    """Everything short of reading the tensors: the pair's hash, then the JSON against the weights' header.
    Returns the model's skeleton (on the meta device); raises CheckpointError with one line."""
    check_pair(base, meta)
    try:
        header = _header(_file(base, ".safetensors"))
    except FileNotFoundError:
        raise CheckpointError(f"{base.name}.safetensors is missing") from None
    except (SafetensorError, OSError, ValueError) as e:
        first = str(e).strip().splitlines()[0][:160] if str(e).strip() else type(e).__name__
        raise CheckpointError(f"{base.name}.safetensors is not a weights file ({first})") from None
    return check_description(base.name, meta, header)


def load_checkpoint(path, device="cpu"):
    """Check the pair (hash), the JSON against the weights' header, then build the model straight from the
    weights (nothing initialised first). Returns (model in eval mode, meta)."""
    base = checkpoint_base(path)
    meta = read_meta(base)
    weights = _file(base, ".safetensors")
    skeleton = check_checkpoint(base, meta)
    dtypes = {k: v.dtype for k, v in skeleton.state_dict().items()}
    try:
        tensors = load_file(str(weights), device="cpu")
        tensors = {k: v.to(dtypes[k]) for k, v in tensors.items()}  # e.g. float16 weights into a float32 model
        model = model_from_weights(meta["kind"], meta["config"], tensors)
    except (SafetensorError, RuntimeError, OSError, ValueError) as e:
        first = str(e).strip().splitlines()[0][:160] if str(e).strip() else type(e).__name__
        raise CheckpointError(f"{base.name}: weights do not fit the model ({first})") from None
    return model.to(device).eval(), meta


_CHECKED = {}  # (paths, sizes, mtimes) → None or the refusal: the listing runs on every page draw


def _checked(base: Path, meta: dict):
    stats = [(str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in (_file(base, s) for s in SUFFIXES)]
    key = tuple(stats)
    if key not in _CHECKED:
        try:
            check_checkpoint(base, meta)
            _CHECKED[key] = None
        except CheckpointError as e:
            _CHECKED[key] = e
    if _CHECKED[key] is not None:
        raise _CHECKED[key]


def list_checkpoints(dirs=None) -> list:
    """Every usable checkpoint in the shipped weights/ and the user's models folder: shipped first, then
    newest first. A checkpoint that load_checkpoint would refuse (a mismatched pair, a JSON that does not
    fit its weights) is left out; the checks read headers only and are cached per file version."""
    found = []
    for d in dirs or [WEIGHTS_DIR, models_dir()]:
        d = Path(d)
        if not d.is_dir():
            continue
        remove_stale_temporaries(d)
        for js in sorted(d.glob("*.json")):
            base = checkpoint_base(js)
            if not _file(base, ".safetensors").exists():
                continue
            try:
                meta = read_meta(js)
                _checked(base, meta)
            except CheckpointError:
                continue  # a stray, broken or half-replaced checkpoint is not a model; don't break the picker
            found.append({**meta, "path": str(base), "name": base.name, "shipped": d == WEIGHTS_DIR})
    found.sort(key=lambda m: str(m.get("created", "")), reverse=True)
    # stable: keeps newest-first within each group; the shipped digits models lead (pickers open on them:
    # drawing a digit, the classroom links; the plain GAN before the conditional one), then the other shipped
    # ones (cifar10-5k), then the user's
    return sorted(found, key=lambda m: (not m["shipped"], m["shipped"] and m.get("dataset") != "digits",
                                        m["shipped"] and m.get("kind") == "cdcgan"))
