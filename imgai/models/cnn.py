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
        for i, widths in enumerate(config.stages):
            layers = []
            for w in widths:
                layers.append(nn.Conv2d(c, w, 3, padding=config.padding, bias=not config.batch_norm))
                if config.batch_norm:
                    layers.append(nn.BatchNorm2d(w))
                layers.append(nn.ReLU(inplace=True))
                c = w
            blocks.append(nn.Sequential(*layers))
            if i < len(config.stages) - 1:
                blocks.append(nn.MaxPool2d(2))
        # self.features: conv blocks and pools; every conv block ends in a ReLU (activation maps, Grad-CAM)
        self.features = nn.Sequential(*blocks)
        with torch.no_grad():
            n_flat = self.features(torch.zeros(1, config.in_channels, config.image_size, config.image_size)).numel()
        self.classifier = nn.Sequential(
            nn.Flatten(),
            Dropout(config.dropout),
            nn.Linear(n_flat, config.hidden),
            nn.ReLU(inplace=True),
            Dropout(config.dropout),
            nn.Linear(config.hidden, config.num_classes),
        )

    def forward(self, x):  # x: (B, C, H, W) normalised → logits (B, classes)
        if not self.training:
            return self.classifier(self.features(x))
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
        return self.classifier(x)


def textbook(**kw) -> CNNConfig:
    """The CIFAR-10 tutorial network exactly: valid convs 32/64/64, Dense 64, no regularisation."""
    return CNNConfig(**kw)


def fast(**kw) -> CNNConfig:
    """Stronger default: same conv/pool/dense parts, but 'same' padding, two convs per stage, batch norm
    and dropout. Batch norm lets a high learning rate converge in a few epochs (time to 98% on digits:
    bench/results/cnn.json); dropout keeps 4,500 training digits from being memorised."""
    return replace(CNNConfig(**kw), stages=[[32], [64], [128]], padding=1, hidden=128,
                   batch_norm=True, dropout=0.25)


CNN_PRESETS = {"fast": fast, "textbook": textbook}
