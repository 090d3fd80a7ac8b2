"""GAN sample quality after a time budget on the bundled digits: the fast preset vs the textbook DCGAN.

    python bench/bench_gan.py [--seconds 60] [--out out/]

The digits CNN judges each generator (bench/judge.py): the share of 1,000 samples it reads with at least
90% confidence, and how many of the ten classes those cover. Grids are saved as PNGs to look at.
"""
import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from judge import judge  # noqa: E402

from imgai.classify import load_classifier  # noqa: E402
from imgai.data import load_dataset  # noqa: E402
from imgai.device import configure_threads, pick_device  # noqa: E402
from imgai.grids import make_grid, upscale  # noqa: E402
from imgai.runs import RunSpec, default_train_config, prepare_run  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--out", default="out")
    a = ap.parse_args()
    configure_threads()
    data, device, clf = load_dataset("digits"), pick_device(), load_classifier("weights/digits-cnn")
    Path(a.out).mkdir(exist_ok=True)
    for preset in ("fast", "textbook"):
        cfg = replace(default_train_config("dcgan", preset), epochs=None, seconds=a.seconds)
        run = prepare_run(RunSpec("dcgan", preset, train=cfg), data=data, device=device)
        last, grid = {}, None
        for m in run.loop():
            if m.get("event") == "samples":
                grid = m["images"]
            elif "loss_d" in m:
                last = m
        png = Path(a.out) / f"gan-{preset}-{a.seconds:.0f}s.png"
        Image.fromarray(upscale(make_grid(grid[..., 0]), 3)).save(png)
        verdict = judge(run.model.generator.cpu(), run.model.config.nz, clf)
        print(json.dumps({"preset": preset, "device": str(device), "seconds": a.seconds, "steps": int(last["step"]),
                          "images_per_s": round(last["images_per_s"], 1), **verdict, "grid": str(png)}), flush=True)


if __name__ == "__main__":
    main()
