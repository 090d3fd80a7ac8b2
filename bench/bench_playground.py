"""The GAN playground's measured quality: modes covered and high-quality share of 2,500 samples after a fixed
training time on one thread, per data set, seed and preset (playground defaults vs the seed's textbook GAN).

    PYTHONPATH=. IMGAI_THREADS=1 python bench/bench_playground.py [--seeds 0 1 2] [--dry-run]

The issue's goals: ring8 8/8 modes and >= 90% high quality within 15 s; grid25 25/25 and >= 80% within 30 s.
"""
import argparse
import os

import torch

from imgai.playground import PRESETS, Playground, make_data, score
from record import add_dry_run, load_note, record

GOALS = {"ring8": (15.0, 8, 0.90), "grid25": (30.0, 25, 0.80)}  # seconds, modes, high-quality share


def main():
    ap = add_dry_run(argparse.ArgumentParser())
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    a = ap.parse_args()
    torch.set_num_threads(1)
    rows, readme = [], []
    for name, (seconds, modes, hq) in GOALS.items():
        for preset in PRESETS:
            for seed in a.seeds[:1] if a.dry_run else a.seeds:
                secs = 0.2 if a.dry_run else seconds
                pg = Playground(make_data(name, 20000, seed=1000 + seed), PRESETS[preset], seed=seed)
                for _ in pg.run(seconds=secs):
                    pass
                s = score(pg.samples(2500), name)
                rows.append({"data": name, "preset": preset, "seed": seed, "train_seconds": round(pg.train_seconds, 2),
                             "rounds": pg.g_step, "modes": s["modes"], "modes_covered": s["modes_covered"],
                             "high_quality": round(s["high_quality"], 4),
                             "goal_met": s["modes_covered"] >= modes and s["high_quality"] >= hq,
                             "load_1min": round(os.getloadavg()[0], 2)})
                print(rows[-1], flush=True)
        for preset in PRESETS:
            mine = [r for r in rows if r["data"] == name and r["preset"] == preset]
            readme.append((f"GAN playground, {name}, {preset} preset, {seconds:g} s on 1 thread: modes covered, "
                           "high quality (per seed)",
                           "; ".join(f"{r['modes_covered']}/{r['modes']}, {r['high_quality']:.0%}" for r in mine)))
    record("playground", {"goals": GOALS, "runs": rows}, readme=readme, dry_run=a.dry_run,
           note=f"training seconds count only the optimiser steps; {load_note()}")


if __name__ == "__main__":
    main()
