"""The playground's two small networks and every setting of its game, in one @dataclass.

    cfg = PlaygroundConfig(); G, D = build_generator(cfg), build_discriminator(cfg)
    cfg = PRESETS["textbook"]                       # the seed's minimax GAN with small nets

G maps noise z (nz numbers, standard normal) to a point of the plane; D maps a point (or, with packing,
`pack` points side by side, as in PacGAN) to one real number, its logit: D(x) = sigmoid(logit).

G is a mixture of `generators` small MLPs sharing the noise (MGAN, Hoang et al. 2018; Khayatkhoei et al. 2018,
"Disconnected manifold learning"): sample i is drawn by generator i % generators. One MLP is a continuous map of
a connected noise space, so between two separate modes it must also draw a bridge of points; on ring8 the
bridges held about a third of the samples after 15 s (one 128-wide G, seed 0). Several generators can sit
on separate modes and draw no bridge. `generators=1` is the textbook single G.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace

import math

import torch
import torch.nn.functional as F
from torch import nn

LOSSES = {"minimax": "minimax (the seed's formula)", "non-saturating": "non-saturating",
          "least-squares": "least squares (LSGAN)", "hinge": "hinge"}
OPTIMIZERS = ("adam", "sgd", "rmsprop")


@dataclass(frozen=True)
class PlaygroundConfig:
    # Defaults measured on ring8 and grid25 with one CPU thread, 3 seeds (bench/bench_playground.py,
    # bench/results/playground.json). Each line's comment says what it won against.
    loss: str = "non-saturating"   # G keeps a strong gradient where D rejects its points (minimax's vanishes)
    nz: int = 2                    # 2-D noise: the noise grid of the manifold view is the whole noise space
    generators: int = 32           # a mixture of 32 small Gs (above), more than either data set's modes: ring8
                                   # seed 0, 15 s: 99% high quality with 8 or 16, 97% with 32, vs 63% with one G
    g_width: int = 32              # each of the 32 generators; 32 x 32 units cost what one 128-wide G did
    g_depth: int = 3               # hidden layers
    d_width: int = 64              # 64 beat 128 on ring8 in 15 s: twice the rounds
    d_depth: int = 3
    optimizer: str = "adam"
    lr_g: float = 1e-3             # Adam on a few-thousand-parameter MLP tolerates 10x DCGAN's 2e-4; 2e-3 lost modes
    lr_d: float = 1e-3
    beta1: float = 0.5             # DCGAN's (Radford et al. 2016); 0 lost modes on ring8
    d_steps: int = 1               # D steps per G step; 2 halved the rounds and lost modes
    batch: int = 512               # real and fake points per step; grid25, 30 s, seeds 0-2: 25/25 every time and
                                   # 82-85% high quality with 512, vs 22-25/25 and 71-82% with 256
    pack: int = 1                  # PacGAN: D judges `pack` points at once; pack 2 collapsed grid25 with 32 Gs
    r1: float = 1.0                # R1 gradient penalty on real points (Mescheder et al. 2018), gamma; without it
                                   # ring8 lost half its modes (4/8), 0.1 lost 8 of grid25's
    ema: float = 0.999             # decay of an exponential moving average of G's weights; 0 = off. Sharpens the
                                   # samples: ring8 seed 0, 15 s (one G): 2/8 modes, 25% high quality vs 1/8, 15%

    def g_weights(self) -> int:
        """How many numbers G holds: every generator's weights and biases."""
        w, d = self.g_width, self.g_depth
        return self.generators * ((self.nz + 1) * w + (d - 1) * (w + 1) * w + (w + 1) * 2)

    def check(self) -> "PlaygroundConfig":
        """Raise ValueError (one line) for a setting outside its bounds (LIMITS); returns self."""
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {', '.join(LOSSES)}, not {self.loss}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, not {self.optimizer}")
        for f in fields(self):
            if f.name in LIMITS:
                lo, hi = LIMITS[f.name]
                v = getattr(self, f.name)
                if not (lo <= v <= hi):  # also refuses NaN
                    raise ValueError(f"{f.name} must be between {lo:g} and {hi:g}, not {v}")
        if self.g_weights() > MAX_G_WEIGHTS:  # each generator has its own weights: bound them all together
            raise ValueError(f"G would have {self.g_weights():,} weights (generators x width x depth); "
                             f"the most is {MAX_G_WEIGHTS:,}")
        if self.batch % self.pack:
            raise ValueError(f"batch ({self.batch}) must be a multiple of pack ({self.pack})")
        return self


# Bounds for every number a user or a link can set: small enough that a step stays a few milliseconds.
LIMITS = {"nz": (1, 16), "generators": (1, 64), "g_width": (4, 512), "g_depth": (1, 6), "d_width": (4, 512),
          "d_depth": (1, 6), "lr_g": (1e-5, 1.0), "lr_d": (1e-5, 1.0), "beta1": (0.0, 0.99), "d_steps": (1, 10),
          "batch": (8, 1024), "pack": (1, 8), "r1": (0.0, 100.0), "ema": (0.0, 0.9999)}

MAX_G_WEIGHTS = 1_400_000   # what one 512-wide, 6-deep, 16-noise G holds (1.32 M): a few MB per playground

PRESETS = {
    "playground": PlaygroundConfig(),
    # The seed's formula as textbooks train it: minimax loss, small nets, DCGAN's Adam, small batches.
    "textbook": PlaygroundConfig(loss="minimax", g_width=32, g_depth=2, d_width=32, d_depth=2, lr_g=2e-4,
                                 lr_d=2e-4, batch=64, r1=0.0, ema=0.0, generators=1),
}


def mlp(n_in: int, width: int, depth: int, n_out: int) -> nn.Sequential:
    """depth hidden layers of `width` with LeakyReLU(0.2) (no dead units on the plane's empty parts)."""
    layers, d = [], n_in
    for _ in range(depth):
        layers += [nn.Linear(d, width), nn.LeakyReLU(0.2)]
        d = width
    layers.append(nn.Linear(d, n_out))
    return nn.Sequential(*layers)


class MixtureGenerator(nn.Module):
    """k MLPs nz -> width (x depth, LeakyReLU 0.2) -> 2, evaluated together with batched matmuls: row i of the noise
    goes to generator i % k, so every generator draws an equal share. Each generator starts as nn.Linear would
    (weights and biases uniform in +-1/sqrt(fan_in)); with k = 1 this is `mlp(nz, width, depth, 2)`."""

    def __init__(self, k: int, nz: int, width: int, depth: int):
        super().__init__()
        self.k = k
        dims = [nz] + [width] * depth + [2]
        self.weights, self.biases = nn.ParameterList(), nn.ParameterList()
        for n_in, n_out in zip(dims[:-1], dims[1:]):
            bound = 1 / math.sqrt(n_in)
            self.weights.append(nn.Parameter(torch.empty(k, n_in, n_out).uniform_(-bound, bound)))
            self.biases.append(nn.Parameter(torch.empty(k, 1, n_out).uniform_(-bound, bound)))

    def each(self, z: torch.Tensor) -> torch.Tensor:
        """(k, n, nz) noise, one slice per generator -> (k, n, 2): generator j draws slice j."""
        x = z
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            x = torch.baddbmm(b, x, w)
            if i < len(self.weights) - 1:
                x = F.leaky_relu(x, 0.2)
        return x

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        n, k = len(z), self.k
        m = -(-n // k) * k                                   # pad to a multiple of k; the padding is dropped
        if m != n:
            z = torch.cat([z, z.new_zeros(m - n, z.shape[1])])
        x = self.each(z.reshape(m // k, k, -1).transpose(0, 1))   # row i -> generator i % k
        return x.transpose(0, 1).reshape(m, 2)[:n]


def build_generator(cfg: PlaygroundConfig) -> nn.Module:
    return MixtureGenerator(cfg.generators, cfg.nz, cfg.g_width, cfg.g_depth)   # (B, nz) -> (B, 2)


def build_discriminator(cfg: PlaygroundConfig) -> nn.Module:
    return mlp(2 * cfg.pack, cfg.d_width, cfg.d_depth, 1)      # (B / pack, 2 * pack) -> (B / pack, 1)


def with_changes(cfg: PlaygroundConfig, **changes) -> PlaygroundConfig:
    """cfg with some settings changed (None values ignored), checked."""
    return replace(cfg, **{k: v for k, v in changes.items() if v is not None}).check()


def make_optimizer(kind: str, params, lr: float, beta1: float) -> torch.optim.Optimizer:
    if kind == "adam":  # fused: one kernel for all tensors, a third of the time of the default on these small nets
        return torch.optim.Adam(params, lr=lr, betas=(beta1, 0.999), fused=True)
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    return torch.optim.SGD(params, lr=lr, momentum=beta1)
