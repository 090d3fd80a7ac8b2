"""Why a classifier answered what it did: Grad-CAM and input-gradient saliency, the activation maps of each
convolution layer and the first layer's learned filters — for imgai's CNN and the ImageNet photo models.

    heat = saliency(clf.model, clf.prepare(img))        # (H, W) float in 0..1 at the input's resolution
    show = overlay(clf.preview(x), heat)                # uint8 RGB picture with the heat map on top

Works on three kinds of network, recognised by their parts (no hooks, so shared cached models are never
modified): imgai.models.CNN (its `.features` conv blocks), imgai.models.imagenet.PhotoClassifier (frozen EfficientNet
backbone + head) and the plain ImageNet EfficientNet-lite0 from imgai.models.imagenet.load_imagenet_model().
Gradients are taken with respect to the input and the activations only (torch.autograd.grad), so frozen
parameters and cached models are fine and no parameter's .grad is ever touched.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

METHODS = ("grad-cam", "gradients")  # saliency methods, as the page offers them


@dataclass
class LayerMaps:
    """The activation maps of one convolution layer (or stage) for one image."""
    name: str           # e.g. "conv 2" or "block 3 (MBConv)"
    maps: np.ndarray    # float32 (C, h, w)

    @property
    def signed(self) -> bool:
        """True when the layer ends without a ReLU (EfficientNet's MBConv stages): its maps go negative."""
        return bool((self.maps < -1e-3 * max(float(np.abs(self.maps).max()), 1e-12)).any())

    @property
    def describe(self) -> str:
        c, h, w = self.maps.shape
        return f"{self.name} · {c} maps of {h}×{w}"


# ---------------------------------------------------------------------------------------------------------
# Walking a network: every conv layer's output in order, then the logits
# ---------------------------------------------------------------------------------------------------------

def _is_efficientnet(model) -> bool:
    return hasattr(model, "_conv_stem") and hasattr(model, "_blocks") and hasattr(model, "_conv_head")


def _walk_cnn(model, x):
    """imgai CNN: the output of every conv layer after its ReLU (each block is conv [BN] ReLU ...)."""
    acts, h, k = [], x, 0
    for block in model.features:
        if isinstance(block, nn.Sequential):
            for layer in block:
                h = layer(h)
                if isinstance(layer, nn.ReLU):  # a conv layer ends here
                    k += 1
                    acts.append((f"conv {k}", h))
        else:
            h = block(h)  # max-pool between stages
    return acts, model.classifier(h)


def _walk_efficientnet(net, x):
    """EfficientNet-lite0 as in its extract_features, keeping the stem, the end of each stage of MBConv
    blocks (where the width changes: 16, 24, 40, 80, 112, 192, 320 channels) and the 1x1 head conv."""
    acts = []
    h = net._swish(net._bn0(net._conv_stem(x)))
    acts.append(("stem conv", h))
    blocks = net._blocks
    stage = 0
    for idx, block in enumerate(blocks):
        rate = net._global_params.drop_connect_rate  # inactive in eval mode; passed as extract_features does
        if rate:
            rate *= float(idx) / len(blocks)
        h = block(h, drop_connect_rate=rate)
        last = idx + 1 == len(blocks)
        if last or blocks[idx + 1]._block_args.output_filters != block._block_args.output_filters:
            stage += 1
            acts.append((f"stage {stage} (MBConv)", h))
    h = net._swish(net._bn1(net._conv_head(h)))
    acts.append(("head conv 1×1", h))
    return acts, h


def walk(model: nn.Module, x: torch.Tensor) -> tuple[list[tuple[str, torch.Tensor]], torch.Tensor]:
    """(conv layer outputs [(name, (B, C, h, w))] in order, logits (B, classes)) for a supported model."""
    if hasattr(model, "features") and hasattr(model, "classifier") and isinstance(model.features, nn.Sequential):
        return _walk_cnn(model, x)
    if hasattr(model, "backbone") and hasattr(model, "head") and _is_efficientnet(model.backbone):
        acts, h = _walk_efficientnet(model.backbone, x)  # PhotoClassifier: head on pooled last maps
        return acts, model.head(h.mean(dim=(2, 3)))
    if _is_efficientnet(model):
        acts, h = _walk_efficientnet(model, x)  # the ImageNet classifier: dropout is off in eval mode
        return acts, model._fc(h.mean(dim=(2, 3)))
    raise TypeError(f"cannot look inside a {type(model).__name__}: expected an imgai CNN or a photo model")


def first_conv(model: nn.Module) -> nn.Conv2d:
    """The first convolution of a supported model: its weights are the first-layer filters."""
    if hasattr(model, "backbone") and _is_efficientnet(model.backbone):
        return model.backbone._conv_stem
    if _is_efficientnet(model):
        return model._conv_stem
    if hasattr(model, "features"):
        for m in model.features.modules():
            if isinstance(m, nn.Conv2d):
                return m
    raise TypeError(f"{type(model).__name__} has no convolution layer imgai knows how to show")


# ---------------------------------------------------------------------------------------------------------
# Saliency
# ---------------------------------------------------------------------------------------------------------

def _normalise(heat: torch.Tensor, top: float | None = None) -> np.ndarray:
    """Scale a non-negative map to 0..1 by its maximum (or `top`); an all-zero map stays zero."""
    top = float(heat.max()) if top is None else top
    heat = heat / top if top > 0 else torch.zeros_like(heat)
    return heat.clamp(0, 1).numpy().astype(np.float32)


def grad_cam(model: nn.Module, x: torch.Tensor, target: int | None = None, layer: int = -1) -> np.ndarray:
    """Grad-CAM (Selvaraju et al. 2017) on conv layer `layer` (default the last): the layer's maps weighted
    by the mean gradient of the class score, ReLU, upsampled to the input. Returns (H, W) float32 in 0..1.

    x: (1, C, H, W) as the model takes it (Classifier.prepare); target: class index, default the top one."""
    with torch.enable_grad():
        x = x.detach().clone().requires_grad_(True)  # builds the graph even when every weight is frozen
        acts, logits = walk(model, x)
        a = acts[layer][1]                                       # (1, K, h, w)
        t = int(logits[0].argmax()) if target is None else int(target)
        (g,) = torch.autograd.grad(logits[0, t], a)
    weights = g.mean(dim=(2, 3), keepdim=True)                   # (1, K, 1, 1): importance of each map
    cam = F.relu((weights * a.detach()).sum(dim=1, keepdim=True))  # (1, 1, h, w)
    cam = F.interpolate(cam, size=x.shape[-2:], mode="bilinear", align_corners=False)[0, 0]
    return _normalise(cam)


def input_gradients(model: nn.Module, x: torch.Tensor, target: int | None = None) -> np.ndarray:
    """Vanilla gradient saliency (Simonyan et al. 2014): |d score / d pixel|, the largest over colour
    channels, lightly smoothed on big inputs, scaled so its 99th percentile is 1 (a few extreme pixels
    would otherwise hide the rest).
    Returns (H, W) float32 in 0..1."""
    with torch.enable_grad():
        x = x.detach().clone().requires_grad_(True)
        _, logits = walk(model, x)
        t = int(logits[0].argmax()) if target is None else int(target)
        (g,) = torch.autograd.grad(logits[0, t], x)
    heat = g[0].abs().amax(dim=0)                                # (H, W)
    r = heat.shape[-1] // 100  # 224 px photos: a 5x5 mean, so speckle reads as regions; 28 px digits: none
    if r:
        heat = F.avg_pool2d(heat[None, None], 2 * r + 1, stride=1, padding=r, count_include_pad=False)[0, 0]
    return _normalise(heat, float(torch.quantile(heat.flatten(), 0.99)))


def saliency(model: nn.Module, x: torch.Tensor, method: str = "grad-cam", target: int | None = None) -> np.ndarray:
    """Where the model looked: (H, W) float32 in 0..1 at x's resolution, by "grad-cam" or "gradients"."""
    if method == "grad-cam":
        return grad_cam(model, x, target)
    if method == "gradients":
        return input_gradients(model, x, target)
    raise ValueError(f"unknown saliency method {method!r}; choose {' or '.join(METHODS)}")


# ---------------------------------------------------------------------------------------------------------
# Activation maps and filters
# ---------------------------------------------------------------------------------------------------------

@torch.no_grad()
def activation_maps(model: nn.Module, x: torch.Tensor) -> list[LayerMaps]:
    """The maps every conv layer (CNN) or stage (EfficientNet) produces for one input (1, C, H, W)."""
    acts, _ = walk(model, x)
    return [LayerMaps(name, a[0].float().cpu().numpy()) for name, a in acts]


def strongest(maps: np.ndarray, n: int) -> np.ndarray:
    """Indices of the n maps with the largest mean |activation|, strongest first."""
    score = np.abs(maps).mean(axis=(1, 2))
    return np.argsort(-score, kind="stable")[:n]


def maps_to_uint8(maps: np.ndarray) -> np.ndarray:
    """(C, h, w) float → uint8 (C, h, w), one grey scale for the whole layer (1st..99.5th percentile), so a
    map that barely responds looks dark next to one that responds strongly, as in CNN Explainer."""
    lo, hi = np.percentile(maps, [1, 99.5])
    lo = min(lo, 0.0)  # after a ReLU zero means "nothing here": keep it black
    scale = 255.0 / (hi - lo) if hi > lo else 0.0
    return np.clip((maps - lo) * scale, 0, 255).round().astype(np.uint8)


def filters_to_uint8(model: nn.Module) -> np.ndarray:
    """The first conv layer's filters as pictures: uint8 (N, k, k) for grey input or (N, k, k, 3) for colour.
    Zero weight is mid grey, the layer's largest |weight| is black or white, so filters compare fairly."""
    w = first_conv(model).weight.detach().float().cpu()          # (N, C, k, k)
    top = float(w.abs().max()) or 1.0
    img = ((w / top) * 127.5 + 127.5).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
    return img[..., 0] if img.shape[-1] == 1 else img


# ---------------------------------------------------------------------------------------------------------
# Drawing a heat map over a picture
# ---------------------------------------------------------------------------------------------------------

# A perceptually ordered colour map (dark blue → cyan → yellow → red), like "turbo": cold = ignored.
_CMAP_STOPS = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
_CMAP_RGB = np.array([[48, 18, 59], [40, 150, 235], [100, 250, 110], [250, 190, 40], [200, 20, 10]], float)


def colormap(heat: np.ndarray) -> np.ndarray:
    """(h, w) in 0..1 → uint8 (h, w, 3)."""
    h = np.clip(heat, 0, 1)
    return np.stack([np.interp(h, _CMAP_STOPS, _CMAP_RGB[:, c]) for c in range(3)], -1).round().astype(np.uint8)


def overlay(image: np.ndarray, heat: np.ndarray, size: int | None = None, alpha: float = 0.55) -> np.ndarray:
    """Blend a heat map (h, w in 0..1) over an image (uint8 (H, W) or (H, W, 3)); returns uint8 (S, S', 3).

    size: enlarge the longer side to this many pixels first (nearest, so a 28x28 input stays crisp);
    the heat map is resized smoothly to match. Cold places are mostly the picture, hot ones mostly colour."""
    img = Image.fromarray(np.asarray(image, np.uint8)).convert("RGB")
    if size and max(img.size) != size:
        scale = size / max(img.size)
        img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.NEAREST)
    hm = Image.fromarray(np.asarray(heat, np.float32), mode="F").resize(img.size, Image.BILINEAR)
    h = np.clip(np.asarray(hm), 0, 1)[..., None]
    a = alpha * (0.35 + 0.65 * h)  # a floor, so the colour scale stays readable where it is cold
    out = np.asarray(img, float) * (1 - a) + colormap(h[..., 0]).astype(float) * a
    return out.round().clip(0, 255).astype(np.uint8)


# ---------------------------------------------------------------------------------------------------------
# One picture, fully explained (what the Classify page shows for each file)
# ---------------------------------------------------------------------------------------------------------

def explain_image(clf, img: Image.Image, method: str = "grad-cam", top: int = 5) -> dict:
    """For a Classifier and a PIL image: {"prediction": exactly clf.predict(img, top), "x": the model's input
    (1, C, H, W), "input": that input as a uint8 picture, "heat": (H, W) saliency of the top class}.

    The prediction is Classifier.predict_input on Classifier.prepare, the path `python -m imgai classify`
    takes too, so the page and the CLI agree on every file."""
    x = clf.prepare(img)
    prediction = clf.predict_input(x, top)
    heat = saliency(clf.model, x, method)  # target None: the arg-max class, i.e. prediction["label"]
    return {"prediction": prediction, "x": x, "input": clf.preview(x), "heat": heat}
