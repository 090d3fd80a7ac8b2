"""Does the class-conditional GAN's fast run draw the asked digit? The fast preset before and after the
auxiliary class head, side by side, each trained for the same CPU budget and judged by the shipped digits CNN.

    PYTHONPATH=. python bench/bench_cgan.py [--seconds 120] [--seeds 0 1 2] [--out out/]

Each setting trains for --seconds of CPU time of one thread (gan_runs.train_for: on a shared machine a
wall-clock budget would measure the neighbours), seeds interleaved (seed 0 of every setting, then seed 1, ...)
so a load change hits every setting alike. Each generator is asked for 100 samples of each class; the figure
is the share the digits CNN reads as the asked class, per class, with the worst class per seed and over all
seeds. Beside it, so that class accuracy is never bought with quality: the Fréchet distance of 1,000 samples
(100 per class) to the 500 held-out digits in the CNN's features, and the share read with >= 90% confidence.
Writes bench/results/gan-conditional.json; grids under --out (one class per column).
"""
import argparse
import statistics
import tempfile
import time
from pathlib import Path

from gan_runs import run_all, shared_data
from record import add_dry_run, record

from imgai.training.runs import build_for_data, default_train_config

# Every setting spelled out in full (training changes, model changes), so "before" stays put when a preset
# moves. "before": the fast preset as the last round shipped it (the DCGAN's fast training settings, a
# projection discriminator alone).
BASELINE_TRAIN = dict(batch_size=32, lr=5e-4, beta1=0.5, schedule="constant", augment=False, label_smoothing=0.1,
                      gan_loss="bce", diffaugment=False, ema=0.0, d_lr_ratio=1.0)
BEFORE = (dict(BASELINE_TRAIN), {"aux_weight": 0.0})
SETTINGS = {
    "before": BEFORE,
    # + D's auxiliary class head trained on real labels, G pushed to make it read the asked class
    "aux": (dict(BASELINE_TRAIN), {"aux_weight": 1.0}),
    # + the generator's moving average on top (the averaged G is the one sampled): the fast preset since this
    # comparison (imgai.training.runs)
    "aux+ema": ({**BASELINE_TRAIN, "ema": 0.999}, {"aux_weight": 1.0}),
}


def per_seed(row: dict, per_class: int) -> dict:
    acc = row["asked_class"]
    hits = [round(share * per_class) for share in acc["per_class"]]  # counts: float32 shares read 0.95 as 0.9499..
    return {"seed": row["seed"], "asked_mean": acc["mean"], "worst_digit": int(min(range(len(acc["per_class"])),
            key=acc["per_class"].__getitem__)), "worst_digit_share": acc["min"], "distance": row["distance"],
            "readable": row["readable"], "steps": row["steps"], "worst_digit_hits": min(hits), "per_class_n": per_class}


def compare(a, out: Path, note: str, names=None):
    names = names or list(SETTINGS)
    jobs = [{"model": "cdcgan", "name": name, "seed": seed, "seconds": a.seconds, "train": SETTINGS[name][0],
             "model_changes": SETTINGS[name][1], "n": a.n, "png": str(out / f"cgan-{name}-seed{seed}.png")}
            for seed in a.seeds for name in names]  # seed-major: every setting's seed 0 first
    rows = run_all(jobs, a.workers, a.max_minutes)
    done = {(j["name"], j["seed"]): r for j, r in zip(jobs, rows) if r is not None}
    seeds = [s for s in a.seeds if all((n, s) in done for n in names)]  # seeds every setting finished
    runs = {n: [done[(n, s)] for s in seeds] for n in names}
    summary = {}
    for n, rs in runs.items():
        seed_rows = [per_seed(r, a.n // 10) for r in rs]
        summary[n] = {"per_seed": seed_rows,
                      "worst_digit_share_any_seed": min(r["worst_digit_share"] for r in seed_rows),
                      "asked_mean": statistics.fmean(r["asked_mean"] for r in seed_rows),
                      "every_digit_at_least_95_every_seed": all(r["worst_digit_hits"] >= 0.95 * r["per_class_n"]
                                                                   for r in seed_rows),
                      "distance_mean": statistics.fmean(r["distance"] for r in seed_rows),
                      "readable_mean": statistics.fmean(r["readable"] for r in seed_rows),
                      "steps_mean": statistics.fmean(r["steps"] for r in seed_rows)}
    preset = default_train_config("cdcgan", "fast")
    preset_model = {k: getattr(build_for_data("cdcgan", "fast", shared_data()[0]).config, k) for k in ("aux_weight",)}
    figures = {"seconds": a.seconds, "seeds": seeds, "per_class": a.n // 10, "n_samples": a.n,
               "settings": {n: {"train": SETTINGS[n][0], "model": SETTINGS[n][1]} for n in names},
               "fast_preset_now": {"train": {k: getattr(preset, k) for k in BASELINE_TRAIN}, "model": preset_model},
               "summary": summary, "runs": runs}
    readme = []
    for n in names:
        s = summary[n]
        worst = " · ".join(f"{r['worst_digit_share']:.0%}" for r in s["per_seed"])
        readme.append((f"class-conditional GAN, {a.seconds:.0f} CPU-s, {n}: samples the digits CNN reads as the asked "
                       f"digit, mean · worst digit over {len(seeds)} seeds (worst digit per seed)",
                       f"{s['asked_mean']:.1%} · {s['worst_digit_share_any_seed']:.0%} ({worst})"))
        readme.append((f"class-conditional GAN, {a.seconds:.0f} CPU-s, {n}: Fréchet distance · read ≥ 90% "
                       f"(mean of {len(seeds)} seeds)", f"{s['distance_mean']:.0f} · {s['readable_mean']:.0%}"))
    record("gan-conditional", figures, readme=readme, dry_run=a.dry_run, note=note)
    return figures


def main():
    ap = add_dry_run(argparse.ArgumentParser())
    ap.add_argument("--seconds", type=float, default=120, help="CPU seconds (one thread) of each run")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--settings", nargs="+", choices=list(SETTINGS), default=list(SETTINGS))
    ap.add_argument("--workers", type=int, default=1, help="runs at once, one process (and thread) each")
    ap.add_argument("--max-minutes", type=float, default=0,
                    help="with --workers: drop runs still waiting after this many minutes (0: no limit)")
    ap.add_argument("--n", type=int, default=1000, help="samples scored per generator (a tenth per class)")
    ap.add_argument("--out", default="out", help="where the sample grids go")
    ap.add_argument("--note", default="", help="what else ran on the machine")
    a = ap.parse_args()
    if a.dry_run:
        a.seconds, a.seeds, a.n = 0.5, [0], 100
    out = Path(tempfile.mkdtemp(prefix="bench-cgan-")) if a.dry_run else Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    note = a.note or "run on a shared 2-core machine while other work ran (see load_avg per run)"
    t0 = time.perf_counter()
    compare(a, out, note, a.settings)
    print(f"done in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
