"""Fake and mismatched checkpoints, generated from a small real model: each case damages or crafts one pair,
and CORPUS says what the one-line refusal must contain. Used by test_checkpoint (load_checkpoint) and
test_cli (the command line)."""
import hashlib
import json
import os

import torch
from safetensors.torch import save_file

from imgai.models.checkpoint import HASH_KEY, save_checkpoint
from imgai.models import CNN, CNN_PRESETS

TINY = dict(stages=[[4], [8]], hidden=8)


def meta(kind="cnn"):
    return {"kind": kind, "dataset": "digits", "class_names": [str(i) for i in range(10)], "image_size": 28,
            "channels": 1, "mean": [0.1307], "std": [0.3081], "intake": "digit", "step": 3, "metrics": {"val_acc": 0.5}}


def tiny_cnn(**kw):
    torch.manual_seed(0)
    return CNN(CNN_PRESETS["textbook"](**{**TINY, **kw}))


def make(case, folder, name="m"):
    """A good checkpoint FOLDER/NAME, then damaged by `case`; returns its base path."""
    base = folder / name
    save_checkpoint(base, tiny_cnn(), meta())
    case(base)
    return base


def write_pair(base, tensors: dict, info: dict):
    """A checkpoint pair as a crafter would write it: any tensors, any JSON, with a matching hash."""
    save_file(tensors, str(base) + ".safetensors")
    info = {**info, HASH_KEY: hashlib.sha256((base.parent / (base.name + ".safetensors")).read_bytes()).hexdigest()}
    (base.parent / (base.name + ".json")).write_text(json.dumps(info))


def _json(base):
    return json.loads((base.parent / (base.name + ".json")).read_text())


def _tensors(model):
    return {k: v.contiguous() for k, v in model.state_dict().items()}


def case_no_class_names(base):
    info = _json(base)
    del info["class_names"]
    write_pair(base, _tensors(tiny_cnn()), info)


def case_two_names_for_ten_outputs(base):
    info = _json(base)
    info["class_names"], info["config"]["num_classes"] = ["cat", "dog"], 2
    write_pair(base, _tensors(tiny_cnn()), info)


def case_names_disagree_with_config(base):
    write_pair(base, _tensors(tiny_cnn()), {**_json(base), "class_names": ["cat", "dog"]})


def case_three_channels_for_a_grey_net(base):
    info = _json(base)
    info.update(channels=3, mean=[0.5] * 3, std=[0.25] * 3)
    info["config"]["in_channels"] = 3
    write_pair(base, _tensors(tiny_cnn()), info)


def case_image_size_2000(base):
    info = _json(base)
    info["image_size"] = info["config"]["image_size"] = 2000
    write_pair(base, _tensors(tiny_cnn()), info)


def case_absurd_widths(base):
    info = _json(base)
    info["config"].update(stages=[[4096], [4096], [4096]], hidden=4096)  # about 0.3 GB of weights if built
    write_pair(base, _tensors(tiny_cnn()), info)


def case_other_hidden_width(base):
    info = _json(base)
    info["config"]["hidden"] = 16
    write_pair(base, _tensors(tiny_cnn()), info)


def case_missing_tensor(base):
    t = _tensors(tiny_cnn())
    del t["classifier.5.bias"]
    write_pair(base, t, _json(base))


def case_extra_tensor(base):
    write_pair(base, {**_tensors(tiny_cnn()), "trojan": torch.zeros(3)}, _json(base))


def case_unknown_setting(base):
    info = _json(base)
    info["config"]["layers"] = 7
    write_pair(base, _tensors(tiny_cnn()), info)


def case_wrong_mean(base):
    write_pair(base, _tensors(tiny_cnn()), {**_json(base), "mean": [0.1, 0.2, 0.3]})


def case_unknown_kind(base):
    write_pair(base, _tensors(tiny_cnn()), {**_json(base), "kind": "transformer"})


def case_weights_of_another_save(base):
    other = base.parent / "other"
    save_checkpoint(other, tiny_cnn(hidden=16), {**meta(), "step": 99})
    os.replace(str(other) + ".safetensors", str(base) + ".safetensors")  # the old JSON beside new weights


def case_not_a_weights_file(base):
    (base.parent / (base.name + ".safetensors")).write_bytes(b"\x00" * 100)
    info = _json(base)
    info.pop(HASH_KEY)
    (base.parent / (base.name + ".json")).write_text(json.dumps(info))


def case_pickle(base):  # a torch pickle under a safetensors name must never be unpickled
    torch.save({"x": torch.zeros(1)}, str(base) + ".safetensors")


def case_broken_json(base):
    (base.parent / (base.name + ".json")).write_text("{not json")


def case_missing_weights(base):
    (base.parent / (base.name + ".safetensors")).unlink()


CORPUS = {  # case → what the one line must say
    case_no_class_names: "no class names",
    case_two_names_for_ten_outputs: "the weights have 10 outputs but its description names 2 classes",
    case_names_disagree_with_config: "names 2 classes but its config has 10 outputs",
    case_three_channels_for_a_grey_net: "the weights take 1-channel images but its description says 3",
    case_image_size_2000: "image size 2000 is not one",
    case_absurd_widths: "million numbers",
    case_other_hidden_width: "classifier.2.weight is 8×968 in the weights but 16×968",
    case_missing_tensor: "the weights lack classifier.5.bias",
    case_extra_tensor: "the weights hold trojan",
    case_unknown_setting: "config does not describe a model",
    case_wrong_mean: "its mean should be 1 number",
    case_unknown_kind: "unknown model kind",
    case_weights_of_another_save: "not the one its description was saved with",
    case_not_a_weights_file: "not a weights file",
    case_pickle: "m",
    case_broken_json: "not a readable checkpoint description",
    case_missing_weights: "missing",
}
