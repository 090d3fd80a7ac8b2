"""Export: a checkpoint as ONNX with everything needed to use it elsewhere (labels, preprocessing, a
browser demo), checked against imgai's own answers before it is written.

    export_checkpoint("weights/digits-cnn", "out/digits-cnn")      # python -m imgai export does this
"""
import io
from pathlib import Path

from .package import ExportError, export_files, export_zip, write_export


def load_for_export(weights) -> tuple:
    """(model, meta, name) of a checkpoint, the model as Classify or the Latent page runs it."""
    from imgai.models.checkpoint import checkpoint_base, load_checkpoint
    model, meta = load_checkpoint(weights)
    if meta["kind"] == "photo-head":   # the head alone is not the classifier: the backbone goes in too
        from imgai.models.imagenet import PhotoClassifier, load_imagenet_model
        model = PhotoClassifier(load_imagenet_model(), model)
    return model.eval(), meta, checkpoint_base(weights).name


def export_checkpoint_zip(blob: bytes, name: str) -> dict[str, bytes]:
    """The export of a checkpoint zip made by imgai.models.checkpoint.checkpoint_zip (a job's latest weights,
    a Teach model): loaded through the same strict checks as a checkpoint on disk."""
    import tempfile
    import zipfile
    with tempfile.TemporaryDirectory(prefix="imgai-export-") as tmp, zipfile.ZipFile(io.BytesIO(blob)) as z:
        for suffix in (".safetensors", ".json"):
            (Path(tmp) / f"{name}{suffix}").write_bytes(z.read(f"{name}{suffix}"))
        model, meta, _ = load_for_export(Path(tmp) / name)
        return export_files(model, meta, name)


def export_checkpoint(weights, out_dir) -> Path:
    model, meta, name = load_for_export(weights)
    return write_export(export_files(model, meta, name), out_dir)


__all__ = ["ExportError", "export_checkpoint", "export_checkpoint_zip", "export_files", "export_zip", "load_for_export", "write_export"]
