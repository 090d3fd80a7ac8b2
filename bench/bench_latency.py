"""Latency a user feels: classifying one photo (intake + model) and redrawing GAN samples, beside the bare
model forward pass on the same input, in one run.

    python bench/bench_latency.py [--repeat 20]
"""
import argparse
import io
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from imgai.checkpoint import load_checkpoint
from imgai.classify import load_classifier
from imgai.device import configure_threads
from imgai.latent import seed_latents
from imgai.train import sample_images
from imgai.intake import open_image

ROOT = Path(__file__).resolve().parent.parent


def median_ms(fn, repeat):
    fn()  # warm up
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return round(1000 * statistics.median(times), 2)


def phone_like_photo() -> bytes:
    """A 1200x1600 JPEG of a dark digit on light paper: the size a phone sends."""
    from imgai.data import load_dataset
    digit = load_dataset("digits").val_x[0, 0].numpy()
    ink = np.asarray(Image.fromarray(255 - digit).resize((600, 600), Image.BILINEAR), dtype=np.float32)
    paper = np.full((1600, 1200), 215, np.float32)
    paper[500:1100, 300:900] = np.minimum(paper[500:1100, 300:900], ink * 0.85 + 20)
    buf = io.BytesIO()
    Image.fromarray(paper.astype(np.uint8)).convert("RGB").save(buf, "JPEG", quality=85)
    return buf.getvalue()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=20)
    a = ap.parse_args()
    configure_threads()
    cases = [("classify phone photo of a digit (1200x1600 JPEG)", str(ROOT / "weights" / "digits-cnn"),
              phone_like_photo()),
             ("classify a photo with the ImageNet model", "imagenet",
              (ROOT / "tests" / "photos" / "chelsea.jpg").read_bytes())]
    for task, weights, data in cases:
        clf = load_classifier(weights)
        x = clf.prepare(open_image(data))
        with torch.no_grad():
            bare = median_ms(lambda: clf.model(x), a.repeat)
        full = median_ms(lambda: clf.predict(open_image(data)), a.repeat)
        print(json.dumps({"task": task, "end_to_end_ms": full, "bare_forward_ms": bare}), flush=True)

    gan, _ = load_checkpoint(str(ROOT / "weights" / "digits-dcgan"))
    for n in (1, 8, 64):
        z = seed_latents(0, n, gan.config.nz)
        with torch.no_grad():
            bare = median_ms(lambda: gan.generator(z), a.repeat)
        full = median_ms(lambda: sample_images(gan.generator, z), a.repeat)
        print(json.dumps({"task": f"redraw {n} GAN samples", "end_to_end_ms": full, "bare_forward_ms": bare}), flush=True)


if __name__ == "__main__":
    main()
