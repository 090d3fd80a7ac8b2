"""What the playground shows of the game, as numpy arrays in the data's coordinates: D's verdict over the plane,
G's manifold (a noise grid warped by G, with its density), and the push of G's gradient on its fake points.

    v = game_view(pg, extent)   # {"heat", "real", "fake", "push", "grid", "grid_density", ...}

Nothing here trains: every call reads the nets under torch.no_grad (the push needs one backward pass through D
to the points, which leaves the weights and their gradients as they were).
"""
from __future__ import annotations

import numpy as np
import torch

from .train import Playground, g_loss

HEAT_RES = 64        # D's verdict on a 64 × 64 grid, smoothed up to the picture: 4,096 points, ~1 ms
GRID_K = 21          # noise grid lines per axis of the manifold
GRID_Z = 2.5         # the noise grid spans ±2.5 std: 99% of the noise of each axis
N_SHOWN = 500        # fake points drawn (and pushed) in the picture: more would hide the heat map
N_REAL_SHOWN = 500


def plane_extent(data: np.ndarray, margin: float = 0.25) -> tuple:
    """A square (x0, x1, y0, y1) around the data with a margin of `margin` × its size on each side."""
    lo, hi = data.min(0), data.max(0)
    c, half = (lo + hi) / 2, float((hi - lo).max()) / 2 * (1 + margin) or 1.0
    return (float(c[0] - half), float(c[0] + half), float(c[1] - half), float(c[1] + half))


def _pack(pg: Playground, x: torch.Tensor) -> torch.Tensor:
    """D's logit for each single point: the point repeated `pack` times (what D says of a batch of copies)."""
    return pg.judge(x.repeat_interleave(pg.cfg.pack, 0))


def verdict(pg: Playground, points: np.ndarray) -> np.ndarray:
    """D(x) = sigmoid(logit) for points (n, 2) in data coordinates: (n,) in [0, 1]."""
    x = torch.from_numpy(((np.asarray(points, np.float32) - pg.mean) / pg.scale).astype(np.float32))
    with torch.no_grad():
        return torch.sigmoid(_pack(pg, x)).numpy()


def heat_map(pg: Playground, extent: tuple, res: int = HEAT_RES) -> np.ndarray:
    """D(x) on a res × res grid over extent; row 0 is the top (largest y), as an image is drawn."""
    x0, x1, y0, y1 = extent
    xs, ys = np.linspace(x0, x1, res), np.linspace(y1, y0, res)
    gx, gy = np.meshgrid(xs, ys)
    return verdict(pg, np.stack([gx.ravel(), gy.ravel()], 1)).reshape(res, res)


def view_noise(pg: Playground, n: int = N_SHOWN) -> torch.Tensor:
    """Fixed noise for the shown fakes (the same points move from frame to frame, so their paths can be seen)."""
    if pg.view_z is None or len(pg.view_z) != n:
        pg.view_z = torch.randn(n, pg.cfg.nz, generator=torch.Generator().manual_seed(pg.seed + 7))
    return pg.view_z


def push(pg: Playground, z: torch.Tensor) -> tuple:
    """The fakes G(z) and where G's loss pushes them: -d loss_G / d x for each fake point x, in data
    coordinates; (points (n, 2), push (n, 2)). D's weights are not changed."""
    x = pg.G(z).detach().requires_grad_(True)
    a = pg.judge(x)
    grad, = torch.autograd.grad(g_loss(pg.cfg.loss, a) * len(a), x)
    return pg.to_plane(x), (-grad.numpy() / pg.scale).astype(np.float32)


def grid_lines(generators: int) -> int:
    """Noise grid lines per axis for each generator: 21 for one G, fewer for many, so a mixture of 32 draws
    about as many lines (32 x 5 x 5) as one G does (21 x 21)."""
    return max(5, round(GRID_K / generators ** 0.5))


def manifold(pg: Playground, k: int | None = None) -> tuple:
    """Each generator applied to a k × k grid of the noise plane (the first two noise numbers; any others 0):
    (points (generators, k, k, 2), density (generators, k-1, k-1)). A cell's density is its noise probability
    (a generator draws 1/generators of the samples) over its area after the warp, scaled so the median cell is 1:
    a stretched cell is thin, a squeezed one dense."""
    G, nz = pg.sampler(), pg.cfg.nz
    k = k or grid_lines(G.k)
    t = np.linspace(-GRID_Z, GRID_Z, k, dtype=np.float32)
    gz = np.zeros((k, k, nz), np.float32)
    gz[..., 0] = t[None, :]
    if nz > 1:
        gz[..., 1] = t[:, None]
    z = torch.from_numpy(gz.reshape(1, -1, nz)).expand(G.k, -1, -1)       # the same grid for every generator
    with torch.no_grad():
        p = pg.to_plane(G.each(z).reshape(-1, 2)).reshape(G.k, k, k, 2)
    a, b, c = p[:, :-1, :-1], p[:, :-1, 1:], p[:, 1:, :-1]
    area = np.abs((b - a)[..., 0] * (c - a)[..., 1] - (b - a)[..., 1] * (c - a)[..., 0]) + 1e-9
    mid = (t[:-1] + t[1:]) / 2
    pz = np.exp(-0.5 * (mid[None, :] ** 2 + (mid[:, None] ** 2 if nz > 1 else 0)))
    density = pz[None] / area
    return p, (density / (np.median(density) or 1.0)).astype(np.float32)


def game_view(pg: Playground, extent: tuple, real_shown: np.ndarray | None = None) -> dict:
    """Everything the picture draws, in data coordinates."""
    fake, arrows = push(pg, view_noise(pg))
    grid, density = manifold(pg)
    return {"extent": extent, "heat": heat_map(pg, extent), "real": real_shown, "fake": fake, "push": arrows,
            "grid": grid, "grid_density": density, "shown_from": "ema" if pg.G_ema is not None else "G"}
