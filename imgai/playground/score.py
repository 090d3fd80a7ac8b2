"""How well a generator did on ring8 / grid25, in words any teacher can explain (the unrolled-GAN, VEEGAN and
PacGAN papers' measure).

    s = score(samples, "ring8")   # {"modes": 8, "modes_covered": 8, "high_quality": 0.93, ...}

A sample is *high quality* when it lies within 3 standard deviations of its nearest mode centre. A mode is
*covered* when at least a quarter of its fair share of the samples (n / modes / 4) are high-quality samples
near it. Real samples score (almost) every mode and ~99.7% high quality (3 std of a 2-D Gaussian holds 98.9%);
a generator that collapsed onto one mode scores 1 mode, however sharp its samples are.
"""
from __future__ import annotations

import numpy as np

from .data import MODES

HQ_STDS = 3.0          # "within 3 std": the papers' threshold
FAIR_SHARE = 0.25      # a covered mode holds at least a quarter of its fair share of the samples


def has_score(name: str) -> bool:
    return name in MODES


def score(samples: np.ndarray, name: str) -> dict:
    """Modes covered and the high-quality share of `samples` (n, 2) for data set `name` (ring8 or grid25).
    Also the count of high-quality samples per mode, so a picture can mark which modes are covered."""
    if name not in MODES:
        raise ValueError(f"no modes to score for '{name}' (only {', '.join(MODES)})")
    centres, std = MODES[name]
    x = np.asarray(samples, np.float64).reshape(-1, 2)
    x = x[np.isfinite(x).all(1)] if len(x) else x
    n_all = len(samples)
    if n_all == 0:
        return {"modes": len(centres), "modes_covered": 0, "high_quality": 0.0, "n": 0,
                "per_mode": [0] * len(centres), "covered": [False] * len(centres)}
    d2 = ((x[:, None, :] - centres[None, :, :]) ** 2).sum(-1)       # (n, modes)
    nearest = d2.argmin(1)
    hq = np.sqrt(d2[np.arange(len(x)), nearest]) <= HQ_STDS * std
    per_mode = np.bincount(nearest[hq], minlength=len(centres))
    covered = per_mode >= FAIR_SHARE * n_all / len(centres)
    return {"modes": len(centres), "modes_covered": int(covered.sum()), "high_quality": float(hq.sum() / n_all),
            "n": int(n_all), "per_mode": per_mode.tolist(), "covered": covered.tolist()}
