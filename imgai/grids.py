"""Image grids and animations for showing and saving batches of small images.

    Image.fromarray(make_grid(images)).save("grid.png")
"""
import io
import math

import numpy as np
from PIL import Image


def make_grid(images: np.ndarray, nrow: int | None = None, pad: int = 2, pad_value: int = 40) -> np.ndarray:
    """uint8 (N, H, W) or (N, H, W, C) → one uint8 image (rows × cols of tiles), (H', W') or (H', W', 3)."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    n, h, w, c = images.shape
    cols = nrow or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    out = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, c), pad_value, np.uint8)
    for i, img in enumerate(images):
        r, q = divmod(i, cols)
        out[pad + r * (h + pad):pad + r * (h + pad) + h, pad + q * (w + pad):pad + q * (w + pad) + w] = img
    return out[..., 0] if c == 1 else out


def upscale(img: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour enlargement: keeps 28x28 pixels crisp on screen."""
    return np.repeat(np.repeat(img, factor, axis=0), factor, axis=1)


def gif_bytes(frames: np.ndarray, ms_per_frame: int = 120, scale: int = 4, bounce: bool = False) -> bytes:
    """uint8 (K, H, W[, C]) → an animated GIF that loops forever, K frames (2K-2 with bounce)."""
    frames = [upscale(np.asarray(f), scale) for f in frames]
    if bounce:
        frames = frames + frames[-2:0:-1]
    pil = [Image.fromarray(f if f.ndim == 2 else f) for f in frames]
    buf = io.BytesIO()
    # disposal=2 and optimize=False keep every frame whole, so a GIF of K steps decodes to K frames
    pil[0].save(buf, format="GIF", save_all=True, append_images=pil[1:], duration=ms_per_frame, loop=0,
                optimize=False, disposal=2)
    return buf.getvalue()
