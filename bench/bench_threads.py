"""Back-to-back training runs under the old thread rule (cores less the 1-minute load average) and the new
one (cores less what other processes keep busy now, imgai.device.busy_cores): images/s of each run, the load
average and the measured busy cores at its start; then the same beside a busy process (a spinner).

    python bench/bench_threads.py --pairs 2      # -> bench/results/threads.json
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
from record import add_dry_run, load_note, record  # noqa: E402

from imgai.device import busy_cores  # noqa: E402


def old_rule() -> int:
    """The thread count imgai/device.py chose before this change (commit bdcb3ef)."""
    return max(1, (os.cpu_count() or 1) - int(os.getloadavg()[0]))


def train(rule: str, seconds: float) -> dict:
    load, busy = os.getloadavg()[0], busy_cores()
    env = {**os.environ}
    env.pop("IMGAI_THREADS", None)
    if rule == "old":
        env["IMGAI_THREADS"] = str(old_rule())   # the old rule's choice, passed in; "new" lets the CLI choose
    r = subprocess.run([sys.executable, "-m", "imgai", "train", "--model", "cnn", "--dataset", "digits",
                        "--seconds", str(seconds), "--out", f"/tmp/imgai-bench-threads-{os.getpid()}.pt"],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=seconds * 10 + 120)
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    return {"rule": rule, "images_per_s": summary["images_per_s"], "threads": summary["threads"],
            "load_average_1min": round(load, 2), "busy_cores_now": round(busy, 2)}


def main():
    p = add_dry_run(argparse.ArgumentParser(description=__doc__))
    p.add_argument("--pairs", type=int, default=2)
    p.add_argument("--seconds", type=float, default=20)
    a = p.parse_args()
    seconds, pairs = (2, 1) if a.dry_run else (a.seconds, a.pairs)
    back_to_back = {rule: [[train(rule, seconds), train(rule, seconds)] for _ in range(pairs)]
                    for rule in ("old", "new")}
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(1.0)
        beside_busy = [train(rule, seconds) for rule in ("old", "new")]
    finally:
        spinner.kill()
    ratios = {rule: [round(b["images_per_s"] / a_["images_per_s"], 2) for a_, b in runs]
              for rule, runs in back_to_back.items()}
    record("threads", {"seconds": seconds, "back_to_back": back_to_back, "second_over_first": ratios,
                       "beside_a_spinner": beside_busy}, dry_run=a.dry_run,
           note=load_note() + "; other helpers were using the same 2 cores, so 'quiet' is not quiet")


if __name__ == "__main__":
    main()
