"""Pictures for the Train page: labelled prediction grids, GAN sample grids and a per-class data preview.

    st.image(prediction_grid(images, pred, true, class_names))

Pure display code on uint8 arrays (PIL drawing); no model or tensor math.
"""
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from imgai.grids import make_grid, upscale

RED, GREEN, INK, PAPER = (224, 49, 49), (43, 138, 62), (33, 37, 41), (255, 255, 255)


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType sizes
        return ImageFont.load_default()


def _rgb(img: np.ndarray) -> np.ndarray:
    """uint8 (H, W) / (H, W, 1) / (H, W, 3) → (H, W, 3)."""
    img = np.asarray(img)
    if img.ndim == 2:
        img = img[..., None]
    return np.repeat(img, 3, axis=2) if img.shape[2] == 1 else img


def sample_grid(images: np.ndarray, scale: int = 2, cols: int | None = None) -> np.ndarray:
    """uint8 (N, H, W, C) → one enlarged grid, nearest-neighbour so pixels stay crisp."""
    return upscale(make_grid(images, nrow=cols), scale)


def prediction_grid(images: np.ndarray, pred: list, true: list, class_names: list, scale: int = 2,
                    cols: int = 6) -> Image.Image:
    """Each validation image with the network's answer below it; mistakes get a red frame and the right
    answer in brackets."""
    n = len(images)
    h, w = images.shape[1] * scale, images.shape[2] * scale
    tile_w, label_h, pad = max(w, 58), 19, 4
    rows = -(-n // cols)
    sheet = Image.new("RGB", (cols * (tile_w + pad) + pad, rows * (h + label_h + pad) + pad), PAPER)
    draw = ImageDraw.Draw(sheet)
    labels = []
    for i in range(n):
        p, t = str(class_names[pred[i]]), str(class_names[true[i]])
        wrong = [f"{p} ({t})", f"{p[:6]} ({t[:6]})", f"{p[:4]}({t[:4]})"]
        labels.append([p, p[:7], p[:5]] if pred[i] == true[i] else wrong)
    # one font size for the whole sheet: the largest at which every full label fits; else shorten some
    size = next((sz for sz in (15, 13) if all(draw.textlength(v[0], font=_font(sz)) <= tile_w + pad - 2
                                              for v in labels)), 11)
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        x0, y0 = pad + c * (tile_w + pad), pad + r * (h + label_h + pad)
        ix = x0 + (tile_w - w) // 2
        sheet.paste(Image.fromarray(upscale(_rgb(img), scale)), (ix, y0))
        ok = pred[i] == true[i]
        if not ok:
            draw.rectangle([ix - 2, y0 - 2, ix + w + 1, y0 + h + 1], outline=RED, width=2)
        font = _font(size)
        text = next((v for v in labels[i] if draw.textlength(v, font=font) <= tile_w + pad - 2), labels[i][-1])
        tw = draw.textlength(text, font=font)
        draw.text((x0 + (tile_w - tw) / 2, y0 + h + 2), text, fill=GREEN if ok else RED, font=font)
    return sheet


def class_preview(images_by_class: list, class_names: list, scale: int = 2) -> Image.Image:
    """One row per class: its name, then a few of its training images. images_by_class[k]: uint8 (n, H, W, C)."""
    font = _font(12)
    n = max((len(x) for x in images_by_class), default=0)
    if n == 0:
        return Image.new("RGB", (10, 10), PAPER)
    h, w = images_by_class[0].shape[1] * scale, images_by_class[0].shape[2] * scale
    label_w = 90 if any(len(str(c)) > 3 for c in class_names) else 30
    pad = 3
    sheet = Image.new("RGB", (label_w + n * (w + pad) + pad, len(class_names) * (h + pad) + pad), PAPER)
    draw = ImageDraw.Draw(sheet)
    for k, (name, imgs) in enumerate(zip(class_names, images_by_class)):
        y0 = pad + k * (h + pad)
        draw.text((4, y0 + h / 2 - 7), str(name)[:12], fill=INK, font=font)
        for j, img in enumerate(imgs):
            sheet.paste(Image.fromarray(upscale(_rgb(img), scale)), (label_w + j * (w + pad), y0))
    return sheet


def first_per_class(data, per_class: int = 6) -> list:
    """The first few training images of each class of an ImageData, as uint8 (n, H, W, C) arrays."""
    y = data.train_y.numpy()
    out = []
    for k in range(len(data.class_names)):
        idx = np.flatnonzero(y == k)[:per_class]
        out.append(data.train_x[idx].permute(0, 2, 3, 1).numpy())
    return out


def waiting_grid(n: int, size: int, channels: int, class_names: list) -> Image.Image:
    """A stand-in with the exact size of prediction_grid's picture, so the page does not jump when the
    first real one arrives."""
    images = np.full((n, size, size, channels), 235, np.uint8)
    blank = prediction_grid(images, [0] * n, [0] * n, [""] * max(1, len(class_names)))
    draw = ImageDraw.Draw(blank)
    text = "after the first epoch"
    font = _font(14)
    tw = draw.textlength(text, font=font)
    draw.text(((blank.width - tw) / 2, blank.height / 2 - 8), text, fill=(134, 142, 150), font=font)
    return blank
