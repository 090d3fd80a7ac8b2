"""The playground's picture of the plane, drawn with numpy and PIL (no plotting library: a frame costs a few
milliseconds, so the page can redraw it several times a second), and an animation of a run.

    img = draw_plane(game_view(pg, extent), modes=score(x, "ring8"))    # a PIL RGB image
    gif = run_animation(pg, seconds=10, frames=40)                       # GIF bytes

Colours follow GAN Lab: green for real (points, and where D says "real"), purple for fake.
"""
from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw

SIZE = 480
REAL = np.array([27, 158, 119], np.float32)      # green
FAKE = np.array([117, 82, 179], np.float32)      # purple
PAPER = np.array([250, 250, 250], np.float32)
GRID_RGB = (70, 70, 70)


def _to_px(points: np.ndarray, extent: tuple, size: int) -> np.ndarray:
    x0, x1, y0, y1 = extent
    px = (points[:, 0] - x0) / (x1 - x0) * (size - 1)
    py = (y1 - points[:, 1]) / (y1 - y0) * (size - 1)
    return np.stack([px, py], 1)


def heat_rgb(heat: np.ndarray, size: int) -> np.ndarray:
    """D(x) in [0, 1] as a soft diverging map: purple where D says fake (0), white at 0.5, green at real (1)."""
    h = np.asarray(Image.fromarray(heat.astype(np.float32), "F").resize((size, size), Image.BILINEAR))[..., None]
    w = np.abs(h - 0.5) * 2 * 0.45                 # at most 45% ink: the points stay readable on top
    tint = np.where(h > 0.5, REAL, FAKE)
    return PAPER * (1 - w) + tint * w


def _dots(img: np.ndarray, px: np.ndarray, rgb, r: int = 2):
    """Square dots of side 2r (a numpy splat: thousands of points in well under a millisecond)."""
    size = img.shape[0]
    p = np.round(px).astype(int)
    p = p[(p >= 0).all(1) & (p < size).all(1)]
    for dy in range(-r + 1, r):
        for dx in range(-r + 1, r):
            yy, xx = np.clip(p[:, 1] + dy, 0, size - 1), np.clip(p[:, 0] + dx, 0, size - 1)
            img[yy, xx] = rgb


def draw_plane(view: dict, modes: dict | None = None, centres: np.ndarray | None = None,
               show: tuple = ("heat", "grid", "real", "fake", "push"), size: int = SIZE) -> Image.Image:
    """The plane: D's heat map, G's manifold (grid lines, darker where denser), real and fake points and the
    push arrows. With `modes` (a score) and `centres`, each mode centre gets a ring: solid when covered."""
    ext = view["extent"]
    img = heat_rgb(view["heat"], size) if "heat" in show else np.tile(PAPER, (size, size, 1))
    img = img.astype(np.uint8)
    if "real" in show and view.get("real") is not None:
        _dots(img, _to_px(view["real"], ext, size), (REAL * 0.8).astype(np.uint8), r=2)
    canvas = Image.fromarray(img).convert("RGBA")
    layer = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    if "grid" in show:
        grids = view["grid"]                                   # (generators, k, k, 2): one warped grid each
        alphas = (np.clip(np.log2(view["grid_density"] + 1e-9) / 4 + 0.5, 0.05, 1) * 150).astype(int)  # ×16 = opaque
        for grid, alpha in zip(grids, alphas):
            g = _to_px(grid.reshape(-1, 2), ext, size).reshape(grid.shape)
            k = g.shape[0]
            for i in range(k):
                for j in range(k - 1):
                    a_row = alpha[min(i, k - 2), j]
                    draw.line([tuple(g[i, j]), tuple(g[i, j + 1])], fill=(*GRID_RGB, int(a_row)), width=1)
                    a_col = alpha[j, min(i, k - 2)]
                    draw.line([tuple(g[j, i]), tuple(g[j + 1, i])], fill=(*GRID_RGB, int(a_col)), width=1)
    canvas = Image.alpha_composite(canvas, layer)
    top = np.asarray(canvas.convert("RGB")).copy()
    if "fake" in show:
        _dots(top, _to_px(view["fake"], ext, size), FAKE.astype(np.uint8), r=2)
    out = Image.fromarray(top)
    draw = ImageDraw.Draw(out)
    if "push" in show:
        p = _to_px(view["fake"], ext, size)[::4]          # every 4th fake: arrows stay apart
        v = view["push"][::4] * np.array([1, -1])         # y grows downwards in the picture
        norm = np.linalg.norm(v, axis=1)
        top_norm = np.quantile(norm, 0.95) if len(norm) else 0
        if top_norm > 0:
            v = v / top_norm * 28                          # the 95th-percentile push is 28 px long
            for (x, y), (dx, dy) in zip(p, v):
                if dx * dx + dy * dy < 4:
                    continue
                draw.line([(x, y), (x + dx, y + dy)], fill=(60, 30, 110), width=1)
                draw.ellipse([x + dx - 1.5, y + dy - 1.5, x + dx + 1.5, y + dy + 1.5], fill=(60, 30, 110))
    if modes is not None and centres is not None:
        for (x, y), ok in zip(_to_px(centres, ext, size), modes["covered"]):
            r = 9
            draw.ellipse([x - r, y - r, x + r, y + r], outline=(20, 20, 20) if ok else (200, 40, 40),
                         width=2 if ok else 1)
    draw.rectangle([0, 0, size - 1, size - 1], outline=(180, 180, 180))
    return out


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=1)  # level 1: a quarter of the time of the default, a bit larger
    return buf.getvalue()


def gif_bytes(frames: list, ms: int = 100) -> bytes:
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=ms, loop=0)
    return buf.getvalue()
