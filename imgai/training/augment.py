"""Training-time augmentation, one batch at a time on the device: the classifier's warps, crops and flips, and
the GAN's DiffAugment. Every random draw comes from the run's own torch.Generator, so a seeded run repeats.

    xb = augment(xb, gen, cfg.augment_style, data.intake); x_aug = diff_augment(x, gen)

DiffAugment (Zhao, Liu, Lin, Zhu & Han, "Differentiable Augmentation for Data-Efficient GAN Training",
NeurIPS 2020): the discriminator only ever sees augmented images, real and generated alike, so it cannot
memorise a few thousand training images, and G's gradient flows back through the augmentation
(translation and cutout are differentiable in the pixels). The alternating flips are airbench's (Jordan 2024).
"""
import torch
import torch.nn.functional as F

from imgai.training.config import TrainConfig


def augment_batch(x: torch.Tensor, gen: torch.Generator, flip: bool) -> torch.Tensor:
    """Random affine warps of a float batch (B, C, H, W): ±10° rotation, ±10% zoom, ±2 px shift.
    One affine_grid/grid_sample call for the whole batch: no per-image Python."""
    B, dev = x.shape[0], x.device
    r = lambda lo, hi: (torch.rand(B, generator=gen) * (hi - lo) + lo).to(dev)
    angle, scale = r(-0.175, 0.175), r(0.9, 1.1)
    shift = 2.0 * 2 / x.shape[-1]  # 2 px in grid units ([-1, 1] spans the image)
    tx, ty = r(-shift, shift), r(-shift, shift)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    sx = torch.where(r(0, 1) < 0.5, -1.0, 1.0) if flip else torch.ones(B, device=dev)
    theta = torch.stack([torch.stack([cos * sx, -sin, tx], 1), torch.stack([sin * sx, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, padding_mode="zeros" if not flip else "reflection", align_corners=False)


def crop_flip_batch(x: torch.Tensor, gen: torch.Generator, flip: bool = True, pad: int = 4) -> torch.Tensor:
    """Random crops of a reflect-padded batch (B, C, H, W), and half of them mirrored left-right if flip:
    shifts of up to ±pad px that keep every pixel real. One gather for the whole batch: no per-image Python."""
    B, C, H, W = x.shape
    dev = x.device
    dy, dx = (torch.randint(0, 2 * pad + 1, (2, B), generator=gen)).to(dev)
    mirror = (torch.rand(B, generator=gen) < 0.5).to(dev) & flip
    padded = F.pad(x, (pad, pad, pad, pad), mode="reflect")
    cols = torch.arange(W, device=dev)
    cols = torch.where(mirror[:, None], W - 1 - cols, cols) + dx[:, None]           # (B, W)
    rows = torch.arange(H, device=dev) + dy[:, None]                                 # (B, H)
    b = torch.arange(B, device=dev)[:, None, None]
    return padded.permute(0, 2, 3, 1)[b, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)  # (B, C, H, W)


def augment(x: torch.Tensor, gen: torch.Generator, style: str, intake: str) -> torch.Tensor:
    """A batch's training augmentation: digits are never mirrored (a mirrored 2 is not a 2), photos may be
    (a mirrored cat is still a cat)."""
    if style == "warp":
        return augment_batch(x, gen, flip=intake != "digit")
    if style == "crop":
        return crop_flip_batch(x, gen, flip=intake != "digit")
    if style == "flip-translate":  # mirrored already (alternating_flip): only the 2-px moves here
        return crop_flip_batch(x, gen, flip=False, pad=2)
    raise ValueError(f"unknown augment_style '{style}': choose warp, crop or flip-translate")


def intake_flips(cfg: TrainConfig, intake: str) -> bool:
    """Does this run mirror its training images by alternating epochs (flip-translate; never digits)?"""
    return cfg.augment and cfg.augment_style == "flip-translate" and intake != "digit"


def alternating_flip(x: torch.Tensor, idx: torch.Tensor, epoch: int, first: torch.Tensor) -> torch.Tensor:
    """Mirror the batch x (B, C, H, W) of training images idx (B,) the airbench way: in the first epoch an image is
    mirrored where `first` (one random bool per training image, drawn once per run) says so, and from then on
    every other epoch, so each image is seen both ways in every two epochs instead of by chance."""
    mirror = (first[idx] ^ bool(epoch % 2)).view(-1, 1, 1, 1)
    return torch.where(mirror, x.flip(-1), x)


def translate(x: torch.Tensor, gen: torch.Generator, ratio: float = 0.125) -> torch.Tensor:
    """Shift each image by up to ratio × its size in x and y, filling with zeros (the paper's 1/8)."""
    B, C, H, W = x.shape
    sh, sw = int(H * ratio + 0.5), int(W * ratio + 0.5)
    ty = torch.randint(-sh, sh + 1, (B, 1, 1), generator=gen).to(x.device)
    tx = torch.randint(-sw, sw + 1, (B, 1, 1), generator=gen).to(x.device)
    rows = torch.arange(H, device=x.device).view(1, H, 1)
    cols = torch.arange(W, device=x.device).view(1, 1, W)
    # pad by one ring of zeros; an index pushed outside the image lands on that ring
    r = (rows + ty + 1).clamp(0, H + 1)                                 # (B, H, 1)
    c = (cols + tx + 1).clamp(0, W + 1)                                 # (B, 1, W)
    b = torch.arange(B, device=x.device).view(B, 1, 1)
    padded = F.pad(x, [1, 1, 1, 1]).permute(0, 2, 3, 1)                 # (B, H+2, W+2, C)
    return padded[b, r, c].permute(0, 3, 1, 2)                          # (B, C, H, W)


def cutout(x: torch.Tensor, gen: torch.Generator, ratio: float = 0.5) -> torch.Tensor:
    """Zero one square of ratio × the image size (the paper's 1/2) at a random place in each image."""
    B, C, H, W = x.shape
    ch, cw = int(H * ratio + 0.5), int(W * ratio + 0.5)
    top = torch.randint(0, H + (1 - ch % 2), (B, 1, 1), generator=gen).to(x.device) - ch // 2
    left = torch.randint(0, W + (1 - cw % 2), (B, 1, 1), generator=gen).to(x.device) - cw // 2
    rows = torch.arange(H, device=x.device).view(1, H, 1)
    cols = torch.arange(W, device=x.device).view(1, 1, W)
    inside = (rows >= top) & (rows < top + ch) & (cols >= left) & (cols < left + cw)   # (B, H, W)
    return x * (~inside).unsqueeze(1).to(x.dtype)


def diff_augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """DiffAugment's 'translation,cutout' policy, fresh random draws for every call."""
    return cutout(translate(x, gen), gen)
