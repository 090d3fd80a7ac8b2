"""A picture file → the exported model's input, from preprocess.json alone (numpy and Pillow, no imgai).

    x = model_input("photo.jpg", json.load(open("preprocess.json")))   # float32 (1, C, H, W)

This file is copied into every `python -m imgai export` folder; demo.html does the same steps in
JavaScript. The steps, as preprocess.json names them:
  intake "fit"    centre-crop to a square, resize to size × size (Lanczos), RGB or grayscale
  intake "photo"  the same, resizing the shorter side first with a bilinear filter (ImageNet's way)
  intake "digit"  MNIST's recipe: grayscale, dark ink on light paper inverted to white on black, the
                  ink's bounding box fitted into 20 × 20 keeping its aspect ratio and placed in 28 × 28
                  with its centre of mass at the centre. (imgai's own intake also evens out the uneven
                  light of a phone photo before this; for drawings and scans the two agree.)
then pixels / 255, then (x - mean) / std per channel, laid out NCHW.
"""
import json
import sys

import numpy as np
from PIL import Image, ImageOps


def _gray(img: Image.Image) -> np.ndarray:
    """float32 (H, W) in 0..1; a transparent drawing is put on a background that contrasts with its strokes."""
    if "A" in img.getbands() or (img.mode == "P" and "transparency" in img.info):
        rgba = np.asarray(img.convert("RGBA"), dtype=np.float32) / 255
        lum = rgba[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)
        alpha, opaque = rgba[..., 3], rgba[..., 3] > 0.5
        paper = 0.0 if opaque.any() and lum[opaque].mean() > 0.5 else 1.0
        return lum * alpha + paper * (1 - alpha)
    return np.asarray(img.convert("RGB").convert("L"), dtype=np.float32) / 255


def digit_pixels(img: Image.Image, box: int = 20, side: int = 28) -> np.ndarray:
    """MNIST's recipe: float32 (side, side) in 0..1, a white digit on black."""
    g = _gray(img)
    ring = np.concatenate([g[0], g[-1], g[:, 0], g[:, -1]])
    paper = float(np.median(ring))
    ink = np.clip(paper - g, 0, 1) if paper > 0.5 else np.clip(g - paper, 0, 1)   # ink bright, paper 0
    if ink.max() < 0.05:
        return np.zeros((side, side), np.float32)                               # no ink: a blank picture
    ink = ink / ink.max()
    rows, cols = np.nonzero(ink > 0.1)
    crop = ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    h, w = crop.shape
    s = box / max(h, w)
    size = (max(1, round(w * s)), max(1, round(h * s)))
    if size != (w, h):
        crop = np.asarray(Image.fromarray(crop, "F").resize(size, Image.Resampling.LANCZOS), np.float32)
    crop = np.clip(crop, 0, 1)
    h, w = crop.shape
    total = crop.sum()
    cy = (crop.sum(axis=1) @ np.arange(h)) / total
    cx = (crop.sum(axis=0) @ np.arange(w)) / total
    # centre of mass at pixel (14, 14) of 28 x 28: where MNIST's digits have it on average (13.99, 14.00)
    top = int(np.clip(round(side / 2 - cy), 0, side - h))
    left = int(np.clip(round(side / 2 - cx), 0, side - w))
    out = np.zeros((side, side), np.float32)
    out[top:top + h, left:left + w] = crop
    return out


def fit_pixels(img: Image.Image, size: int, channels: int, photo: bool = False) -> np.ndarray:
    """float32 (size, size, channels) in 0..1: centre square, resized; transparency composited on white."""
    if "A" in img.getbands() or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        img = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    img = img.convert("RGB")
    if photo:
        img = ImageOps.fit(img, (size, size), Image.Resampling.BILINEAR)
    else:
        w, h = img.size
        s = min(w, h)
        left, top = (w - s) // 2, (h - s) // 2
        img = img.crop((left, top, left + s, top + s)).resize((size, size), Image.Resampling.LANCZOS)
    if channels == 1:
        img = img.convert("L")
    a = np.asarray(img, dtype=np.float32) / 255
    return a[..., None] if a.ndim == 2 else a


def model_input(picture, spec: dict) -> np.ndarray:
    """A path or PIL image → float32 (1, C, H, W), normalised as preprocess.json says."""
    img = picture if isinstance(picture, Image.Image) else Image.open(picture)
    img = ImageOps.exif_transpose(img)       # a phone photo's rotation flag, as imgai's intake applies it
    size, channels = spec["size"][0], spec["channels"]
    if spec["intake"] == "digit":
        a = digit_pixels(img, spec.get("digit_box", 20), size)[..., None]
    else:
        a = fit_pixels(img, size, channels, photo=spec["intake"] == "photo")
    a = (a - np.array(spec["mean"], np.float32)) / np.array(spec["std"], np.float32)
    return np.ascontiguousarray(a.transpose(2, 0, 1)[None], dtype=np.float32)


if __name__ == "__main__":   # python preprocess.py picture.png  →  the answer, with onnxruntime
    import onnxruntime as ort
    spec = json.load(open("preprocess.json"))
    labels = open("labels.txt", encoding="utf-8").read().splitlines()
    session = ort.InferenceSession("model.onnx")
    for path in sys.argv[1:]:
        probabilities = session.run(["probabilities"], {"input": model_input(path, spec)})[0][0]
        best = int(probabilities.argmax())
        print(f"{path}: {labels[best]} ({probabilities[best]:.1%})")
