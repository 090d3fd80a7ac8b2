"""The playground's two small networks and every setting of its game, in one @dataclass.

    cfg = PlaygroundConfig(); G, D = build_generator(cfg), build_discriminator(cfg)
    cfg = PRESETS["textbook"]                       # the seed's minimax GAN with small nets

G maps noise z (nz numbers, standard normal) to a point of the plane; D maps a point (or, with packing,
`pack` points side by side, as in PacGAN) to one real number, its logit: D(x) = sigmoid(logit).
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace

import torch
from torch import nn

LOSSES = {"minimax": "minimax (the seed's formula)", "non-saturating": "non-saturating",
          "least-squares": "least squares (LSGAN)", "hinge": "hinge"}
OPTIMIZERS = ("adam", "sgd", "rmsprop")


@dataclass(frozen=True)
class PlaygroundConfig:
    # Defaults measured on ring8/grid25 with one CPU thread (bench/bench_playground.py, bench/results/playground.json).
    # They fall short of the goals: ring8 6-8/8 modes at 44-53% high quality in 15 s, grid25 0/25 in 30 s.
    # Single-seed probes for grid25 (30 s, seed 0): r1=0, batch=256, ema=0.999 reached 8/25, 24%; r1=0.1 or
    # r1=0 at batch 128 reached 0/25 -- grid25 may want the larger batch without R1; not yet measured on 3 seeds.
    loss: str = "non-saturating"   # G keeps a strong gradient where D rejects its points (minimax's vanishes)
    nz: int = 2                    # 2-D noise: the noise grid of the manifold view is the whole noise space
    g_width: int = 128             # wide enough to put sharp borders between modes
    g_depth: int = 3               # hidden layers
    d_width: int = 128
    d_depth: int = 3
    optimizer: str = "adam"
    lr_g: float = 1e-3             # Adam on a few-thousand-parameter MLP tolerates 10x DCGAN's 2e-4
    lr_d: float = 1e-3
    beta1: float = 0.5             # DCGAN's (Radford et al. 2016): less momentum, a less oscillating game
    d_steps: int = 1               # D steps per G step
    batch: int = 128               # real and fake points per step; 128 beat 256 on ring8 in 15 s (more steps, 8/8 vs 7/8)
    pack: int = 1                  # PacGAN: D judges `pack` points at once, so it can see a collapsed batch
    r1: float = 1.0                # R1 gradient penalty on real points (Mescheder et al. 2018), gamma; ring8 seed 0,
                                   # 15 s: 4/8 modes with it vs 2/8 without (EMA on in both)
    ema: float = 0.999             # decay of an exponential moving average of G's weights; 0 = off. Sharpens the
                                   # samples: ring8 seed 0, 15 s: 2/8 modes, 25% high quality vs 1/8, 15% without

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
        if self.batch % self.pack:
            raise ValueError(f"batch ({self.batch}) must be a multiple of pack ({self.pack})")
        return self


# Bounds for every number a user or a link can set: small enough that a step stays a few milliseconds.
LIMITS = {"nz": (1, 16), "g_width": (4, 512), "g_depth": (1, 6), "d_width": (4, 512), "d_depth": (1, 6),
          "lr_g": (1e-5, 1.0), "lr_d": (1e-5, 1.0), "beta1": (0.0, 0.99), "d_steps": (1, 10),
          "batch": (8, 1024), "pack": (1, 8), "r1": (0.0, 100.0), "ema": (0.0, 0.9999)}

PRESETS = {
    "playground": PlaygroundConfig(),
    # The seed's formula as textbooks train it: minimax loss, small nets, DCGAN's Adam, small batches.
    "textbook": PlaygroundConfig(loss="minimax", g_width=32, g_depth=2, d_width=32, d_depth=2, lr_g=2e-4,
                                 lr_d=2e-4, batch=64, r1=0.0, ema=0.0),
}


def mlp(n_in: int, width: int, depth: int, n_out: int) -> nn.Sequential:
    """depth hidden layers of `width` with LeakyReLU(0.2) (no dead units on the plane's empty parts)."""
    layers, d = [], n_in
    for _ in range(depth):
        layers += [nn.Linear(d, width), nn.LeakyReLU(0.2)]
        d = width
    layers.append(nn.Linear(d, n_out))
    return nn.Sequential(*layers)


def build_generator(cfg: PlaygroundConfig) -> nn.Module:
    return mlp(cfg.nz, cfg.g_width, cfg.g_depth, 2)            # (B, nz) -> (B, 2)


def build_discriminator(cfg: PlaygroundConfig) -> nn.Module:
    return mlp(2 * cfg.pack, cfg.d_width, cfg.d_depth, 1)      # (B / pack, 2 * pack) -> (B / pack, 1)


def with_changes(cfg: PlaygroundConfig, **changes) -> PlaygroundConfig:
    """cfg with some settings changed (None values ignored), checked."""
    return replace(cfg, **{k: v for k, v in changes.items() if v is not None}).check()


def make_optimizer(kind: str, params, lr: float, beta1: float) -> torch.optim.Optimizer:
    if kind == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(beta1, 0.999))
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    return torch.optim.SGD(params, lr=lr, momentum=beta1)
