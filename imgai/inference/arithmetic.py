"""The arithmetic inside a classifier, with its own numbers: one feature-map cell of any conv layer written out
as Σ window · kernel + bias, then the BatchNorm, activation and pooling steps that follow it; softmax with a
temperature; and a sandbox convolution with a hand-chosen kernel.

    trace = trace_forward(clf.model, x); cell = explain_cell(trace, layer=1, channel=5, i=3, j=4)

trace_forward runs the real forward pass once with forward hooks on every module, so every number shown is
the one that pass computed (the hooks keep copies: in-place ReLUs overwrite their input). Works for any model
built from nn.Conv2d / nn.BatchNorm2d / activations / nn.MaxPool2d / nn.AvgPool2d, in whatever order they run.
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.SiLU, nn.GELU, nn.Tanh, nn.Sigmoid, nn.Hardswish, nn.ELU)
POOLS = (nn.MaxPool2d, nn.AvgPool2d)


class InspectError(ValueError):
    """A layer, channel or position that does not exist; str(e) is one line for the user."""


@dataclass
class Step:
    """One module call of the forward pass: its state-dict prefix, the module, its input and output copies."""
    name: str
    module: nn.Module
    input: torch.Tensor    # (1, C, H, W) for conv / BN / pool, as the module received it
    output: torch.Tensor


@dataclass
class Trace:
    steps: list            # every hooked module call, in the order the forward pass made them
    logits: torch.Tensor   # (classes,): the model's output of the same pass

    @property
    def convs(self) -> list:
        return [k for k, s in enumerate(self.steps) if isinstance(s.module, nn.Conv2d)]


@torch.no_grad()
def trace_forward(model: nn.Module, x: torch.Tensor) -> Trace:
    """One eval forward pass of x (1, C, H, W) with every module's input and output kept.

    Hooks record only calls from this thread: a model shared with other sessions stays usable meanwhile."""
    if x.ndim != 4 or x.shape[0] != 1:
        raise InspectError(f"expected one picture (1, C, H, W), not a tensor of shape {tuple(x.shape)}")
    me, steps, handles = threading.get_ident(), [], []

    def hook(name):
        def keep(module, inputs, output):
            if threading.get_ident() == me and inputs and torch.is_tensor(inputs[0]) and torch.is_tensor(output):
                steps.append(Step(name, module, inputs[0].detach().clone(), output.detach().clone()))
        return keep
    try:
        for name, m in model.named_modules():
            if isinstance(m, (nn.Conv2d, nn.BatchNorm2d, nn.Linear, *ACTIVATIONS, *POOLS)):
                handles.append(m.register_forward_hook(hook(name)))
        was_training = model.training
        model.eval()
        logits = model(x)
        model.train(was_training)
    finally:
        for h in handles:
            h.remove()
    return Trace(steps, logits[0].detach().clone())


def _pad_tl(conv: nn.Conv2d) -> tuple[int, int]:
    """(top, left) zero padding the conv applies: its own padding, or a static ZeroPad2d in front (EfficientNet)."""
    pad = getattr(conv, "static_padding", None)
    if isinstance(pad, nn.ZeroPad2d):
        left, _, top, _ = pad.padding
        return int(top), int(left)
    if isinstance(conv.padding, str):
        raise InspectError("convolutions with padding='same' given as a word are not supported")
    return int(conv.padding[0]), int(conv.padding[1])


def conv_window(x: torch.Tensor, conv: nn.Conv2d, channel: int, i: int, j: int):
    """The input window that output (channel, i, j) of `conv` reads: (in/groups, kh, kw) values, padding as 0,
    and the window's top-left corner in input coordinates (may be negative: padding)."""
    kh, kw = conv.kernel_size
    sh, sw = conv.stride
    dh, dw = conv.dilation
    top, left = _pad_tl(conv)
    cin_g = conv.in_channels // conv.groups
    g = channel // (conv.out_channels // conv.groups)
    inp = x[0, g * cin_g:(g + 1) * cin_g]                       # (cin_g, H, W)
    H, W = inp.shape[-2:]
    r0, c0 = i * sh - top, j * sw - left
    win = torch.zeros(cin_g, kh, kw, dtype=inp.dtype)
    for m in range(kh):
        for n in range(kw):
            r, c = r0 + m * dh, c0 + n * dw
            if 0 <= r < H and 0 <= c < W:
                win[:, m, n] = inp[:, r, c]
    return win, (r0, c0)


def _bn_step(step: Step, channel: int, value: float) -> dict:
    bn = step.module
    mean, var = float(bn.running_mean[channel]), float(bn.running_var[channel])
    gamma = float(bn.weight[channel]) if bn.weight is not None else 1.0
    beta = float(bn.bias[channel]) if bn.bias is not None else 0.0
    scale = gamma / math.sqrt(var + bn.eps)                  # BN in eval mode is one scale and shift per channel
    return {"kind": "batchnorm", "module": step.name, "input": value, "mean": mean, "var": var, "eps": bn.eps,
            "gamma": gamma, "beta": beta, "scale": scale, "shift": beta - mean * scale,
            "computed": value * scale + beta - mean * scale}


def _pool_step(step: Step, channel: int, i: int, j: int, value: float) -> tuple[dict, tuple | None]:
    pool = step.module
    k = pool.kernel_size if isinstance(pool.kernel_size, tuple) else (pool.kernel_size,) * 2
    s = pool.stride if isinstance(pool.stride, tuple) else (pool.stride,) * 2
    p = pool.padding if isinstance(pool.padding, tuple) else (pool.padding,) * 2
    out_h, out_w = step.output.shape[-2:]
    # the pooling windows that contain (i, j): for the usual 2×2 stride 2 exactly one, none at a dropped edge
    rows = [r for r in range(out_h) if r * s[0] - p[0] <= i < r * s[0] - p[0] + k[0]]
    cols = [c for c in range(out_w) if c * s[1] - p[1] <= j < c * s[1] - p[1] + k[1]]
    out = {"kind": "maxpool" if isinstance(pool, nn.MaxPool2d) else "avgpool", "module": step.name,
           "input": value, "size": list(k), "stride": list(s)}
    if not rows or not cols:
        out.update(window=None, survivor=None, survives=False, at=None)
        return out, None
    r, c = rows[0], cols[0]
    r0, c0 = r * s[0] - p[0], c * s[1] - p[1]
    x = step.input[0, channel]
    win = x[max(r0, 0):r0 + k[0], max(c0, 0):c0 + k[1]]
    survivor = float(step.output[0, channel, r, c])
    out.update(window=win.tolist(), window_at=[r0, c0], at=[r, c], survivor=survivor,
               survives=bool(isinstance(pool, nn.MaxPool2d) and value == survivor))
    return out, (r, c)


@torch.no_grad()
def explain_cell(trace: Trace, layer: int, channel: int, i: int, j: int, state_names: dict | None = None) -> dict:
    """Output (channel, i, j) of conv layer `layer` (counted from 0) as arithmetic, with the BN, activation
    and pooling steps that follow it up to the next conv (after a pool, the window's survivor goes on). Every
    value comes from the traced pass."""
    convs = trace.convs
    if not 0 <= layer < len(convs):
        raise InspectError(f"layer {layer} does not exist: this network has conv layers 0 to {len(convs) - 1}")
    k = convs[layer]
    step = trace.steps[k]
    conv, out = step.module, step.output
    C, H, W = out.shape[1:]
    if not 0 <= channel < C:
        raise InspectError(f"channel {channel} does not exist: conv layer {layer} has channels 0 to {C - 1}")
    if not (0 <= i < H and 0 <= j < W):
        raise InspectError(f"position ({i}, {j}) is outside conv layer {layer}'s {H}×{W} maps")
    window, (r0, c0) = conv_window(step.input, conv, channel, i, j)
    kernel = conv.weight.detach()[channel].to(window.dtype)          # (in/groups, kh, kw)
    products = window * kernel
    bias = float(conv.bias[channel]) if conv.bias is not None else 0.0
    total = float(products.double().sum()) + bias
    prefix = step.name + "." if step.name else ""
    cell = {"layer": layer, "module": step.name, "kernel_name": prefix + "weight",
            "bias_name": prefix + "bias" if conv.bias is not None else None,
            "channel": channel, "at": [i, j], "in_channels": int(window.shape[0]),
            "input_shape": list(step.input.shape[1:]), "output_shape": [C, H, W],
            "stride": list(conv.stride), "padding": list(_pad_tl(conv)), "window_at": [r0, c0],
            "window": window.tolist(), "kernel": kernel.tolist(), "products": products.tolist(),
            "bias": bias, "sum": total, "output": float(out[0, channel, i, j])}
    value, pos, after = cell["output"], (i, j), []
    for nxt in trace.steps[k + 1:]:
        m = nxt.module
        if isinstance(m, nn.BatchNorm2d):
            s = _bn_step(nxt, channel, value)
        elif isinstance(m, ACTIVATIONS):
            s = {"kind": type(m).__name__.lower(), "module": nxt.name, "input": value}
        elif isinstance(m, POOLS):
            s, pos = _pool_step(nxt, channel, *pos, value)
            s["output"] = s["survivor"]
            after.append(s)
            if pos is None:   # a dropped edge: nothing of this cell goes on
                break
            value = s["output"]   # a network that pools first (the whitened CNN) goes on with the survivor
            continue
        else:
            break
        if nxt.output.ndim != 4 or nxt.output.shape[1] != C:
            break
        s["output"] = float(nxt.output[0, channel, pos[0], pos[1]])
        value = s["output"]
        after.append(s)
    cell["after"] = after
    return cell


def softmax_table(logits, temperature: float = 1.0, class_names=None) -> list[dict]:
    """logits → rows of {name, logit, scaled (z/T), exp (e^(z/T)), prob}: softmax written out. exp is taken
    after subtracting the largest z/T when e^(z/T) would overflow (the probabilities are the same)."""
    if not temperature > 0:
        raise InspectError(f"the temperature must be positive, not {temperature}")
    z = np.asarray(torch.as_tensor(logits).detach().double().cpu(), dtype=np.float64).ravel()
    scaled = z / temperature
    shift = scaled.max() if scaled.max() > 700 else 0.0       # exp(709) is the largest float64
    e = np.exp(scaled - shift)
    p = e / e.sum()
    names = class_names or [str(k) for k in range(len(z))]
    return [{"name": names[k], "logit": float(z[k]), "scaled": float(scaled[k]), "exp": float(e[k]),
             "shift": float(shift), "prob": float(p[k])} for k in range(len(z))]


SANDBOX_KERNELS = ("edge", "blur", "sharpen", "identity")


def preset_kernel(name: str, size: int = 3) -> np.ndarray:
    """A hand-chosen size×size kernel: edge (Laplacian-like: centre minus surround), blur (box average),
    sharpen (2 × identity − blur) or identity."""
    if size < 1 or size % 2 == 0:
        raise InspectError(f"a kernel size must be odd and positive, not {size}")
    ident = np.zeros((size, size))
    ident[size // 2, size // 2] = 1.0
    blur = np.full((size, size), 1.0 / size ** 2)
    kernels = {"identity": ident, "blur": blur, "sharpen": 2 * ident - blur,
               "edge": np.where(ident > 0, size * size - 1.0, -1.0)}
    if name not in kernels:
        raise InspectError(f"unknown kernel {name!r}; expected one of {', '.join(SANDBOX_KERNELS)}")
    return kernels[name]


def parse_kernel(text: str) -> np.ndarray:
    """Typed numbers, one row a line (spaces or commas between numbers) → a square kernel."""
    rows = [r.replace(",", " ").split() for r in text.strip().splitlines() if r.strip()]
    try:
        k = np.array([[float(v) for v in r] for r in rows], dtype=np.float64)
    except ValueError:
        raise InspectError("a kernel is numbers only, one row a line") from None
    if k.ndim != 2 or k.shape[0] != k.shape[1] or k.shape[0] == 0 or k.shape[0] > 15:
        raise InspectError("type a square kernel (the same count of numbers on each line, at most 15×15)")
    if not np.isfinite(k).all():
        raise InspectError("a kernel's numbers must be finite")
    return k


def output_size(n: int, k: int, padding: int, stride: int) -> int:
    """floor((n + 2p − k) / s) + 1: positions a k-wide kernel takes with stride s over n values padded by p."""
    return (n + 2 * padding - k) // stride + 1


def sandbox(image: np.ndarray, kernel: np.ndarray, padding: int = 0, stride: int = 1) -> dict:
    """Convolve a grey picture (H, W) with `kernel`: {output (h, w) float, out_h, out_w, explanation}."""
    img = np.asarray(image, dtype=np.float64)
    if img.ndim == 3:
        img = img.mean(axis=2)
    k = np.asarray(kernel, dtype=np.float64)
    if padding < 0 or stride < 1:
        raise InspectError("padding must be 0 or more and stride 1 or more")
    H, W = img.shape
    oh, ow = output_size(H, k.shape[0], padding, stride), output_size(W, k.shape[1], padding, stride)
    if oh < 1 or ow < 1:
        raise InspectError(f"a {k.shape[0]}×{k.shape[1]} kernel does not fit a {H}×{W} picture padded by {padding}")
    # F.conv2d is cross-correlation: the seed's Y[i,j] = Σ X[i+m, j+n] · K[m,n], no flip
    y = F.conv2d(torch.from_numpy(img)[None, None], torch.from_numpy(k)[None, None], padding=padding,
                 stride=stride)[0, 0].numpy()
    why = (f"floor(({H} + 2·{padding} − {k.shape[0]}) / {stride}) + 1 = {oh} rows, "
           f"floor(({W} + 2·{padding} − {k.shape[1]}) / {stride}) + 1 = {ow} columns")
    return {"output": y, "out_h": oh, "out_w": ow, "explanation": why}


def conv_layers(trace: Trace) -> list[dict]:
    """What each conv layer of the traced pass is: {module, input (C, H, W), output (C, H, W), kernel}."""
    out = []
    for k in trace.convs:
        s = trace.steps[k]
        out.append({"module": s.name, "input": list(s.input.shape[1:]), "output": list(s.output.shape[1:]),
                    "kernel": list(s.module.kernel_size), "stride": list(s.module.stride)})
    return out


def conv_maps(trace: Trace, layer: int) -> tuple[np.ndarray, np.ndarray]:
    """(input (C_in, H, W), output (C_out, h, w)) of conv layer `layer` as the traced pass computed them."""
    s = trace.steps[trace.convs[layer]]
    return s.input[0].float().numpy(), s.output[0].float().numpy()
