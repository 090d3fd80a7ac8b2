"""Latency a user feels: classifying one photo (intake + model) and redrawing GAN samples, beside the bare
model forward pass on the same input; and the digit-photo recipe on scipy.ndimage beside the hand-rolled
filters it replaced (imgai/vision.py at --old-ref, loaded from git), on the same photos in the same run.

    PYTHONPATH=. IMGAI_THREADS=1 python bench/bench_latency.py [--repeat 20] [--old-ref 33b8452] [--dry-run]
"""
import argparse
import io
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from imgai.models.checkpoint import load_checkpoint
from imgai.inference.classify import load_classifier
from imgai.device import configure_threads
from imgai.data.digit_photo import digit_from_photo
from imgai.data.intake import open_image
from imgai.inference.latent import seed_latents
from imgai.models.sampling import sample_images
from code_at_commit import module_at
from record import add_dry_run, load_note, record

ROOT = Path(__file__).resolve().parent.parent
# The last commit with the hand-rolled morphology and labelling (imgai/vision.py), before the split.
OLD_REF = "33b8452"


def side_by_side(fns, repeat) -> list[tuple[float, float]]:
    """(wall ms, CPU ms of this process) medians for each function. On a machine other jobs share, the wall
    figure mostly measures the others; the CPU figure is what the work itself costs (with one thread: its
    latency alone). The functions are called in turn within each round, so that a slow stretch of the
    machine falls on all of them alike (timed one after the other, a bare forward pass once came out slower
    than the whole classification that contains it)."""
    for fn in fns:
        fn()  # warm up
    wall, cpu = [[] for _ in fns], [[] for _ in fns]
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            t, c = time.perf_counter(), time.process_time()
            fn()
            wall[i].append(time.perf_counter() - t)
            cpu[i].append(time.process_time() - c)
    return [(round(1000 * statistics.median(w), 2), round(1000 * statistics.median(c), 2))
            for w, c in zip(wall, cpu)]


def phone_like_photo() -> bytes:
    """A 1200x1600 JPEG of a dark digit on light paper: the size a phone sends."""
    from imgai.data.datasets import load_dataset
    digit = load_dataset("digits").val_x[0, 0].numpy()
    ink = np.asarray(Image.fromarray(255 - digit).resize((600, 600), Image.BILINEAR), dtype=np.float32)
    paper = np.full((1600, 1200), 215, np.float32)
    paper[500:1100, 300:900] = np.minimum(paper[500:1100, 300:900], ink * 0.85 + 20)
    buf = io.BytesIO()
    Image.fromarray(paper.astype(np.uint8)).convert("RGB").save(buf, "JPEG", quality=85)
    return buf.getvalue()


def old_digit_recipe(ref: str):
    """digit_from_photo of imgai/vision.py at `ref`; None if git cannot show it (a shallow checkout)."""
    old = module_at(ref, "imgai/vision.py")
    return None if old is None else old.digit_from_photo


def digit_photos(n: int) -> list:
    """n synthetic phone photos of digits in every style of tests/image_corpus.py, decoded."""
    sys.path.insert(0, str(ROOT / "tests"))
    from image_corpus import PHOTO_STYLES, load_digits, phone_photo
    digits, rng = load_digits(), np.random.default_rng(0)
    out = []
    for i in range(n):
        style = PHOTO_STYLES[i % len(PHOTO_STYLES)]
        size = 300 if style == "small" else int(rng.integers(300, 600))
        out.append(open_image(phone_photo(digits["val_x"][i], rng, size=size, style=style)))
    return out + [Image.fromarray(d) for d in digits["val_x"][:n]]  # and MNIST digits themselves


def compare_recipes(old, photos, repeat) -> dict:
    """CPU ms per picture of both recipes over the same pictures, and how many outputs are identical."""
    same = sum(np.array_equal(old(p), digit_from_photo(p)) for p in photos)
    per = {}
    for label, fn in (("hand-rolled", old), ("scipy.ndimage", digit_from_photo)):
        runs = []
        for _ in range(repeat):
            t = time.process_time()
            for p in photos:
                fn(p)
            runs.append((time.process_time() - t) / len(photos))
        per[label] = round(1000 * statistics.median(runs), 2)
    return {"pictures": len(photos), "identical_outputs": int(same), "cpu_ms_per_picture": per}


def _ms(v: float) -> str:
    """Whole milliseconds, with a decimal under 10 ms (the digit CNN's bare pass is under 1 ms, not "0 ms")."""
    return f"{v:.1f}" if v < 10 else f"{v:.0f}"


def main():
    ap = add_dry_run(argparse.ArgumentParser())
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--old-ref", default=OLD_REF, help="commit whose imgai/vision.py is the old digit recipe")
    a = ap.parse_args()
    repeat = 2 if a.dry_run else a.repeat
    threads = configure_threads()
    on = f"{threads} thread" + ("s" if threads > 1 else "")
    figures, readme = {"threads": threads, "classify": [], "gan": []}, []

    cases = [("classify phone photo of a digit (1200x1600 JPEG)", str(ROOT / "weights" / "digits-cnn"),
              phone_like_photo()),
             ("classify a photo with the ImageNet model", "imagenet",
              (ROOT / "tests" / "photos" / "chelsea.jpg").read_bytes())]
    for task, weights, data in cases[:1] if a.dry_run else cases:
        clf = load_classifier(weights)
        x = clf.prepare(open_image(data))
        def bare_pass():
            with torch.no_grad():
                clf.model(x)
        bare, full = side_by_side([bare_pass, lambda: clf.predict(open_image(data))], repeat)
        figures["classify"].append({"task": task, "end_to_end_ms": full[0], "bare_forward_ms": bare[0],
                                    "end_to_end_cpu_ms": full[1], "bare_forward_cpu_ms": bare[1]})
        readme.append((f"{task}, CPU end to end (bare forward pass), {on}",
                       f"{_ms(full[1])} ms ({_ms(bare[1])} ms)"))

    old = old_digit_recipe(a.old_ref)
    if old is None:
        print(f"git cannot show {a.old_ref}:imgai/vision.py; the old-vs-new digit recipe is left out", flush=True)
    else:
        cmp = compare_recipes(old, digit_photos(3 if a.dry_run else 45), 1 if a.dry_run else 3)
        figures["digit_recipe"] = {"old_ref": a.old_ref, **cmp}
        ms = cmp["cpu_ms_per_picture"]
        readme.append((f"digit-photo recipe, CPU per picture: scipy.ndimage vs hand-rolled ({a.old_ref})",
                       f"{ms['scipy.ndimage']:.0f} ms vs {ms['hand-rolled']:.0f} ms; identical output on "
                       f"{cmp['identical_outputs']} of {cmp['pictures']}"))

    gan, _ = load_checkpoint(str(ROOT / "weights" / "digits-dcgan"))
    for n in (1, 8) if a.dry_run else (1, 8, 64):
        z = seed_latents(0, n, gan.config.nz)
        def bare_pass():
            with torch.no_grad():
                gan.generator(z)
        bare, full = side_by_side([bare_pass, lambda: sample_images(gan.generator, z)], repeat)
        figures["gan"].append({"task": f"redraw {n} GAN samples", "end_to_end_ms": full[0], "bare_forward_ms": bare[0],
                               "end_to_end_cpu_ms": full[1], "bare_forward_cpu_ms": bare[1]})
        readme.append((f"redraw {n} GAN samples, CPU end to end (bare forward pass), {on}",
                       f"{_ms(full[1])} ms ({_ms(bare[1])} ms)"))

    record("latency", figures, readme=readme, dry_run=a.dry_run,
           note=f"medians of wall-clock and CPU time, {load_note()}: the README rows give CPU time, which other "
                "work on the machine disturbs less than wall-clock time; compare within this run only")


if __name__ == "__main__":
    main()
