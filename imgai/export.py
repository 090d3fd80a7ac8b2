"""A checkpoint as one zip made in memory, for a download that needs no disk: NAME.safetensors + NAME.json,
the same pair save_checkpoint writes, so unzipping it into a models folder gives a loadable checkpoint.

    data = checkpoint_zip("my-digits", model, meta)     # bytes of a zip; nothing is written anywhere

The app offers it beside every save, also when saving failed (disk full, read-only models folder): what a
run learned is never lost only because the server could not write it.
"""
from __future__ import annotations

import io
import json
import time
import zipfile

import torch
from safetensors.torch import save

from . import __version__
from .models import model_config


def checkpoint_files(model: torch.nn.Module, meta: dict) -> tuple[bytes, str]:
    """(safetensors bytes, JSON text) of a checkpoint, with the description fields save_checkpoint adds."""
    meta = {"config": model_config(model), "created": time.strftime("%Y-%m-%d %H:%M:%S"),
            "version": __version__, **meta}
    if "kind" not in meta:
        raise ValueError("a checkpoint needs a 'kind' (cnn, dcgan, photo-head)")
    # contiguous CPU copies, as save_checkpoint makes: safetensors refuses views and shared storage
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in model.state_dict().items()}
    return save(tensors), json.dumps(meta, indent=1, default=float)


def checkpoint_zip(name: str, model: torch.nn.Module, meta: dict) -> bytes:
    """A zip holding NAME.safetensors and NAME.json. The weights are stored, not deflated: float tensors
    hardly compress, and storing keeps a 10 MB model's zip quick to build on a busy server."""
    if not name or name in (".", "..") or any(c in name for c in "/\\\0"):
        raise ValueError(f"{name!r} is not a plain file name")
    weights, text = checkpoint_files(model, meta)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(f"{name}.safetensors", weights, compress_type=zipfile.ZIP_STORED)
        z.writestr(f"{name}.json", text, compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()
