import json

import pytest
import torch

from imgai.checkpoint import CheckpointError, list_checkpoints, load_checkpoint, models_dir, save_checkpoint
from imgai.models import CNN, CNN_PRESETS, DCGAN, GAN_PRESETS


def meta(kind="cnn"):
    return {"kind": kind, "dataset": "digits", "class_names": [str(i) for i in range(10)], "image_size": 28,
            "channels": 1, "mean": [0.1307], "std": [0.3081], "intake": "digit", "step": 3, "metrics": {"val_acc": 0.5}}


@pytest.mark.parametrize("kind,model", [("cnn", lambda: CNN(CNN_PRESETS["fast"]())),
                                        ("dcgan", lambda: DCGAN(GAN_PRESETS["fast"]()))])
def test_save_then_load_gives_identical_outputs(tmp_path, kind, model):
    torch.manual_seed(0)
    m = model().eval()
    path = save_checkpoint(tmp_path / "m", m, meta(kind))
    assert (tmp_path / "m.safetensors").exists() and (tmp_path / "m.json").exists()
    loaded, info = load_checkpoint(str(path) + ".safetensors")  # with or without the extension
    assert info["kind"] == kind and info["config"] and info["version"]
    if kind == "cnn":
        x = torch.randn(4, 1, 28, 28)
        assert torch.equal(m(x), loaded(x))
    else:
        z = torch.randn(4, 100)
        assert torch.equal(m.generator(z), loaded.generator(z))
    assert not list(tmp_path.glob("*.tmp"))  # no temporary files left behind


def test_loading_is_strict(tmp_path):
    save_checkpoint(tmp_path / "m", CNN(CNN_PRESETS["fast"]()), meta())
    info = json.loads((tmp_path / "m.json").read_text())
    info["config"]["hidden"] = 32  # the JSON no longer describes the weights
    (tmp_path / "m.json").write_text(json.dumps(info))
    with pytest.raises(CheckpointError, match="do not fit"):
        load_checkpoint(tmp_path / "m")


@pytest.mark.parametrize("damage", ["weights", "json", "missing", "pickle"])
def test_broken_checkpoints_fail_with_one_line(tmp_path, damage):
    base = tmp_path / "m"
    save_checkpoint(base, CNN(CNN_PRESETS["fast"]()), meta())
    if damage == "weights":
        (tmp_path / "m.safetensors").write_bytes(b"\x00" * 100)
    elif damage == "json":
        (tmp_path / "m.json").write_text("{not json")
    elif damage == "missing":
        (tmp_path / "m.safetensors").unlink()
    else:  # a torch pickle under a safetensors name must never be unpickled
        torch.save({"x": torch.zeros(1)}, tmp_path / "m.safetensors")
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(base)
    assert "\n" not in str(e.value)


def test_a_failed_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    base = tmp_path / "m"
    save_checkpoint(base, CNN(CNN_PRESETS["fast"]()), meta())
    before = (tmp_path / "m.safetensors").read_bytes()

    def full_disk(*a, **k):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr("imgai.checkpoint.save_file", full_disk)
    with pytest.raises(CheckpointError, match="No space left"):
        save_checkpoint(base, CNN(CNN_PRESETS["fast"]()), meta())
    assert (tmp_path / "m.safetensors").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "m.safetensors"]


def test_list_checkpoints_finds_shipped_and_user_models(tmp_path):
    save_checkpoint(models_dir() / "mine", CNN(CNN_PRESETS["fast"]()), meta())
    (models_dir() / "stray.json").write_text("{}")  # not a checkpoint: ignored
    found = {m["name"]: m for m in list_checkpoints()}
    assert "mine" in found and not found["mine"]["shipped"]
    assert found["mine"]["metrics"]["val_acc"] == 0.5
    assert "stray" not in found
    shipped = [m for m in found.values() if m["shipped"]]
    assert {m["name"] for m in shipped} >= {"digits-cnn", "digits-dcgan"}
