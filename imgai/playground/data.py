"""The playground's real data: 2-D point sets a GAN learns to imitate, and the intake of a user's own points.

    x = make_data("ring8", 2500, seed=0)          # float32 (2500, 2)
    x = read_points_csv(uploaded_bytes)           # a user's CSV of x,y rows; PointsError with one line if bad

ring8 and grid25 are the standard mode-collapse test sets of the unrolled-GAN (Metz et al. 2017), VEEGAN
(Srivastava et al. 2017) and PacGAN (Lin et al. 2018) papers: mixtures of Gaussians whose centres (MODES) let
imgai.playground.score count which modes a generator covers. moons and spiral have no modes to count.
A user's points (drawn or uploaded) are sampled with a little jitter, so a GAN has a density to learn.
"""
from __future__ import annotations

import csv
import io
import math

import numpy as np

BUILT_IN = ("ring8", "grid25", "moons", "spiral")
MAX_CSV_BYTES = 1_000_000   # 1 MB holds ~50,000 "x,y" rows: plenty for a 2-D data set, little for a server
MAX_ROWS = 20_000           # points kept from a CSV or a drawing; a GAN on the plane needs hundreds, not millions
MIN_POINTS = 2              # one point has no spread to learn
MAX_ABS = 1e6               # a coordinate beyond this is a typo or an attack, not a point on a plane
JITTER = 0.03               # noise around user points, in units of their spread: a density, not a few spikes


class PointsError(ValueError):
    """A user's points cannot be used; str(e) is one line saying why."""


# Mode centres and the std of each Gaussian around them (the unrolled-GAN / PacGAN settings).
MODES = {
    "ring8": (np.array([[2 * math.cos(2 * math.pi * k / 8), 2 * math.sin(2 * math.pi * k / 8)] for k in range(8)],
                       np.float32), 0.02),
    "grid25": (np.array([[a, b] for a in (-4, -2, 0, 2, 4) for b in (-4, -2, 0, 2, 4)], np.float32), 0.05),
}


def mixture(name: str, n: int, rng: np.random.Generator) -> np.ndarray:
    centres, std = MODES[name]
    pick = rng.integers(0, len(centres), n)
    return (centres[pick] + std * rng.standard_normal((n, 2))).astype(np.float32)


def moons(n: int, rng: np.random.Generator, noise: float = 0.05) -> np.ndarray:
    """scikit-learn's make_moons: two interleaved half circles, upper one centred at 0, lower at (1, 0.5)."""
    t = rng.uniform(0, math.pi, n)
    upper = rng.random(n) < 0.5
    x = np.where(upper, np.cos(t), 1 - np.cos(t))
    y = np.where(upper, np.sin(t), 0.5 - np.sin(t))
    return (np.stack([x, y], 1) + noise * rng.standard_normal((n, 2))).astype(np.float32)


def spiral(n: int, rng: np.random.Generator, noise: float = 0.05) -> np.ndarray:
    """One arm of an Archimedean spiral, 1.5 turns, radius 0.2 → 2; even in arc length, not in angle."""
    u = np.sqrt(rng.random(n))  # sqrt: as many points per unit length at the outside as at the inside
    theta = 3 * math.pi * u
    r = 0.2 + 1.8 * u
    return (np.stack([r * np.cos(theta), r * np.sin(theta)], 1)
            + noise * rng.standard_normal((n, 2))).astype(np.float32)


def make_data(name: str, n: int, seed: int = 0) -> np.ndarray:
    """n points of a built-in data set, float32 (n, 2); the same seed gives the same points."""
    rng = np.random.default_rng(seed)
    if name in MODES:
        return mixture(name, n, rng)
    if name == "moons":
        return moons(n, rng)
    if name == "spiral":
        return spiral(n, rng)
    raise PointsError(f"no data set '{name}' (built in: {', '.join(BUILT_IN)})")


def check_points(points, what: str = "the points") -> np.ndarray:
    """Points as float32 (n, 2), or PointsError: wrong shape, too few, too many, NaN/inf, huge, all equal."""
    try:
        x = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError):
        raise PointsError(f"{what} are not numbers") from None
    if x.ndim != 2 or x.shape[1] != 2:
        raise PointsError(f"{what} need 2 columns (x, y), not shape {tuple(x.shape)}")
    if len(x) < MIN_POINTS:
        raise PointsError(f"{what}: {len(x)} point{'s' if len(x) != 1 else ''}; at least {MIN_POINTS} are needed")
    if len(x) > MAX_ROWS:
        raise PointsError(f"{what}: {len(x):,} points; at most {MAX_ROWS:,}")
    if not np.isfinite(x).all():
        raise PointsError(f"{what} contain NaN or infinite values")
    if np.abs(x).max() > MAX_ABS:
        raise PointsError(f"{what} contain coordinates beyond ±{MAX_ABS:g}")
    if np.ptp(x, axis=0).max() == 0:
        raise PointsError(f"all of {what} are the same point: there is no spread to learn")
    return x.astype(np.float32)


def _cell(text: str, row: int, col: int) -> float:
    s = text.strip()
    if s[:1] in ("=", "+", "@") or (s[:1] == "-" and s[1:2] and not (s[1].isdigit() or s[1] == ".")):
        raise PointsError(f"row {row}, column {col}: '{s[:20]}' looks like a spreadsheet formula, not a number")
    try:
        v = float(s)
    except ValueError:
        raise PointsError(f"row {row}, column {col}: '{s[:20]}' is not a number") from None
    if not math.isfinite(v):
        raise PointsError(f"row {row}, column {col}: '{s[:20]}' is not a finite number")
    return v


def read_points_csv(data: bytes, name: str = "the file") -> np.ndarray:
    """A CSV of 2-D points (x,y per row; one header row allowed; comma, semicolon or tab) → float32 (n, 2).

    Budgets: at most MAX_CSV_BYTES and MAX_ROWS rows. Refused with one line: not text, a wrong number of
    columns, a cell that is not a finite number (formulas like =SUM(A1) included), too few points, all equal."""
    if len(data) > MAX_CSV_BYTES:
        raise PointsError(f"{name} is {len(data) / 1e6:.1f} MB; a CSV of points may be at most "
                          f"{MAX_CSV_BYTES / 1e6:g} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PointsError(f"{name} is not a text (UTF-8) CSV file") from None
    if "\x00" in text:
        raise PointsError(f"{name} is not a text CSV file (it contains NUL bytes)")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = [r for r in csv.reader(io.StringIO(text), dialect) if any(c.strip() for c in r)]
    if rows:
        try:
            float(rows[0][0])
        except (ValueError, IndexError):
            rows = rows[1:]  # a header row such as "x,y"
    if len(rows) > MAX_ROWS:
        raise PointsError(f"{name} has {len(rows):,} rows; at most {MAX_ROWS:,}")
    points = []
    for i, r in enumerate(rows, 1):
        if len(r) != 2:
            raise PointsError(f"{name}, row {i}: {len(r)} column{'s' if len(r) != 1 else ''}; each row must be "
                              "two numbers, x and y")
        points.append((_cell(r[0], i, 1), _cell(r[1], i, 2)))
    if not points:
        raise PointsError(f"{name} holds no points (expected rows of x,y)")
    return check_points(points, name)


def sample_points(points: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """n draws from a user's points with a little Gaussian jitter (JITTER × their spread): the density a GAN
    learns from a few drawn dots."""
    rng = np.random.default_rng(seed)
    p = check_points(points)
    spread = float(np.std(p, axis=0).mean()) or 1.0
    pick = rng.integers(0, len(p), n)
    return (p[pick] + JITTER * spread * rng.standard_normal((n, 2))).astype(np.float32)


def drawn_points(objects: list, width: int, height: int, extent: float = 4.0) -> np.ndarray:
    """Points from the drawing canvas's json_data objects (circles of 'point' mode, paths of 'freedraw'),
    mapped from pixels to the plane [-extent, extent]² with y up. Returns float32 (n, 2), possibly empty."""
    pts = []
    for o in objects or []:
        if not isinstance(o, dict):
            continue
        kind = str(o.get("type", "")).lower()          # fabric.js 6 (the canvas since 0.13) writes "Circle"
        if kind == "circle":
            r = float(o.get("radius", 0)) * float(o.get("scaleX", 1) or 1)
            at = {"left": 1.0, "center": 0.0, "right": -1.0, "top": 1.0, "bottom": -1.0}   # offset to the centre
            pts.append((float(o.get("left", 0)) + at.get(o.get("originX", "left"), 1.0) * r,
                        float(o.get("top", 0)) + at.get(o.get("originY", "top"), 1.0) * r))
        elif kind == "path":
            for seg in o.get("path") or []:
                if isinstance(seg, list) and len(seg) >= 3 and seg[0] in ("M", "L", "Q"):
                    pts.append((float(seg[-2]), float(seg[-1])))
        if len(pts) > MAX_ROWS:
            break
    if not pts:
        return np.zeros((0, 2), np.float32)
    p = np.asarray(pts[:MAX_ROWS], np.float64)
    x = (p[:, 0] / width * 2 - 1) * extent
    y = (1 - p[:, 1] / height * 2) * extent
    return np.stack([x, y], 1).astype(np.float32)
