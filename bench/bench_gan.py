"""GAN sample quality per second of training: an ablation of the data-efficient options of the fast preset,
and the class-conditional GAN's "draw me a 7" accuracy.

    PYTHONPATH=. python bench/bench_gan.py [--seconds 60] [--seeds 0 1 2] [--cgan-seconds 120] [--out out/]

Part 1 (bench/results/gan.json): the fast preset as it stood at the start of this round ("today": BCE,
batch-norm D, no augmentation, no average), each option alone on top of it, all options together, other levers
(rates, batch, widths) on top of it, and "preset", the fast preset as this checkout defines it, each trained
for the same CPU budget, seeds interleaved (seed 0 of every setting, then seed 1, ...) so a load change on the shared
machine hits every setting alike. Each generator is scored by imgai.inference.quality: the Fréchet distance between
the digits CNN's penultimate features of 1,000 samples and of the 500 held-out digits, the share read with
>= 90% confidence, how many classes those cover and the entropy of the predicted labels, beside the floor:
1,000 real training digits against the same held-out ones (three draws).
Part 2 (bench/results/gan-conditional.json): bench_cgan.py's comparison, for --cgan-seconds; the share of
100 samples per class that the digits CNN reads as the asked class.
Grids are saved as PNGs under --out to look at.
"""
import argparse
import tempfile
import time
from pathlib import Path

from gan_runs import run_all, shared_data, summary
from record import add_dry_run, record

from imgai.inference.quality import real_floor

# "today": the fast preset as it stood at the start of this round (its training settings and its whole network),
# spelled out so that it stays put when the preset moves; every other setting is measured beside it.
TODAY_TRAIN = dict(batch_size=32, lr=5e-4, beta1=0.5, schedule="constant", augment=False, label_smoothing=0.1,
                   gan_loss="bce", diffaugment=False, ema=0.0, d_lr_ratio=1.0)
TODAY_MODEL = dict(g_widths=[128, 64, 32], d_widths=[32, 64], kernel=4, d_dropout=0.0, d_batch_norm=True,
                   d_spectral_norm=False, d_minibatch_std=False, d_classes=0)
# Each option: (training changes, model changes) on top of today's preset.
OPTIONS = {
    "diffaugment": ({"diffaugment": True}, {}),
    "ema": ({"ema": 0.999}, {}),
    "hinge+sn": ({"gan_loss": "hinge", "label_smoothing": 0.0}, {"d_spectral_norm": True, "d_batch_norm": False}),
    "ttur": ({"d_lr_ratio": 2.0}, {}),
    "minibatch-std": ({}, {"d_minibatch_std": True}),
}
# Other levers, each on top of today's preset too.
LEVERS = {
    # D also names the real digits' 10 classes, G spreads its batches over them (DCGANConfig.d_classes)
    "class-aware D": ({}, {"d_classes": 10}),
}


def settings(names, levers=()) -> dict:
    """name → (train changes, model changes): today's preset, each option alone, all options together, each
    lever, and "preset": the fast preset as this checkout defines it (imgai.training.runs), unpinned."""
    out = {"today": (dict(TODAY_TRAIN), dict(TODAY_MODEL)), "preset": ({}, {})}
    every_train, every_model = dict(TODAY_TRAIN), dict(TODAY_MODEL)
    for n in names:
        out[n] = ({**TODAY_TRAIN, **OPTIONS[n][0]}, {**TODAY_MODEL, **OPTIONS[n][1]})
        every_train.update(OPTIONS[n][0])
        every_model.update(OPTIONS[n][1])
    out["all options"] = (every_train, every_model)
    for n in levers:
        out[n] = ({**TODAY_TRAIN, **LEVERS[n][0]}, {**TODAY_MODEL, **LEVERS[n][1]})
    return out


def ablation(a, data, clf, out: Path, note: str):
    table = settings(list(OPTIONS), list(LEVERS))
    if a.settings:  # a subset (today and the preset are always measured: the goal compares them)
        unknown = set(a.settings) - set(table)
        if unknown:
            raise SystemExit(f"unknown settings {sorted(unknown)}: choose from {', '.join(table)}")
        table = {k: v for k, v in table.items() if k in ("today", "preset", *a.settings)}
    jobs = [{"model": "dcgan", "name": name, "seed": seed, "seconds": a.seconds, "train": tr, "model_changes": mo,
             "n": a.n, "png": str(out / f"gan-{name}-seed{seed}.png")}
            for seed in a.seeds for name, (tr, mo) in table.items()]  # seed-major: every setting's seed 0 first
    rows = run_all(jobs, a.workers, a.max_minutes)
    done = {(j["name"], j["seed"]): r for j, r in zip(jobs, rows) if r is not None}
    seeds = [s for s in a.seeds if all((n, s) in done for n in table)]  # seeds every setting finished
    runs = {n: [done[(n, s)] for s in seeds] for n in table}
    floors = [real_floor(clf, data.train_x, data.val_x, n=a.n, seed=s) for s in range(3)]
    floor = summary([f["distance"] for f in floors])
    figures = {"seconds": a.seconds, "seeds": seeds, "n_samples": a.n, "settings": {n: {"train": t, "model": m}
               for n, (t, m) in table.items()}, "floor": {"distance": floor, "draws": floors}, "runs": runs,
               "summary": {n: {k: summary([r[k] for r in rs]) for k in ("distance", "readable", "classes",
                                                                        "label_entropy_bits", "steps")}
                           for n, rs in runs.items()}}
    s = figures["summary"]
    rows = [(f"GAN fast preset, {a.seconds:.0f} CPU-s, {name}: Fréchet distance (digits-CNN features) · read ≥ 90% · "
             f"classes (mean of {len(seeds)} seeds)",
             f"{s[name]['distance']['mean']:.0f} ± {s[name]['distance']['sd']:.0f} · "
             f"{s[name]['readable']['mean']:.0%} · {s[name]['classes']['mean']:.1f}") for name in table]
    rows.append(("GAN Fréchet distance floor: 1,000 real training digits vs the 500 held-out",
                 f"{floor['mean']:.0f} ± {floor['sd']:.0f}"))
    ratio = s["preset"]["distance"]["mean"] / s["today"]["distance"]["mean"]
    figures["preset_over_today"] = ratio
    rows.append((f"GAN fast preset, {a.seconds:.0f} CPU-s: this checkout's preset's distance / the preset's at the start "
                 f"of the round (same run)", f"{ratio:.2f}"))
    record("gan", figures, readme=rows, dry_run=a.dry_run, note=note)


def conditional(a, data, clf, out: Path, note: str):
    """Part 2 lives in bench_cgan.py (the conditional fast preset before and after, side by side)."""
    import bench_cgan   # imported here: only --part conditional needs it
    bench_cgan.compare(argparse.Namespace(**{**vars(a), "seconds": a.cgan_seconds}), out, note)


def main():
    ap = add_dry_run(argparse.ArgumentParser())
    ap.add_argument("--seconds", type=float, default=60, help="CPU seconds (one thread) of each unconditional run")
    ap.add_argument("--cgan-seconds", type=float, default=120, help="CPU seconds (one thread) of each conditional run")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--max-minutes", type=float, default=0,
                    help="with --workers: drop runs still waiting after this many minutes (0: no limit)")
    ap.add_argument("--workers", type=int, default=1, help="runs at once, one process (and thread) each")
    ap.add_argument("--n", type=int, default=1000, help="samples scored per generator")
    ap.add_argument("--settings", nargs="+", help="ablation: only these settings besides today and preset")
    ap.add_argument("--part", choices=["all", "ablation", "conditional"], default="all")
    ap.add_argument("--out", default="out", help="where the sample grids go")
    ap.add_argument("--note", default="", help="what else ran on the machine")
    a = ap.parse_args()
    if a.dry_run:
        a.seconds, a.cgan_seconds, a.seeds, a.n = 0.5, 0.5, [0], 100
        a.settings = a.settings or ["class-aware D"]  # today, the preset and one lever: enough to run every line
    data, clf = shared_data()
    out = Path(tempfile.mkdtemp(prefix="bench-gan-")) if a.dry_run else Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    note = a.note or "run on a shared 2-core machine while other work ran (see load_avg per run)"
    t0 = time.perf_counter()
    if a.part in ("all", "ablation"):
        ablation(a, data, clf, out, note)
    if a.part in ("all", "conditional"):
        conditional(a, data, clf, out, note)
    print(f"done in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
