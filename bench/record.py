"""Where every benchmark figure is written down: bench/results/NAME.json, with the command, commit and machine.

    record("cnn", figures, readme=[("fast CNN preset, seconds to 98%", f"{s:.1f} s")], dry_run=a.dry_run)

The README quotes benchmark figures only through `readme` rows stored here (bench/readme_table.py copies them
into the README's table), so a figure in the README is always one that a script measured and wrote down.
A --dry-run (tiny settings, so CI can prove the script still runs) writes nothing.
"""
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def _commit() -> str:
    root = Path(__file__).resolve().parent.parent
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                             text=True, timeout=10).stdout.strip()
        # results another script just wrote are not code: a queue of benchmarks must not mark its later ones dirty
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                                ":(exclude)bench/results"], cwd=root, capture_output=True, text=True,
                               timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{sha}{'+changes' if dirty else ''}" if sha else "unknown"


STARTED_AT = _commit()  # the code that runs is the code at start: later commits during a long run don't count
LOAD_AT_START = os.getloadavg()[0]  # other work on the machine when the script began: it slows every figure


def load_note() -> str:
    """How busy the machine was, for a result's note: the 1-minute load average at the start and now."""
    return (f"1-minute load average {LOAD_AT_START:.1f} at the start and {os.getloadavg()[0]:.1f} at the end "
            f"on {os.cpu_count()} cores")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine(device: str = "cpu") -> dict:
    import torch
    info = {"cpu": _cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(),
            "torch": torch.__version__, "device": str(device)}
    if str(device).startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def record(name: str, figures, *, readme=(), device: str = "cpu", dry_run: bool = False, note: str = ""):
    """Write bench/results/NAME.json (unless dry_run) and print it as one JSON line. Returns the path or None.

    figures: whatever the script measured (JSON-able). readme: (what, figure) rows for the README's table,
    formatted from those figures."""
    result = {"name": name, "command": " ".join(["python", *sys.argv]), "commit": STARTED_AT,
              "date": time.strftime("%Y-%m-%d %H:%M"), "machine": machine(device), "figures": figures,
              "readme": [{"what": w, "figure": f} for w, f in readme]}
    if note:
        result["note"] = note
    print(json.dumps(result), flush=True)
    if dry_run:
        return None
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=1) + "\n")
    return path


def add_dry_run(parser):
    parser.add_argument("--dry-run", action="store_true",
                        help="tiny settings, write nothing: proves the script still runs (CI does this)")
    return parser
