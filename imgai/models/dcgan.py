"""The image generator: the TensorFlow MNIST DCGAN tutorial, generalised to 32x32 and colour, and a
smaller preset tuned to draw readable digits within a minute on a CPU.

    gan = DCGAN(GAN_PRESETS["fast"](channels=1, image_size=28)); x = gan.generator(torch.randn(16, gan.config.nz))
"""
from dataclasses import dataclass, field, replace

import torch
import torch.nn as nn

from .cnn import Dropout  # masks from the training loop's own generator


@dataclass
class DCGANConfig:
    channels: int = 1        # 1 for digits / MNIST, 3 for CIFAR-10
    image_size: int = 28     # 28 or 32: the generator starts at image_size // 4 and doubles twice
    nz: int = 100            # latent size, as in the tutorial
    g_widths: list = field(default_factory=lambda: [256, 128, 64])  # dense map, then the two ConvT widths
    d_widths: list = field(default_factory=lambda: [64, 128])
    kernel: int = 5          # the tutorial's 5x5 kernels
    d_dropout: float = 0.3   # the tutorial's Dropout(0.3) after each discriminator conv
    d_batch_norm: bool = False  # batch norm after D's convs but the first (the DCGAN paper; not the tutorial)
    d_spectral_norm: bool = False  # D's layers divided by their largest singular value (Miyato et al. 2018):
                                   # a 1-Lipschitz D, the usual partner of the hinge loss
    d_minibatch_std: bool = False  # D sees one more feature map: the spread of its features across the batch
                                   # (Karras et al. 2018), so a batch of look-alike fakes is easy to spot
    d_classes: int = 0       # > 0: a class-aware D (the semi-supervised GAN of Odena 2016 and Salimans et al. 2016):
                             # D's head gives one logit per class, it also learns to name real images' classes,
                             # and its "is it real?" logit is their logsumexp, so G is pushed toward pictures D
                             # reads clearly as one of the classes. G stays unconditional.
    # optimiser settings (the tutorial's Adam(1e-4)) live in imgai.training.presets, not here


class Generator(nn.Module):
    def __init__(self, c: DCGANConfig):
        super().__init__()
        self.start = c.image_size // 4
        w0, w1, w2 = c.g_widths
        k, p = c.kernel, (c.kernel - 1) // 2  # with the output padding below, each stride-2 layer doubles the map
        self.project = nn.Sequential(
            nn.Linear(c.nz, self.start * self.start * w0, bias=False),
            nn.BatchNorm1d(self.start * self.start * w0), nn.LeakyReLU(0.2))
        out_pad = 1 if k % 2 else 0  # odd kernels need it to double exactly
        self.body = nn.Sequential(
            nn.ConvTranspose2d(w0, w1, k, 1, p, bias=False), nn.BatchNorm2d(w1), nn.LeakyReLU(0.2),
            nn.ConvTranspose2d(w1, w2, k, 2, p, output_padding=out_pad, bias=False), nn.BatchNorm2d(w2), nn.LeakyReLU(0.2),
            nn.ConvTranspose2d(w2, c.channels, k, 2, p, output_padding=out_pad, bias=False), nn.Tanh())
        if k % 2 == 0:  # even kernels (4x4) with stride 1 would grow the map by one; fix with a 'same' conv
            self.body[0] = nn.Conv2d(w0, w1, 3, 1, 1, bias=False)

    def forward(self, z):  # z: (B, nz) → images (B, C, H, W) in [-1, 1]
        h = self.project(z).view(z.shape[0], -1, self.start, self.start)
        return self.body(h)


class MinibatchStd(nn.Module):
    """Append one channel holding the batch's mean standard deviation of x (over images, per position, then
    averaged): real batches are varied, a collapsing generator's are not, and D can now see the difference."""
    def forward(self, x):  # (B, C, H, W) → (B, C + 1, H, W); a batch of one has spread 0
        spread = x.std(0, unbiased=False).mean().expand(x.shape[0], 1, *x.shape[2:])
        return torch.cat([x, spread], 1)


def spectral(layer: nn.Module, on: bool) -> nn.Module:
    return nn.utils.parametrizations.spectral_norm(layer) if on else layer


class Discriminator(nn.Module):
    def __init__(self, c: DCGANConfig):
        super().__init__()
        layers, ch = [], c.channels
        for i, w in enumerate(c.d_widths):
            bn = c.d_batch_norm and i > 0
            layers += [spectral(nn.Conv2d(ch, w, c.kernel, 2, (c.kernel - 1) // 2, bias=not bn), c.d_spectral_norm)]
            layers += [nn.BatchNorm2d(w)] if bn else []
            layers += [nn.LeakyReLU(0.2), Dropout(c.d_dropout)]
            ch = w
        layers += [MinibatchStd()] if c.d_minibatch_std else []
        self.body = nn.Sequential(*layers, nn.Flatten())
        with torch.no_grad():
            n_flat = self.body(torch.zeros(1, c.channels, c.image_size, c.image_size)).shape[1]
        self.n_flat = n_flat
        self.d_classes = getattr(c, "d_classes", 0)
        self.head = spectral(nn.Linear(n_flat, max(1, self.d_classes)), c.d_spectral_norm)

    def forward(self, x):  # x: (B, C, H, W) in [-1, 1] → logits (B, 1): "is this real?"
        return self.real_and_classes(x)[0]

    def real_and_classes(self, x):
        """("is this real?" logits (B, 1), class logits (B, d_classes) or None for a plain D)."""
        out = self.head(self.body(x))
        if not self.d_classes:
            return out, None
        return out.logsumexp(1, keepdim=True), out


class DCGAN(nn.Module):
    """Both networks in one module, so one checkpoint holds the pair and training can resume."""
    def __init__(self, config: DCGANConfig):
        super().__init__()
        self.config = config
        self.generator = Generator(config)
        self.discriminator = Discriminator(config)


def textbook(**kw) -> DCGANConfig:
    """The tutorial as written: G 256→128→64 with 5x5 kernels, D 64→128 with dropout."""
    return DCGANConfig(**kw)


def fast(**kw) -> DCGANConfig:
    """Tuned for a 2-core CPU: narrower networks (about 4x fewer multiply-adds per image), 4x4 kernels, and
    batch norm instead of dropout in D (as in the DCGAN paper). Measured on digits with the digits CNN as
    judge (bench/bench_gan.py), after the same 19k training images: D with dropout, as in the tutorial,
    left G collapsed on one or two shapes; D with batch norm gave strokes in 7 of the 10 classes.
    The spectral-norm D of the hinge option did not beat it at a one-minute budget (bench/results/gan.json).
    The fast training preset also makes this D class-aware (d_classes, sized to the data by
    imgai.training.runs.build_for_data): on digits that is what lowered the distance after a minute
    (bench/results/gan.json: "class-aware D" and "preset" beside "today")."""
    return replace(DCGANConfig(**kw), g_widths=[128, 64, 32], d_widths=[32, 64], kernel=4, d_dropout=0.0,
                   d_batch_norm=True)


GAN_PRESETS = {"fast": fast, "textbook": textbook}
