"""The benchmarks cannot rot: each runs its --dry-run (tiny settings, nothing written), and the README's
tables (README.md's headlines, bench/README.md's full one) are exactly what bench/results holds."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = sorted(p.name for p in (ROOT / "bench").glob("bench_*.py"))


def _bench(script: str, *args) -> subprocess.CompletedProcess:
    """Run bench/<script> as a user would, from the repository root with the package importable."""
    return subprocess.run([sys.executable, f"bench/{script}", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.mark.parametrize("script", SCRIPTS)
def test_bench_script_dry_run(script, tmp_path):
    before = {p: p.stat().st_mtime for p in (ROOT / "bench" / "results").glob("*.json")}
    r = _bench(script, "--dry-run")
    assert r.returncode == 0, r.stderr[-2000:]
    after = {p: p.stat().st_mtime for p in (ROOT / "bench" / "results").glob("*.json")}
    assert after == before, "a --dry-run must not write results"


def test_readme_table_matches_results():
    r = subprocess.run([sys.executable, "bench/readme_table.py", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_readme_table_is_made_from_result_rows(tmp_path):
    sys.path.insert(0, str(ROOT / "bench"))
    from readme_table import render
    (tmp_path / "x.json").write_text(json.dumps({"readme": [{"what": "speed", "figure": "7 images/s"}]}))
    out = render("a\n<!-- bench:start -->\nold\n<!-- bench:end -->\nb", tmp_path)
    assert "| speed | 7 images/s | [x](bench/results/x.json) |" in out and "old" not in out
    # the README's headlines: only the rows asked for, in that order; one no result holds says so
    out = render("<!-- bench:start --><!-- bench:end -->", tmp_path, headlines=[("x", "speed"), ("y", "size")])
    assert out.index("| speed | 7 images/s |") < out.index("| size: not measured | — | [y](bench/results/y.json) |")


@pytest.mark.parametrize("weights, judge, dataset", [
    ("weights/digits-dcgan", "weights/digits-cnn", "digits"),
    ("weights/cifar10-dcgan", "weights/cifar10-cnn", "cifar10-5k"),
])
def test_judge_scores_a_shipped_generator_against_its_own_data_set(weights, judge, dataset):
    r = _bench("judge.py", weights, "--judge", judge, "--dataset", dataset, "--dry-run")
    assert r.returncode == 0, r.stderr[-2000:]
    line = json.loads(r.stdout.splitlines()[0])
    assert line["weights"] == weights and line["kind"] == "dcgan"
    # classes read with >= 90% confidence: the cifar10-cnn judge is trained with label smoothing 0.2 (its most
    # confident answers sit near 82%), so on a dry run's few samples it may read none
    assert line["distance"] > 0 and line["times_floor"] > 0 and 0 <= line["classes"] <= 10
    if judge == "weights/digits-cnn":
        assert line["classes"] >= 1
