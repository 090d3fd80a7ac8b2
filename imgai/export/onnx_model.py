"""A checkpoint as an ONNX graph that onnxruntime (Python) and onnxruntime-web (the browser) both run.

    graph, names = onnx_graph(model, meta)     # torch module to export, its input and output names

What goes into the graph is what `imgai classify` / the Latent page compute after the picture has become
pixels, so an exported model gives the same answer as imgai:
  - a classifier: the network, its test-time augmentation (the checkpoint's "tta": the mirrored and
    moved copies are part of the graph) and the softmax; outputs "logits" and "probabilities";
  - a generator: G(z) mapped from [-1, 1] to pixels in [0, 1]; inputs "z" (and "label" for the
    conditional GAN); output "images" (N, C, H, W).
The ImageNet-feature photo classifier exports whole (backbone and head, about 14 MB).
"""
import io
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F

from imgai.models.tta import tta_views

# Opset 17: onnxruntime 1.14+ and onnxruntime-web's wasm backend run every operator these models use
# (Conv, BatchNormalization folded, Relu, MaxPool, Gemm, ConvTranspose, Pad reflect, Softmax, Gather).
OPSET = 17


class ClassifierGraph(nn.Module):
    """x (B, C, H, W), normalised → (logits, probabilities), both (B, classes)."""

    def __init__(self, model: nn.Module, tta: str):
        super().__init__()
        self.model, self.tta = model, tta

    def forward(self, x):
        # One pass per view, not imgai.models.tta's one batched pass: slicing the batch back apart would put
        # the batch size into the graph as a constant. The weighted sum is the same.
        logits = sum(w * self.model(v) for w, v in tta_views(x, self.tta))
        return logits, F.softmax(logits, dim=1)


class GeneratorGraph(nn.Module):
    """z (B, nz) [, label (B,) int64] → images (B, C, H, W), pixels in [0, 1]."""

    def __init__(self, generator: nn.Module):
        super().__init__()
        self.generator = generator

    def forward(self, z, *label):
        return ((self.generator(z, *label) + 1) / 2).clamp(0, 1)


def onnx_graph(model: nn.Module, meta: dict) -> tuple[nn.Module, list[str], list[str], tuple]:
    """(module to export, input names, output names, example inputs) for a loaded checkpoint's model."""
    kind = meta["kind"]
    if kind in ("cnn", "photo-head", "imagenet"):
        size, channels = meta["image_size"], meta["channels"]
        example = (torch.zeros(1, channels, size, size),)
        return ClassifierGraph(model, meta.get("tta", "none")), ["input"], ["logits", "probabilities"], example
    nz = meta["config"]["nz"]
    if kind == "cdcgan":
        example = (torch.zeros(1, nz), torch.zeros(1, dtype=torch.long))
        return GeneratorGraph(model.generator), ["z", "label"], ["images"], example
    if kind == "dcgan":
        return GeneratorGraph(model.generator), ["z"], ["images"], (torch.zeros(1, nz),)
    raise ValueError(f"cannot export a {kind} model")


def to_onnx(model: nn.Module, meta: dict) -> bytes:
    """The model as ONNX bytes, the batch size free (every input's first axis is "batch")."""
    graph, inputs, outputs, example = onnx_graph(model, meta)
    graph = graph.eval()
    buf = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")   # the tracer's notes on constant folding: about the graph, not the user's
        # dynamo=False: the TorchScript exporter works offline and without onnxscript; the dynamo one
        # pulls in more packages for nothing these small graphs need.
        torch.onnx.export(graph, example, buf, input_names=inputs, output_names=outputs, opset_version=OPSET,
                          dynamic_axes={n: {0: "batch"} for n in inputs + outputs}, dynamo=False,
                          do_constant_folding=True)
    return buf.getvalue()
