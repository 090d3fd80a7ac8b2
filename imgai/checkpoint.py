"""Checkpoints: NAME.safetensors (weights) + NAME.json (everything needed to rebuild and use the model).

    save_checkpoint("models/mine", model, meta); model, meta = load_checkpoint("models/mine")

Safetensors holds only tensors, so loading a file from anyone runs no code (unlike torch.load of a pickle).
Both files are written to temporary names and moved into place, so a crash or a full disk never leaves a
half-written checkpoint behind the real name.
"""
import json
import os
import tempfile
import time
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from . import __version__
from .models import build_model, model_config

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
MAX_JSON_BYTES = 1_000_000  # a sidecar is a few KB; refuse anything absurd before parsing it


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be written or used; str(e) is one line for the user."""


def models_dir() -> Path:
    """Where the app saves the user's checkpoints."""
    return Path(os.environ.get("IMGAI_MODELS") or Path.home() / ".cache" / "imgai" / "models")


def _base(path) -> Path:
    p = Path(path)
    return p.with_suffix("") if p.suffix in (".safetensors", ".json") else p


def _atomic_write(target: Path, write):
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_checkpoint(path, model: torch.nn.Module, meta: dict) -> Path:
    """Write PATH.safetensors and PATH.json; returns PATH (no extension). meta needs at least "kind"."""
    base = _base(path)
    meta = {"config": model_config(model), "created": time.strftime("%Y-%m-%d %H:%M:%S"),
            "version": __version__, **meta}
    if "kind" not in meta:
        raise CheckpointError("a checkpoint needs a 'kind' (cnn, dcgan, photo-head)")
    # contiguous CPU copies; tensors that share storage (tied weights) would be refused by safetensors
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in model.state_dict().items()}
    try:
        base.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(base.with_suffix(".safetensors"), lambda tmp: save_file(tensors, tmp))
        text = json.dumps(meta, indent=1, default=float)
        _atomic_write(base.with_suffix(".json"), lambda tmp: Path(tmp).write_text(text))
    except OSError as e:
        raise CheckpointError(f"could not save the checkpoint {base.name}: {e.strerror or e}") from None
    return base


def read_meta(path) -> dict:
    base = _base(path)
    js = base.with_suffix(".json")
    try:
        if js.stat().st_size > MAX_JSON_BYTES:
            raise CheckpointError(f"{js.name}: too large to be a checkpoint description")
        meta = json.loads(js.read_text())
    except FileNotFoundError:
        raise CheckpointError(f"no checkpoint at {base} (expected {js.name} and {base.name}.safetensors)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{js.name}: not a readable checkpoint description ({type(e).__name__})") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("kind"), str) or not isinstance(meta.get("config"), dict):
        raise CheckpointError(f"{js.name}: not an imgai checkpoint description (no kind/config)")
    return meta


def load_checkpoint(path, device="cpu"):
    """Rebuild the model from the JSON alone and load its weights strictly. Returns (model in eval mode, meta)."""
    base = _base(path)
    meta = read_meta(base)
    try:
        model = build_model(meta["kind"], meta["config"])
    except (TypeError, ValueError, KeyError, RuntimeError) as e:
        raise CheckpointError(f"{base.name}: its config does not describe a model this version can build ({e})") from None
    try:
        tensors = load_file(str(base.with_suffix(".safetensors")), device=str(device))
        model.load_state_dict(tensors, strict=True)
    except FileNotFoundError:
        raise CheckpointError(f"{base.name}.safetensors is missing") from None
    except (SafetensorError, RuntimeError, OSError, ValueError) as e:
        first = str(e).strip().splitlines()[0][:160] if str(e).strip() else type(e).__name__
        raise CheckpointError(f"{base.name}: weights do not fit the model ({first})") from None
    return model.to(device).eval(), meta


def list_checkpoints(dirs=None) -> list:
    """Every checkpoint in the shipped weights/ and the user's models folder: shipped first, then newest first."""
    found = []
    for d in dirs or [WEIGHTS_DIR, models_dir()]:
        for js in sorted(Path(d).glob("*.json")) if Path(d).is_dir() else []:
            if not js.with_suffix(".safetensors").exists():
                continue
            try:
                meta = read_meta(js)
            except CheckpointError:
                continue  # a stray or broken JSON file is not a model; don't break the picker for it
            found.append({**meta, "path": str(js.with_suffix("")), "name": js.stem, "shipped": Path(d) == WEIGHTS_DIR})
    found.sort(key=lambda m: str(m.get("created", "")), reverse=True)
    # stable: keeps newest-first within each group; the shipped digits models lead (pickers open on them:
    # drawing a digit, the classroom links), then the other shipped ones (cifar10-5k), then the user's
    return sorted(found, key=lambda m: (not m["shipped"], m["shipped"] and m.get("dataset") != "digits"))
