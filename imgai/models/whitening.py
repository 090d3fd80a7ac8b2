"""A patch-whitening first convolution: filters fitted to the training images, not learned.

    fit_whitening(model.whiten_conv, normalize(data.train_x, data.mean, data.std))

Its filters are the eigenvectors of the covariance of every k x k patch of the training images, each scaled
by 1/sqrt(its eigenvalue), and each also with its sign flipped (so a ReLU after it passes both halves of each
direction). Its outputs over the training patches are decorrelated with unit variance: the network starts
from inputs in which no direction dominates, which is what lets the fastest CIFAR-10 trainer (airbench,
Jordan 2024) take large learning rates from the first step. The filters are ordinary weights, so a checkpoint
stores them and rebuilds the model from its config alone.
"""
import torch
import torch.nn as nn

EPS = 5e-4  # added to each eigenvalue: keeps the near-zero directions (flat patches) from being blown up (airbench)
MAX_PATCH_IMAGES = 5000  # the covariance settles long before this many images (airbench fits it on 5,000)


def patches(x: torch.Tensor, k: int) -> torch.Tensor:
    """Every k x k patch of a float batch (N, C, H, W), stride 1, as rows (N * (H-k+1) * (W-k+1), C*k*k)
    laid out like a conv weight's (C, k, k)."""
    N, C = x.shape[:2]
    p = x.unfold(2, k, 1).unfold(3, k, 1)                       # (N, C, H', W', k, k)
    return p.permute(0, 2, 3, 1, 4, 5).reshape(-1, C * k * k)


def whitening_filters(x: torch.Tensor, k: int, eps: float = EPS) -> torch.Tensor:
    """(2*C*k*k, C, k, k) filters that whiten the k x k patches of x: eigenvectors of the patch covariance,
    largest first, over sqrt(eigenvalue + eps), then the same filters negated. The covariance is the
    uncentred one (x is already normalised to about zero mean), as in airbench."""
    C, x = x.shape[1], x[:MAX_PATCH_IMAGES]
    cov, n = 0, 0
    for i in range(0, len(x), 256):  # a chunk at a time: all 5,000 images' patches at once are ~0.5 GB
        rows = patches(x[i:i + 256].double(), k)
        cov, n = cov + rows.T @ rows, n + len(rows)
    cov = cov / n                                                 # (C*k*k, C*k*k)
    eigenvalues, eigenvectors = torch.linalg.eigh(cov)           # ascending
    eigenvalues, eigenvectors = eigenvalues.flip(0), eigenvectors.flip(1)
    w = (eigenvectors / torch.sqrt(eigenvalues.clamp_min(0) + eps)).T.reshape(-1, C, k, k)
    return torch.cat([w, -w]).float()


@torch.no_grad()
def fit_whitening(conv: nn.Conv2d, x: torch.Tensor) -> nn.Conv2d:
    """Set `conv`'s filters to whiten the patches of the float images x (N, C, H, W) and zero its bias.
    The conv must have 2*C*k*k outputs, no padding, and its weight frozen (requires_grad False) by its model."""
    k = conv.kernel_size[0]
    w = whitening_filters(x.to(conv.weight.device), k)
    if w.shape != conv.weight.shape:
        raise ValueError(f"a whitening conv of kernel {k} on {x.shape[1]} channels needs weight {tuple(w.shape)}, "
                         f"not {tuple(conv.weight.shape)}")
    conv.weight.copy_(w)
    if conv.bias is not None:
        conv.bias.zero_()
    return conv
