"""What a training run is told: its settings (TrainConfig), what a consumer may steer between steps
(TrainState), the optimiser and its learning-rate schedule.

    cfg = TrainConfig(epochs=3, lr=3e-3); opt = make_optimizer(param_groups(model, 64, 5e-4), cfg, cfg.lr)
"""
from dataclasses import dataclass, field

import torch
import torch.nn as nn


@dataclass
class TrainConfig:
    epochs: float | None = 5         # passes over the training set; ignored when seconds is set
    seconds: float | None = None     # a time budget in seconds of training (pauses do not count)
    batch_size: int = 128
    lr: float = 2e-3                 # peak learning rate (the schedule scales it)
    optimizer: str = "adam"          # adam | sgd (Nesterov momentum, see momentum) | rmsprop
    momentum: float = 0.9            # sgd's momentum (airbench's 0.85)
    weight_decay: float = 0.0        # L2 penalty: a remedy for overfitting
    augment: bool = True             # train on randomly moved copies of the images (see augment_style)
    augment_style: str = "warp"      # warp: shifts, small rotations and zooms (+ mirror, except digits) |
                                     # crop: mirror + random crop of a 4-px padded image, the usual CIFAR recipe |
                                     # flip-translate: alternating mirror (imgai.training.augment) + 2-px
                                     # random crop of a reflect-padded image (airbench)
    schedule: str = "onecycle"       # onecycle: warm up 10%, then decay linearly to 0 | constant |
                                     # triangle: 0.2 → 1 over 23%, then linearly to 0.07 (airbench)
    seed: int = 0
    log_every: int = 1               # metrics every N steps (each costs a device sync on CUDA)
    sample_every: int = 100          # GAN: a fixed-noise grid every N steps
    n_samples: int = 36              # images in a sample grid
    beta1: float = 0.9               # Adam's momentum; the DCGAN paper lowers it to 0.5 for GANs
    label_smoothing: float = 0.0     # GAN: D's target for real images is 1 - s (Salimans et al. 2016), bce only;
                                     # classifier: the true class's target is 1 - s (Szegedy et al. 2016)
    gan_loss: str = "bce"            # GAN: bce (the tutorial's) | hinge (pair it with D's spectral norm)
    diffaugment: bool = False        # GAN: translation + cutout on every image D sees (Zhao et al. 2020)
    ema: float = 0.0                 # GAN: decay of the generator's weight average used for samples; 0 = none
    d_lr_ratio: float = 1.0          # GAN: D's learning rate = lr x this (TTUR, Heusel et al. 2017); 1 = same
    bn_bias_lr_scale: float = 1.0    # classifier: batch-norm biases learn this many times faster (airbench: 64)
    lookahead: bool = False          # classifier: a lookahead average of the weights (imgai.training.augment)
    tta: str = "none"                # classifier: test-time augmentation of the validation score, and of the saved


class TrainingDiverged(RuntimeError):
    """The loss became NaN or exploded; str(e) says what to change."""


@dataclass
class TrainState:
    """What a consumer (the job runner) may touch between steps: the optimizers and the base rate."""
    model: torch.nn.Module | None = None
    optimizers: list = field(default_factory=list)
    base_lr: float = 0.0


def make_optimizer(params, cfg: TrainConfig, lr: float, beta1: float = 0.9, fused: bool | None = None):
    if cfg.optimizer == "adam":  # fused: one kernel for all weights instead of several per weight
        return torch.optim.Adam(params, lr=lr, betas=(beta1, 0.999), weight_decay=cfg.weight_decay, fused=fused)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=cfg.momentum, nesterov=True, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, weight_decay=cfg.weight_decay)
    raise ValueError(f"unknown optimizer '{cfg.optimizer}': choose adam, sgd or rmsprop")


def lr_factor(schedule: str, progress: float) -> float:
    if schedule == "constant":
        return 1.0
    if schedule == "triangle":  # airbench's: from 0.2 up to 1 over the first 23%, then down to 0.07 at the end
        peak = 0.23
        return 0.2 + 0.8 * progress / peak if progress < peak else 1 - 0.93 * (progress - peak) / (1 - peak)
    warm = 0.1  # a short warm-up keeps Adam's first large steps from wrecking batch-norm statistics
    return progress / warm if progress < warm else max(0.0, (1 - progress) / (1 - warm))


def param_groups(model: nn.Module, bias_lr_scale: float, weight_decay: float) -> list[dict]:
    """The trainable weights in two optimizer groups: batch-norm biases, whose learning rate is the base rate
    times bias_lr_scale (a "lr_scale" the training loop's schedule keeps), and everything else. The biases'
    weight decay is divided by the same factor, so each step shrinks them by the same fraction as before:
    only their gradient step grows (airbench's bias_scaler 64). Frozen weights (requires_grad False) are left out."""
    norm_biases, rest = [], []
    for m in model.modules():
        for name, p in m.named_parameters(recurse=False):
            if not p.requires_grad:
                continue
            (norm_biases if isinstance(m, nn.modules.batchnorm._NormBase) and name == "bias" else rest).append(p)
    groups = [{"params": rest}]
    if norm_biases:
        groups.append({"params": norm_biases, "lr_scale": bias_lr_scale, "weight_decay": weight_decay / bias_lr_scale})
    return groups
