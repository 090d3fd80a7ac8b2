"""The arithmetic shown inside the network is the network's own: each conv cell's numbers are checked against
an independent computation from the checkpoint file's tensors (safetensors + numpy) and the forward pass's
own output, for the first and a later conv layer of the shipped digits and CIFAR models."""
import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors.numpy import load_file

from imgai.inference.arithmetic import (InspectError, explain_cell, output_size, parse_kernel, preset_kernel,
                                        sandbox, softmax_table, trace_forward)
from imgai.inference.classify import load_classifier
from imgai.models.checkpoint import WEIGHTS_DIR

MODELS = ["digits-cnn", "cifar10-cnn"]


@pytest.fixture(scope="module", params=MODELS)
def model(request):
    from imgai.data.datasets import load_dataset
    name = request.param
    clf = load_classifier(str(WEIGHTS_DIR / name))
    data = load_dataset(clf.meta["dataset"])
    u8 = data.val_x[3].permute(1, 2, 0).numpy()
    img = Image.fromarray(u8[..., 0] if u8.shape[-1] == 1 else u8).convert("RGB")
    x = clf.prepare(img)
    return clf, x, load_file(str(WEIGHTS_DIR / f"{name}.safetensors"))


def _independent_conv_input(clf, x, layer):
    """The input of conv `layer`, by running the model's layers by hand up to it (no hooks involved)."""
    h, seen = x, 0
    for m in clf.model.features.modules():
        if isinstance(m, torch.nn.Sequential):
            continue
        if isinstance(m, torch.nn.Conv2d):
            if seen == layer:
                return h[0].numpy().astype(np.float64), m
            seen += 1
        h = m(h)
    raise AssertionError("layer not found")


@pytest.mark.parametrize("layer", [0, 2])
def test_cell_equals_dot_product_of_checkpoint_tensors(model, layer):
    clf, x, tensors = model
    with torch.no_grad():
        trace = trace_forward(clf.model, x)
        c, i, j = 5, 0, 3                                     # a border cell: part of its window is padding
        cell = explain_cell(trace, layer, c, i, j)
        inp, conv = _independent_conv_input(clf, x, layer)
        out_real = conv(torch.from_numpy(inp).float()[None])[0, c, i, j].item()
    w = tensors[cell["kernel_name"]].astype(np.float64)[c]     # (in, kh, kw) straight from the file
    p, (kh, kw), (s, _) = conv.padding[0], conv.kernel_size, conv.stride
    padded = np.pad(inp, ((0, 0), (p, p), (p, p)))
    window = padded[:, i * s:i * s + kh, j * s:j * s + kw]
    bias = tensors[cell["bias_name"]][c] if cell["bias_name"] else 0.0
    expected = float((window * w).sum() + bias)
    assert np.allclose(cell["window"], window, atol=1e-6)
    assert np.allclose(cell["kernel"], w, atol=1e-7)
    assert cell["sum"] == pytest.approx(expected, abs=1e-4)
    assert cell["output"] == pytest.approx(out_real, abs=1e-5)
    assert cell["sum"] == pytest.approx(cell["output"], abs=1e-4)


def test_steps_after_the_conv_follow_the_forward_pass(model):
    """BatchNorm, ReLU and max-pool after conv layer 1, in the order the network runs them (the digits CNN pools
    last, the whitened CIFAR CNN pools first), each recomputed by hand from the file's tensors."""
    clf, x, tensors = model
    trace = trace_forward(clf.model, x)
    cell = explain_cell(trace, 1, 7, 4, 5)
    kinds = [s["kind"] for s in cell["after"]]
    assert sorted(kinds) == ["batchnorm", "maxpool", "relu"]
    value = cell["output"]
    for step in cell["after"]:
        if step["kind"] == "batchnorm":
            prefix = step["module"]
            mean, var = tensors[prefix + ".running_mean"][7], tensors[prefix + ".running_var"][7]
            gamma, beta = tensors[prefix + ".weight"][7], tensors[prefix + ".bias"][7]
            by_hand = (value - mean) / math.sqrt(var + 1e-5) * gamma + beta
            assert step["output"] == pytest.approx(by_hand, abs=1e-4)
            assert step["computed"] == pytest.approx(step["output"], abs=1e-4)
        elif step["kind"] == "relu":
            assert step["output"] == max(0.0, value)
        else:
            assert step["at"] == [2, 2] and step["survivor"] == pytest.approx(np.max(step["window"]))
            assert value in np.ravel(step["window"])
            value = step["survivor"]
            continue
        value = step["output"]


def test_bad_cells_are_one_line_errors(model):
    clf, x, _ = model
    trace = trace_forward(clf.model, x)
    for args in [(9, 0, 0, 0), (0, 999, 0, 0), (0, 0, 99, 0)]:
        with pytest.raises(InspectError) as e:
            explain_cell(trace, *args)
        assert "\n" not in str(e.value)


def test_trace_leaves_no_hooks_and_keeps_the_logits(model):
    clf, x, _ = model
    trace = trace_forward(clf.model, x)
    assert all(not m._forward_hooks for m in clf.model.modules())
    with torch.no_grad():
        assert torch.allclose(trace.logits, clf.model(x)[0])


@pytest.mark.parametrize("t", [0.25, 1.0, 3.0])
def test_softmax_sums_to_one_and_sharpens_when_cold(t):
    z = torch.tensor([2.0, 1.0, -1.0, 0.5])
    rows = softmax_table(z, t)
    assert sum(r["prob"] for r in rows) == pytest.approx(1.0)
    assert [r["prob"] for r in rows] == pytest.approx(torch.softmax(z / t, 0).tolist(), abs=1e-6)
    assert max(r["prob"] for r in softmax_table(z, 0.25)) > max(r["prob"] for r in softmax_table(z, 3.0))
    huge = softmax_table(torch.tensor([5000.0, 0.0]), 1.0)     # no overflow
    assert huge[0]["prob"] == pytest.approx(1.0)
    with pytest.raises(InspectError):
        softmax_table(z, 0)


def test_sandbox_output_size_and_values():
    img = np.arange(49, dtype=float).reshape(7, 7)
    k = preset_kernel("blur", 3)
    out = sandbox(img, k, padding=1, stride=2)
    assert (out["out_h"], out["out_w"]) == (4, 4) == out["output"].shape
    assert output_size(28, 5, 0, 1) == 24 and output_size(32, 3, 1, 1) == 32
    assert out["output"][1, 1] == pytest.approx(img[1:4, 1:4].mean())      # Y[i,j] = Σ X[i+m, j+n]·K[m,n]
    assert np.allclose(sandbox(img, preset_kernel("identity", 3))["output"], img[1:-1, 1:-1])
    assert np.allclose(parse_kernel("1 0 -1\n2, 0, -2\n1 0 -1"), [[1, 0, -1], [2, 0, -2], [1, 0, -1]])
    for bad in ["1 2\n3", "a b\nc d", ""]:
        with pytest.raises(InspectError):
            parse_kernel(bad)
    with pytest.raises(InspectError):
        sandbox(img, np.ones((9, 9)))


def test_cli_prints_the_cell(tmp_path, capsys):
    from imgai.cli import main
    from imgai.data.datasets import load_dataset
    d = load_dataset("digits")
    Image.fromarray(d.val_x[0, 0].numpy()).save(tmp_path / "d.png")
    assert main(["inspect", "--weights", str(WEIGHTS_DIR / "digits-cnn"), "--image", str(tmp_path / "d.png"),
                 "--layer", "1", "--channel", "3", "--at", "2", "5"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["kernel_name"] == "features.2.0.weight" and np.shape(out["window"]) == (32, 3, 3)
    assert out["sum"] == pytest.approx(out["output"], abs=1e-4) and out["bias"] == 0.0
    assert main(["inspect", "--weights", str(WEIGHTS_DIR / "digits-cnn"), "--image", str(tmp_path / "d.png"),
                 "--layer", "7"]) == 2
