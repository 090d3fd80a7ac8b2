"""Copy the README rows of every bench/results/*.json into the README's benchmark table.

    python bench/readme_table.py          # rewrite the table between the markers
    python bench/readme_table.py --check  # exit 1 if the README's table is not what the results say

Nobody types a figure into the README: the table is made here from what the bench scripts wrote down.
"""
import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def table(results_dir: Path = RESULTS) -> str:
    rows = []
    for path in sorted(results_dir.glob("*.json")):
        r = json.loads(path.read_text())
        for row in r.get("readme", []):
            rows.append(f"| {row['what']} | {row['figure']} | [{path.stem}](bench/results/{path.name}) |")
    head = "| what | figure | source |\n| --- | --- | --- |"
    return "\n".join([head, *rows]) if rows else "No benchmark results yet: run the scripts in bench/."


def render(readme: str, results_dir: Path = RESULTS) -> str:
    if START not in readme or END not in readme:
        raise SystemExit(f"README.md needs the markers {START} and {END} around the benchmark table")
    before, rest = readme.split(START, 1)
    _, after = rest.split(END, 1)
    return f"{before}{START}\n{table(results_dir)}\n{END}{after}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true", help="only check that the README's table is up to date")
    a = ap.parse_args()
    path = ROOT / "README.md"
    old = path.read_text()
    new = render(old)
    if a.check:
        if new != old:
            print("README.md's benchmark table differs from bench/results: run python bench/readme_table.py")
            sys.exit(1)
        return
    path.write_text(new)


if __name__ == "__main__":
    main()
