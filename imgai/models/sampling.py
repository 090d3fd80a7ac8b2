"""Drawing pictures from a generator: fixed latents, one-at-a-time sampling, uint8 images for display.

    images = sample_images(gan.generator, fixed_noise(gan.config.nz, 16, seed=0))   # uint8 (16, H, W, C)
"""
import numpy as np
import torch


def to_uint8_images(x: torch.Tensor) -> np.ndarray:
    """(B, C, H, W) in [0, 1] → uint8 (B, H, W, C) for display."""
    return (x.clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).cpu().numpy()


def fixed_noise(nz: int, n: int, seed: int, device="cpu") -> torch.Tensor:
    """The same latents every time for a seed, so sample grids are comparable across steps."""
    return torch.randn(n, nz, generator=torch.Generator().manual_seed(seed)).to(device)


@torch.no_grad()
def generate(generator, z, y=None) -> torch.Tensor:
    """G(z) in [-1, 1] (G(z, y) for a class-conditional generator, y the class indices), in eval mode and
    one latent at a time, so a sample never depends on its batch: batch norm uses its running statistics,
    and a batched convolution may round differently (one grey level here and there), so seed S looks
    exactly the same alone, in a grid or ending an interpolation."""
    was_training = generator.training
    generator.eval()
    try:
        return torch.cat([generator(z[i:i + 1], *(() if y is None else (y[i:i + 1],))) for i in range(len(z))])
    finally:
        generator.train(was_training)


def sample_images(generator, z, y=None) -> np.ndarray:
    """Generator output for latents z (and class indices y, for a conditional generator) as uint8 (N, H, W, C)."""
    return to_uint8_images((generate(generator, z, y) + 1) / 2)


def grid_labels(n: int, n_classes: int, device="cpu") -> torch.Tensor:
    """Class indices for a conditional sample grid: 0, 1, ..., n_classes-1, 0, 1, ... (one class per column
    when the grid is n_classes wide)."""
    return (torch.arange(n) % n_classes).to(device)
