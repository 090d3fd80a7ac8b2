"""checkpoint_zip: a checkpoint zip built in memory is the same loadable pair save_checkpoint writes."""
import io
import zipfile

import pytest
import torch

from imgai.models.checkpoint import CheckpointError, checkpoint_zip, load_checkpoint, models_dir
from imgai.models import CNN, CNN_PRESETS


def meta() -> dict:
    return {"kind": "cnn", "dataset": "digits", "class_names": [str(i) for i in range(10)],
            "image_size": 28, "channels": 1, "mean": [0.13], "std": [0.31], "intake": "digit"}


def tiny_cnn():
    torch.manual_seed(0)
    return CNN(CNN_PRESETS["fast"]())


def test_checkpoint_zip_is_a_loadable_pair_built_in_memory(tmp_path):
    model = tiny_cnn().eval()
    data = checkpoint_zip("mine", model, {**meta(), "step": 7})
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert sorted(z.namelist()) == ["mine.json", "mine.safetensors"]
        z.extractall(tmp_path)
    loaded, m = load_checkpoint(tmp_path / "mine")
    assert m["step"] == 7 and m["class_names"] == meta()["class_names"] and "config" in m
    x = torch.rand(2, 1, 28, 28)
    assert torch.equal(loaded(x), model(x))
    assert not models_dir().exists() or not any(models_dir().rglob("*"))   # nothing written
    with pytest.raises(ValueError):
        checkpoint_zip("../x", model, meta())


def test_a_checkpoint_needs_a_kind():
    with pytest.raises(CheckpointError, match="kind"):
        checkpoint_zip("x", tiny_cnn(), {"dataset": "digits"})
