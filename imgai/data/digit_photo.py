"""Phone photos (and drawings) of one hand-written digit -> MNIST-style 28x28 inputs.

MNIST digits are white on black, fitted into 20x20 and centred by centre of mass in 28x28. A photo
is dark ink on unevenly lit paper: its paper is estimated with grey-level morphology, the ink
normalised against it, specks dropped by connected components, thin pen strokes thickened.

    x = digit_from_photo(open_image("seven.jpg"))   # uint8 (28, 28)
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image
from scipy import ndimage

from imgai.data.intake import wide_to_uint8, to_rgb

_WORK_SIDE = 400  # working resolution: a digit a third of the photo tall is still ~130 px
_MNIST_BOX = 20  # MNIST digits were fitted into 20x20, keeping their aspect ratio ...
_MNIST_SIDE = 28  # ... then placed in 28x28 with their centre of mass at the centre
_MNIST_COM = 14.0  # measured on imgai/assets/digits.npz: mean centre of mass is (13.99, 14.00)
_MIN_CONTRAST = 0.08  # blank pages measure < 0.01 (noise, shadows), faint pencil digits > 0.15
_MNIST_STROKE = 0.14  # MNIST stroke width / digit height (2.8 px at 20 px, from digits.npz)
# Paper estimate (an opening) radius / working side: its 17% window is wider than MNIST-like
# strokes (14% of a digit that nearly fills the frame) yet follows a shadow's shape closely.
_PAPER_RADIUS = 0.08
_WIDE_RADIUS = 0.3  # a 60% window, wider than any digit that leaves paper around it: bold blobs


def digit_from_photo(img) -> np.ndarray:
    """Turn a photo (or drawing) of one hand-written digit into a uint8 (28, 28) MNIST-style image.

    White ink on black, fitted into 20x20 keeping its aspect ratio and centred by centre of
    mass in 28x28, as MNIST was made. Works for dark ink on light, unevenly lit paper and for
    light-on-dark drawings alike. An image on a clean, flat background (MNIST itself, a canvas
    drawing, a scan) keeps its own strokes and grey levels: it is only cropped, fitted and
    centred (and hairline strokes thickened). An image without ink gives all zeros.
    """
    g = _gray(img)
    if min(g.shape) < 2:
        return np.zeros((_MNIST_SIDE, _MNIST_SIDE), np.uint8)
    ink = _ink_map(g)
    if ink is None:
        return np.zeros((_MNIST_SIDE, _MNIST_SIDE), np.uint8)
    soft, box, dark = ink
    # A small digit in a big photo: redo it on a full-resolution crop around the digit, so the
    # strokes are not lost to the working-resolution downscale.
    y0, y1, x0, x1 = box
    scale = max(g.shape) / max(soft.shape)
    if scale > 1.5 and max(y1 - y0, x1 - x0) < 0.5 * _WORK_SIDE:
        side = max(y1 - y0, x1 - x0) * scale
        cy, cx = (y0 + y1) / 2 * scale, (x0 + x1) / 2 * scale
        half = side  # the crop is twice the digit, so there is paper around it for the background
        t, b = int(max(0, cy - half)), int(min(g.shape[0], cy + half + 1))
        lft, r = int(max(0, cx - half)), int(min(g.shape[1], cx + half + 1))
        # Keep the whole photo's verdict on which way the ink goes: a crop is mostly digit.
        again = _ink_map(g[t:b, lft:r], dark)
        if again is not None:
            soft, box, _ = again
    return _to_mnist(soft, box)


def _gray(img) -> np.ndarray:
    """float32 (H, W) in 0..1 from a PIL image or an array (e.g. a drawing canvas' RGBA)."""
    if isinstance(img, np.ndarray):
        a = img
        if a.dtype != np.uint8:
            a = wide_to_uint8(a)
        img = Image.fromarray(a)
    if "A" in img.getbands() or (img.mode == "P" and "transparency" in img.info):
        # A drawing on a transparent canvas: put it on a background that contrasts with its
        # strokes (white strokes on white would vanish, and so would black on black).
        rgba = np.asarray(img.convert("RGBA"), dtype=np.float32) / 255.0
        alpha = rgba[..., 3]
        lum = rgba[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)
        opaque = alpha > 0.5
        paper = 0.0 if opaque.any() and lum[opaque].mean() > 0.5 else 1.0
        return (lum * alpha + paper * (1 - alpha)).astype(np.float32)
    return np.asarray(to_rgb(img).convert("L"), dtype=np.float32) / 255.0


def _resize_f(a: np.ndarray, size_wh: tuple[int, int], resample=Image.Resampling.BILINEAR) -> np.ndarray:
    """Resize a float array with Pillow (mode F); Pillow's filters anti-alias when shrinking."""
    return np.asarray(Image.fromarray(a.astype(np.float32), "F").resize(size_wh, resample), dtype=np.float32)


def _polarity(g: np.ndarray, sides: np.ndarray, paper: float, clean: bool) -> tuple[bool, float]:
    """(dark ink?, ink contrast). True for dark ink on lighter paper (pen on paper), False for
    light on dark (MNIST itself, a canvas drawing, chalk on a board), which is not inverted.

    sides: _paper_sides(g); paper, clean: _border(g). Ink is darker (or lighter) than any paper
    at the picture's edge, which settles most photos. Otherwise (the digit touches the edge, or
    a bright highlight competes) ridges are counted: a stroke is darker (or lighter) than the
    paper on every side, while a shadow's edge is a step, so comparing each pixel with the
    darkest (or lightest) of the four one-sided paper estimates sees the ridge and not the step.
    The contrast is the strongest ridge on the ink's side: blank pages stay near 0.05 however
    the light falls, pen and pencil strokes reach 0.2 and more.
    """
    if clean:
        # A clean, flat border: a digital drawing, a scan or MNIST itself. Its paper is known,
        # and the ink is whichever extreme lies farther from it (true extremes: a clean image
        # has no noise, and a thin line may cover less than 1% of it).
        darkest, lightest = float(g.min()), float(g.max())
        dark = paper - darkest > lightest - paper
        return dark, (paper - darkest if dark else lightest - paper)
    small = _resize_f(g, sides.shape[:0:-1]) if sides.shape[1:] != g.shape else g
    below = np.clip(sides.min(axis=0) - small, 0, None)  # darker than the paper on every side
    above = np.clip(small - sides.max(axis=0), 0, None)  # lighter than the paper on every side
    # The edge first: ink is darker (or lighter) than any paper there however the light falls (a
    # shadow takes 20-60% of the light, ink 60-90%); paper showing between a bold digit's strokes
    # or a lit strip between two shadows is a ridge too, but no lighter than the edge's paper.
    h, w = g.shape
    gb = _box_blur(g, 1)  # 3x3 mean: a single noisy pixel is no extreme
    k = max(1, min(h, w) // 12)
    ring = np.concatenate([gb[:k].ravel(), gb[-k:].ravel(), gb[:, :k].ravel(), gb[:, -k:].ravel()])
    edge_lo, edge_hi = np.percentile(ring, [1, 99])
    below_edge, above_edge = float(edge_lo - gb.min()), float(gb.max() - edge_hi)
    if max(below_edge, above_edge) > max(0.1, 2 * min(below_edge, above_edge)):
        dark = below_edge > above_edge
    else:  # the ink touches the edge, or nothing stands out: count ridges
        darker = float(np.clip(below - 0.02, 0, None).mean())  # 2%: above noise after the downscale
        lighter = float(np.clip(above - 0.02, 0, None).mean())
        if max(darker, lighter) > 1.2 * min(darker, lighter):
            dark = darker > lighter
        else:  # too close to call (no ink at all, say): paper frames a digit, so ask the border
            lo, hi = np.percentile(g, [1, 99])
            dark = paper > (lo + hi) / 2
    return dark, float((below if dark else above).max())


def _paper_sides(g: np.ndarray) -> np.ndarray:
    """(4, h, w): the paper's level seen from above, below, left and right of each pixel of a
    <= 64 px copy of g: medians over half-windows ~30% of the picture wide (wider than twice a
    stroke, so the ink is a minority in them). A photo's paper is what most pixels around a
    point show; global levels mislead (a shadow over half the page moves the overall median).
    Next to a shadow's edge, the half-window on the pixel's own side still shows its own paper."""
    h, w = g.shape
    s = min(1.0, 64 / max(h, w))
    small = _resize_f(g, (max(1, round(w * s)), max(1, round(h * s)))) if s < 1 else g
    r = max(4, round(0.15 * max(small.shape)))
    win = sliding_window_view(np.pad(small, r, mode="edge"), (2 * r + 1, 2 * r + 1))
    return np.stack([np.median(win[..., :r + 1, :], axis=(-2, -1)), np.median(win[..., r:, :], axis=(-2, -1)),
                     np.median(win[..., :, :r + 1], axis=(-2, -1)), np.median(win[..., :, r:], axis=(-2, -1))])


def _border(g: np.ndarray) -> tuple[float, bool]:
    """(median of the image's border ring, is that ring flat?). A ring 1/12 of the side deep;
    flat: 80% of it within 4% grey levels, which phone photos (noise, light gradients) never are."""
    h, w = g.shape
    k = max(1, min(h, w) // 12)
    ring = np.concatenate([g[:k].ravel(), g[-k:].ravel(), g[:, :k].ravel(), g[:, -k:].ravel()])
    return float(np.median(ring)), bool(np.percentile(ring, 90) - np.percentile(ring, 10) < 0.04)


def _opening(x: np.ndarray, r: int) -> np.ndarray:
    """Grey-level opening by a (2r+1)^2 square: removes bright things narrower than the square
    (ink, once inverted) and keeps everything wider exactly, steps included (a shadow's edge).
    scipy's min/max filters cost the same whatever r (an opening as wide as the photo included)."""
    return ndimage.grey_opening(x, size=(2 * r + 1, 2 * r + 1), mode="nearest")


def _dilate(a: np.ndarray, r: int) -> np.ndarray:
    """Max over a (2r+1)^2 square: widens bright strokes (or a mask) by r pixels on every side."""
    return ndimage.maximum_filter(a, size=2 * r + 1, mode="nearest") if r > 0 else a


def _box_blur(a: np.ndarray, r: int) -> np.ndarray:
    """Mean over a (2r+1)^2 window, edges repeated."""
    return ndimage.uniform_filter(a.astype(np.float32), size=2 * r + 1, mode="nearest")


def _strength(x: np.ndarray, bg) -> np.ndarray:
    """Ink relative to its paper (0 = paper, 1 = black ink on white; < 0 lighter than paper).

    x has the ink bright. Dividing by the paper's brightness (1 - bg) makes ink in a shadow as
    strong as ink in full light: strength is the fraction by which ink is darker than its paper.
    The floor caps that gain at ~7x: paper in deep shadow (a fifth of the light) still gets its
    ink's full strength, while darker corners, where noise is most of the signal, do not."""
    return (x - bg) / np.maximum(1.0 - bg, 0.15)


def _ink_strength(x: np.ndarray, sides: np.ndarray) -> np.ndarray:
    """Ink strength of a photo (ink bright in x) over paper whose light varies.

    sides: the one-sided paper estimates of _paper_sides, on x's scale. Two paper estimates,
    each right where the other fails, and the brighter wins (ink is brighter than paper in x):
    - a grey-level opening of x, wider than any stroke: it removes the ink, follows gradients
      and keeps a shadow's sharp edge exactly where a blur would smear it into a false stroke;
      but a strip or corner of shadow narrower than its window passes for ink;
    - the paper seen from at least two of the four sides (the second brightest one-sided
      median): a pixel in a shadow strip or corner has its shadow on two sides (the image's
      edge is padded with itself), while on a smooth gradient the brightest side alone would
      overestimate the paper and weaken faint strokes; coarse (64 px), so blurred at an edge.
    A 3x3 mean first, so the opening's minimum does not dig into pixel noise.

    A bold blob of ink (a marker, a filled loop) is wider than both windows and would pass for
    paper, leaving holes. An opening wider than any digit sees it as ink, but also sees patches
    of shadow smaller than itself: its verdict is taken only for parts at least 3/4 as strong as
    the digit's typical ink (pen ink takes 80-90% of the light, a shadow 20-60%) that do not
    touch the picture's edge (a shadow comes from outside the photo, a digit lies inside it).
    """
    x = _box_blur(x, 1)
    h, w = x.shape
    two_sides = np.sort(sides, axis=0)[-2]
    coarse = _resize_f(two_sides, (w, h)) if two_sides.shape != x.shape else two_sides
    f = _strength(x, np.maximum(_opening(x, max(2, round(_PAPER_RADIUS * max(h, w)))), coarse))
    strong = f > 0.15
    if strong.sum() < 4:
        return f
    wide = _strength(x, _opening(x, max(3, round(_WIDE_RADIUS * max(h, w)))))
    labels, _, boxes = _components(wide > max(0.75 * float(np.percentile(f[strong], 90)), 0.3))
    inside = (boxes[:, 0] > 0) & (boxes[:, 1] < h - 1) & (boxes[:, 2] > 0) & (boxes[:, 3] < w - 1)
    blobs = np.isin(labels, np.nonzero(inside)[0] + 1)
    return np.where(blobs, np.maximum(f, wide), f)


def _noise_sigma(x: np.ndarray) -> float:
    """Pixel noise from neighbour differences (median: edges of strokes are rare outliers)."""
    d = np.abs(np.diff(x, axis=1)).ravel()
    return float(np.median(d)) / (0.6745 * np.sqrt(2)) + 1e-4


def _components(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """8-connected components of a boolean mask, largest first: (labels, areas, boxes).

    labels (H, W) int32 is 0 off the mask and k+1 on component k; boxes[k] = y0, y1, x0, x1
    (inclusive)."""
    labels, n = ndimage.label(mask, structure=np.ones((3, 3), bool))
    if n == 0:
        return labels.astype(np.int32), np.zeros(0, np.int64), np.zeros((0, 4), np.int64)
    areas = np.bincount(labels.ravel(), minlength=n + 1)[1:].astype(np.int64)
    boxes = np.array([(s[0].start, s[0].stop - 1, s[1].start, s[1].stop - 1) for s in ndimage.find_objects(labels)],
                     np.int64)
    order = np.argsort(-areas, kind="stable")
    rank = np.zeros(n + 1, np.int32)
    rank[order + 1] = np.arange(1, n + 1, dtype=np.int32)
    return rank[labels], areas[order], boxes[order]


def _ink_map(g: np.ndarray, assume_dark_ink: bool | None = None):
    """(soft ink map 0..1 at working resolution, its bounding box, dark-ink?) or None if no ink."""
    h, w = g.shape
    if max(h, w) > _WORK_SIDE:
        s = _WORK_SIDE / max(h, w)
        g = _resize_f(g, (max(2, round(w * s)), max(2, round(h * s))))
    paper, clean = _border(g)
    sides = None if clean else _paper_sides(g)
    if assume_dark_ink is None:
        dark, contrast = _polarity(g, sides, paper, clean)
        if contrast < _MIN_CONTRAST:
            return None  # blank page, uniform picture: nothing stands out from its surroundings
    else:
        dark = assume_dark_ink
    x = 1.0 - g if dark else g  # from here on the ink is bright and the paper dark
    # A flat border (MNIST itself, a canvas drawing, a scan) has no uneven light to remove: its
    # paper is one level, and estimating it pixel by pixel could only eat into bold strokes.
    if clean:
        f = _strength(x, 1.0 - paper if dark else paper)
    else:
        f = _ink_strength(x, 1.0 - sides if dark else sides)
    sigma = _noise_sigma(f)
    f = np.clip(f, 0, None)
    # 15% darker than its paper: pencil is ~30%, pen 60-90%; paper texture, JPEG blocks and
    # the remains of shadows and gradients stay below it.
    strong = f > max(6 * sigma, 0.15)
    if strong.sum() < max(4, 2e-4 * f.size):
        return None  # no ink: blank paper, a uniform picture
    top = float(np.percentile(f[strong], 90))  # the ink's typical strength
    if clean:
        # Keep the drawing's own grey levels (MNIST's anti-aliased edges): only scale to full ink.
        lo, hi = max(3 * sigma, 0.02 * top), top
    else:
        # Contrast normalisation into a soft map: below `lo` is paper/noise, above `hi` full ink.
        lo = max(4 * sigma, 0.25 * top)
        hi = max(0.6 * top, lo + 1e-3)
    soft = np.clip((f - lo) / (hi - lo), 0, 1).astype(np.float32)

    # Photos: parts under 8% of the digit are specks (dust, JPEG noise, paper texture). A clean
    # image has none: any mark near the digit, however small or faint (an underline, a dot), was
    # drawn, and MNIST kept it too. Parts a pixel or two apart (pencil grain) count as one.
    marks = soft > (0.2 if clean else 0.5)
    labels, areas, boxes = _components(_dilate(marks, 1))
    if len(areas) == 0:
        return None
    by0, by1, bx0, bx1 = boxes[0]
    near = 0.5 * (max(by1 - by0, bx1 - bx0) + 1)  # parts of one digit (a 5's bar) sit close
    kept = [1]
    for k in range(1, len(areas)):
        if not clean and areas[k] < max(3, 0.08 * areas[0]):
            break  # sorted by area: the rest are smaller still
        y0, y1, x0, x1 = boxes[k]
        if y0 <= by1 + near and y1 >= by0 - near and x0 <= bx1 + near and x1 >= bx0 - near:
            kept.append(k + 1)
    keep = np.isin(labels, kept)
    # Keep the soft anti-aliased fringe around the kept strokes, drop everything else.
    soft = soft * _dilate(keep, 2)
    ys, xs = np.nonzero(keep)
    return soft, (int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1), dark


def _stroke_width(mask: np.ndarray) -> float:
    """Mean stroke width ~ 2 * area / perimeter (a stroke of width w and length L: wL / L).
    Holes and notches of a pixel or two (pencil grain) are closed first: they are not edges."""
    mask = ndimage.grey_closing(mask, size=(3, 3), mode="nearest")
    area = mask.sum()
    inner = mask[1:-1, 1:-1] & mask[:-2, 1:-1] & mask[2:, 1:-1] & mask[1:-1, :-2] & mask[1:-1, 2:]
    perimeter = max(1, area - inner.sum())
    return 2.0 * area / perimeter


def _to_mnist(soft: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    y0, y1, x0, x1 = box
    pad = 3  # keep the soft fringe just outside the kept strokes
    crop = soft[max(0, y0 - pad):y1 + pad, max(0, x0 - pad):x1 + pad]
    long_side = max(y1 - y0, x1 - x0)
    # Pen strokes are far thinner than MNIST's (a 0.7 mm pen on a 3 cm digit is 2% of its height,
    # MNIST's are 14%): thicken thin strokes, or a classifier trained on MNIST sees a faint hair.
    width = _stroke_width(crop > 0.5)
    if width < 0.6 * _MNIST_STROKE * long_side:
        crop = _dilate(crop, int(round((0.85 * _MNIST_STROKE * long_side - width) / 2)))
    # Crop tightly again (the fringe and any thickening widened it) and fit into 20x20.
    rows, cols = np.nonzero(crop.max(axis=1) > 0.05)[0], np.nonzero(crop.max(axis=0) > 0.05)[0]
    crop = crop[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    h, w = crop.shape
    s = _MNIST_BOX / max(h, w)
    size = (max(1, round(w * s)), max(1, round(h * s)))
    small = np.clip(_resize_f(crop, size, Image.Resampling.LANCZOS), 0, 1)
    peak = small.max()
    if peak <= 0:
        return np.zeros((_MNIST_SIDE, _MNIST_SIDE), np.uint8)
    small /= peak  # MNIST digits always reach full white
    # Centre of mass to (14, 14) by an integer shift, clamped so the 20x20 box stays inside 28x28.
    hh, ww = small.shape
    yy, xx = np.mgrid[0:hh, 0:ww]
    m = small.sum()
    cy, cx = (small * yy).sum() / m, (small * xx).sum() / m
    top = int(np.clip(round(_MNIST_COM - cy), 0, _MNIST_SIDE - hh))
    left = int(np.clip(round(_MNIST_COM - cx), 0, _MNIST_SIDE - ww))
    out = np.zeros((_MNIST_SIDE, _MNIST_SIDE), np.float32)
    out[top:top + hh, left:left + ww] = small
    return np.rint(out * 255).astype(np.uint8)
