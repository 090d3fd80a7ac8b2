"""`python -m imgai playground`: train the playground's GAN on 2-D points and write its samples, its picture or
an animation of the run.

    python -m imgai playground --data ring8 --seconds 15 --seed 0 --out ring8.npy

Prints one JSON line: the data, rounds, seconds and (ring8, grid25) the modes covered and high-quality share.
"""
from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import numpy as np

from .data import BUILT_IN, MODES, make_data, read_points_csv, sample_points
from .model import LOSSES, OPTIMIZERS, PRESETS, with_changes

N_SAMPLES = 2500        # the measure: 2,500 samples of the final generator
POOL = 20_000           # real points the run draws its batches from
MAX_SECONDS = 3600
GIF_FRAMES = 40


def add_parser(sub):
    p = sub.add_parser("playground", help="train a GAN on 2-D points (ring8, grid25, moons, spiral or a CSV); "
                                          "writes 2,500 samples (.npy), the picture (.png) or an animation (.gif)")
    p.add_argument("--data", default="ring8", help=f"{' | '.join(BUILT_IN)} | FILE.csv (rows of x,y)")
    p.add_argument("--seconds", type=float, default=15.0, help="training time (not counting drawing)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--preset", choices=list(PRESETS), default="playground",
                   help="playground: the tuned defaults; textbook: the seed's minimax GAN with small nets")
    p.add_argument("--out", required=True, help=".npy (2500 x 2 float32 samples), .png or .gif")
    p.add_argument("--loss", choices=list(LOSSES))
    p.add_argument("--optimizer", choices=list(OPTIMIZERS))
    for name in ("nz", "generators", "g_width", "g_depth", "d_width", "d_depth", "d_steps", "batch", "pack"):
        p.add_argument("--" + name.replace("_", "-"), type=int, dest=name)
    for name in ("lr_g", "lr_d", "beta1", "r1", "ema"):
        p.add_argument("--" + name.replace("_", "-"), type=float, dest=name)
    p.set_defaults(func=run)
    return p


def load_real(data: str, seed: int) -> np.ndarray:
    """The real points: a built-in set, or a CSV file's points (PointsError for a bad one)."""
    if data in BUILT_IN:
        return make_data(data, POOL, seed=1000 + seed)
    path = Path(data)
    if path.suffix.lower() != ".csv":
        raise ValueError(f"--data {data}: not a built-in data set ({', '.join(BUILT_IN)}) nor a .csv file")
    from .data import MAX_CSV_BYTES
    if path.stat().st_size > MAX_CSV_BYTES:
        raise ValueError(f"{path.name} is {path.stat().st_size / 1e6:.1f} MB; a CSV of points may be at most "
                         f"{MAX_CSV_BYTES / 1e6:g} MB")
    return sample_points(read_points_csv(path.read_bytes(), path.name), POOL, seed=seed)


def run(a) -> int:
    import torch

    from .picture import draw_plane, gif_bytes
    from .score import score
    from .train import Playground
    from .view import game_view, plane_extent
    if not 0 < a.seconds <= MAX_SECONDS:
        raise ValueError(f"--seconds must be above 0 and at most {MAX_SECONDS}")
    out = Path(a.out)
    if out.suffix.lower() not in (".npy", ".png", ".gif"):
        raise ValueError(f"cannot write {out.name}: use .npy, .png or .gif")
    cfg = with_changes(PRESETS[a.preset], **{f.name: getattr(a, f.name, None) for f in fields(PRESETS[a.preset])})
    torch.manual_seed(a.seed)
    real = load_real(a.data, a.seed)
    pg = Playground(real, cfg, seed=a.seed)
    extent = plane_extent(real)
    name = a.data if a.data in BUILT_IN else Path(a.data).name
    centres = MODES[a.data][0] if a.data in MODES else None
    shown_real = real[:500]

    def picture():
        s = score(pg.samples(N_SAMPLES), a.data) if centres is not None else None
        return draw_plane(game_view(pg, extent, shown_real), s, centres)
    frames = []
    if out.suffix.lower() == ".gif":
        for k in range(GIF_FRAMES):
            frames.append(picture())
            for _ in pg.run(seconds=a.seconds / GIF_FRAMES):
                pass
    for _ in pg.run(seconds=max(0.0, a.seconds - pg.train_seconds)):
        pass
    x = pg.samples(N_SAMPLES)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".npy":
        np.save(out, x.astype(np.float32), allow_pickle=False)
    elif out.suffix.lower() == ".png":
        picture().save(out)
    else:
        out.write_bytes(gif_bytes(frames + [picture()]))
    summary = {"data": name, "preset": a.preset, "seed": a.seed, "rounds": pg.g_step,
               "train_seconds": round(pg.train_seconds, 2), "out": str(out)}
    if centres is not None:
        s = score(x, a.data)
        summary.update(modes=s["modes"], modes_covered=s["modes_covered"], high_quality=round(s["high_quality"], 4))
    print(json.dumps(summary))
    return 0
