"""Copy the figures that bench/results/*.json hold into the two tables that quote them.

    python bench/readme_table.py          # rewrite both tables between their markers
    python bench/readme_table.py --check  # exit 1 if either table is not what the results say

bench/README.md gets every README row of every result file; README.md gets the few HEADLINES below. Nobody
types a figure into either: the tables are made here from what the bench scripts wrote down.
"""
import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
# (result file, the start of its row's "what"): the figures a newcomer deciding whether to use imgai sees first,
# each one carrying its own comparison
HEADLINES = [
    ("unseen", "Fast CNN, 30 s on the bundled digits"),
    ("unseen", "Fast CNN, 60 s on cifar10-5k"),
    ("cnn", "CNN on digits: validation accuracy after 60 s of training"),
    ("cifar", "CNN on cifar10-5k after 60 s of training (1 thread), the fast preset's colour settings"),
    ("keras", "Textbook CNN on cifar10-5k, batch 32, 2 thread(s) each: training images/s"),
    ("classroom", "class of 10 (ray): one student's Chromium among 9 headless classmates"),
    ("classroom-30-ray", "class of 30 (ray): runs refused / waited in line / finished"),
    ("classroom-30-ray", "class of 30 (ray): server's answer, first page"),
    ("classroom-30-ray", "class of 30 (ray): one student's Chromium among 29 headless classmates"),
    ("classroom-30-ray", "class of 30 (ray) at "),
    ("first_visit", "First visitor on a fresh `streamlit run app.py`"),
    ("first_visit-ray", "First visitor on a fresh `streamlit run app.py` with jobs on Ray"),
    ("gan-shipped", "digits-cdcgan: samples read as the asked digit"),
    ("latency", "classify phone photo of a digit"),
    ("playground", "GAN playground, grid25, playground preset"),
    ("playground", "GAN playground, grid25, textbook preset"),
]


def _rows(results_dir: Path) -> list:
    """(result file stem, what, figure) of every README row, file by file."""
    out = []
    for path in sorted(results_dir.glob("*.json")):
        for row in json.loads(path.read_text()).get("readme", []):
            out.append((path.stem, row["what"], row["figure"]))
    return out


def table(results_dir: Path = RESULTS, link: str = "bench/results", headlines=None) -> str:
    rows = _rows(results_dir)
    if headlines is not None:
        rows = [next((r for r in rows if r[0] == stem and r[1].startswith(what)), (stem, f"{what}: not measured", "—"))
                for stem, what in headlines]
    lines = [f"| {what} | {figure} | [{stem}]({link}/{stem}.json) |" for stem, what, figure in rows]
    head = "| what | figure | source |\n| --- | --- | --- |"
    return "\n".join([head, *lines]) if lines else "No benchmark results yet: run the scripts in bench/."


def render(text: str, results_dir: Path = RESULTS, link: str = "bench/results", headlines=None) -> str:
    if START not in text or END not in text:
        raise SystemExit(f"the file needs the markers {START} and {END} around the benchmark table")
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    return f"{before}{START}\n{table(results_dir, link, headlines)}\n{END}{after}"


TARGETS = {ROOT / "README.md": {"link": "bench/results", "headlines": HEADLINES},
           ROOT / "bench" / "README.md": {"link": "results", "headlines": None}}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true", help="only check that the tables are up to date")
    a = ap.parse_args()
    stale = []
    for path, how in TARGETS.items():
        old = path.read_text()
        new = render(old, **how)
        if new != old:
            stale.append(path.relative_to(ROOT))
            if not a.check:
                path.write_text(new)
    if a.check and stale:
        print(f"{', '.join(map(str, stale))}: the benchmark table differs from bench/results: "
              "run python bench/readme_table.py")
        sys.exit(1)


if __name__ == "__main__":
    main()
