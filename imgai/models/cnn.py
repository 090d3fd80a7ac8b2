"""The image classifier: the Keras CIFAR-10 tutorial CNN, and a stronger preset built from the same parts.

    model = CNN(CNN_PRESETS["fast"](in_channels=1, image_size=28, num_classes=10))
"""
from dataclasses import dataclass, field, replace

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class CNNConfig:
    in_channels: int = 1     # 1 for digits / MNIST, 3 for CIFAR-10 and photos
    image_size: int = 28     # 28 (MNIST family) or 32 (CIFAR-10, folders)
    num_classes: int = 10
    # Each stage is a list of conv widths followed by a 2x2 max-pool (except the last stage).
    # Textbook: Conv32 → Pool → Conv64 → Pool → Conv64, as in the TensorFlow CIFAR-10 tutorial.
    stages: list = field(default_factory=lambda: [[32], [64], [64]])
    padding: int = 0         # the tutorial uses 'valid' convolutions
    hidden: int = 64         # the tutorial's Dense(64)
    batch_norm: bool = False  # a remedy for slow/unstable training, off in the tutorial
    dropout: float = 0.0     # a remedy for overfitting, applied before each dense layer
    # The CIFAR-in-a-minute parts (airbench, Jordan 2024; measured in bench/results/cifar.json). Off by default.
    whiten: int = 0          # > 0: a frozen first conv of this kernel size whose filters whiten the training
                             # patches (imgai.models.whitening; airbench's 2); 0: none
    bn_scale: bool = True    # False: batch norm learns only its bias, its scale stays 1 (airbench)
    pool_early: bool = False  # True: every stage pools right after its first conv, so the rest of the stage
                             # runs at a quarter of the pixels (airbench's conv → pool → BN → act)
    global_pool: bool = False  # True: the max over the last feature map per channel, then the class layer
                             # (no hidden layer; hidden is ignored)
    logit_scale: float = 1.0  # the class layer's outputs times this (airbench: 1/9, a cooler softmax at the start)


class Dropout(nn.Module):
    """nn.Dropout that draws its masks from `self.generator` when one is set. A training loop sets its own
    seeded generator here, so a seeded run is the same run whatever other threads draw from torch's global
    RNG (torch's dropout has no generator argument). None: torch's own dropout (global RNG)."""

    def __init__(self, p: float = 0.5):
        super().__init__()
        self.p, self.generator = float(p), None

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        if self.generator is None:
            return F.dropout(x, self.p, training=True)
        if self.p >= 1:
            return torch.zeros_like(x)
        keep = torch.rand(x.shape, generator=self.generator, device=self.generator.device) >= self.p
        return x * keep.to(x.device, x.dtype) / (1 - self.p)

    def extra_repr(self):
        return f"p={self.p}"


class CNN(nn.Module):
    def __init__(self, config: CNNConfig):
        super().__init__()
        self.config = config
        blocks, c = [], config.in_channels
        if config.whiten:  # 2 filters (+ and -) per direction of a k x k x C patch; fitted, never trained
            k = config.whiten
            conv = nn.Conv2d(c, 2 * c * k * k, k, padding=0, bias=True)
            conv.weight.requires_grad_(False)
            blocks.append(nn.Sequential(conv, nn.ReLU(inplace=True)))
            c = conv.out_channels
        for i, widths in enumerate(config.stages):
            layers = []
            for j, w in enumerate(widths):
                layers.append(nn.Conv2d(c, w, 3, padding=config.padding, bias=not config.batch_norm))
                if config.pool_early and j == 0:
                    layers.append(nn.MaxPool2d(2))
                if config.batch_norm:
                    layers.append(nn.BatchNorm2d(w))
                    layers[-1].weight.requires_grad_(config.bn_scale)
                layers.append(nn.ReLU(inplace=True))
                c = w
            blocks.append(nn.Sequential(*layers))
            if i < len(config.stages) - 1 and not config.pool_early:
                blocks.append(nn.MaxPool2d(2))
        if config.global_pool:
            blocks.append(nn.AdaptiveMaxPool2d(1))
        # self.features: conv blocks and pools; every conv block ends in a ReLU (activation maps, Grad-CAM)
        self.features = nn.Sequential(*blocks)
        with torch.no_grad():
            n_flat = self.features(torch.zeros(1, config.in_channels, config.image_size, config.image_size)).numel()
        if config.global_pool:  # classifier[:-1] is still the penultimate features (imgai.inference.quality)
            head = [nn.Flatten(), Dropout(config.dropout), nn.Linear(n_flat, config.num_classes, bias=False)]
        else:
            head = [nn.Flatten(), Dropout(config.dropout), nn.Linear(n_flat, config.hidden), nn.ReLU(inplace=True),
                    Dropout(config.dropout), nn.Linear(config.hidden, config.num_classes)]
        self.classifier = nn.Sequential(*head)

    @property
    def whiten_conv(self) -> nn.Conv2d | None:
        """The frozen patch-whitening conv (config.whiten > 0), for imgai.models.whitening.fit_whitening."""
        return self.features[0][0] if self.config.whiten else None

    def forward(self, x):  # x: (B, C, H, W) normalised → logits (B, classes)
        logits = self.classifier(self._features(x))
        return logits * self.config.logit_scale if self.config.logit_scale != 1 else logits

    def _features(self, x):
        if not self.training:
            return self.features(x)
        # Training: a conv block's closing ReLU runs after the max-pool that follows the block. Max and ReLU
        # commute (ReLU keeps the order of values), so the outputs and gradients are the same, bit for bit,
        # while the ReLU and its backward touch a quarter of the values: on the textbook CIFAR-10 CNN they were
        # a large share of each step's memory traffic (bench/results/keras.json). Eval mode, and everything
        # that reads .features block by block (explain), still sees each block end in its ReLU.
        f = self.features
        for i, block in enumerate(f):
            if isinstance(block, nn.MaxPool2d) and i > 0 and not isinstance(f[i - 1], nn.MaxPool2d):
                continue  # already applied, between the block before it and that block's ReLU
            if i + 1 < len(f) and isinstance(f[i + 1], nn.MaxPool2d) and isinstance(block[-1], nn.ReLU):
                for j in range(len(block) - 1):
                    x = block[j](x)
                x = F.relu(f[i + 1](x), inplace=True)
            else:
                x = block(x)
        return x


def textbook(**kw) -> CNNConfig:
    """The CIFAR-10 tutorial network exactly: valid convs 32/64/64, Dense 64, no regularisation."""
    return CNNConfig(**kw)


def fast(**kw) -> CNNConfig:
    """Stronger default: same conv/pool/dense parts, but 'same' padding, two convs per stage, batch norm
    and dropout. Batch norm lets a high learning rate converge in a few epochs (time to 98% on digits:
    bench/results/cnn.json); dropout keeps 4,500 training digits from being memorised.
    Colour images (CIFAR-10, a folder of photos) get the whitened network instead (`whitened`)."""
    cfg = CNNConfig(**kw)
    if cfg.in_channels == 3:
        return whitened(**kw)
    return replace(cfg, stages=[[32], [64], [128]], padding=1, hidden=128, batch_norm=True, dropout=0.25)


def whitened(**kw) -> CNNConfig:
    """airbench's network (Jordan 2024) cut to a CPU minute: a frozen 2x2 patch-whitening conv, then three
    stages of one 3x3 conv, max-pool, batch norm and ReLU, a global max-pool and one class layer
    with logits x 1/9. Widths 32/64/128 and one conv per stage, where airbench has 64/256/256 and two:
    on 1 CPU thread that is ~4x the images per second, which beat the wider net within 60 s
    (bench/results/cifar.json). Batch norm keeps its learned scale: airbench's scale-free batch norm with 64x
    faster biases scored lower here (bench/results/cifar.json)."""
    return replace(CNNConfig(**kw), whiten=2, stages=[[32], [64], [128]], padding=1, batch_norm=True,
                   bn_scale=True, pool_early=True, global_pool=True, logit_scale=1 / 9, dropout=0.0)


CNN_PRESETS = {"fast": fast, "textbook": textbook}  # whitened is fast's colour half, not a preset of its own
