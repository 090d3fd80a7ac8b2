"""CPU seconds each hostile upload costs the server before it is refused, or before its (shrunk) read is done.

Every case of tests/hostile_corpus.py at the size it was sent to the app (200 black 7000x7000 PNGs in one
zip, a 49-megapixel picture, ...), read as the app reads it (hostile_corpus.read_upload). Beside them, in the
same run, the intake as it was before pixel budgets (imgai/vision.py + imgai/data/folder.py at --old-ref, loaded
from git) on the cases it was slow on; its zip of bombs gets --old-bombs files, not 200 (minutes of CPU).

    PYTHONPATH=. python bench/bench_hostile.py [--old-ref 33b8452] [--old-bombs 10] [--dry-run]
"""
import argparse
import sys
import time
import warnings
from pathlib import Path

from code_at_commit import module_at
from record import add_dry_run, load_note, record

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from hostile_corpus import hostile_cases, read_upload  # noqa: E402  (tests/ holds the corpus)

OLD_REF = "33b8452"  # the last commit without pixel budgets or shrinking while decoding


def cpu(fn) -> tuple[float, str]:
    """(CPU seconds of this process, one-line outcome) of fn(); the outcome is the refusal or "read"."""
    t = time.process_time()
    try:
        fn()
        outcome = "read"
    except ValueError as e:  # ImageError and FolderError: the one-line refusals
        outcome = f"refused: {e}"
    return round(time.process_time() - t, 3), outcome


def old_reader(ref: str):
    """read(case) with the intake at `ref`, or None if git cannot show it."""
    vision = module_at(ref, "imgai/vision.py", as_name="imgai.vision")
    folder = vision and module_at(ref, "imgai/data/folder.py")
    if folder is None:
        return None

    def read(case):
        if case.kind == "zip":
            return folder.load_image_folder(case.data)
        return vision.fit_image(vision.open_image(case.data, name=case.name), 224, 3)
    return read


def main():
    ap = add_dry_run(argparse.ArgumentParser())
    ap.add_argument("--old-ref", default=OLD_REF, help="commit of the intake to compare with")
    ap.add_argument("--old-bombs", type=int, default=10, help="files in the old intake's zip of bombs")
    a = ap.parse_args()
    warnings.simplefilter("ignore")  # Pillow's DecompressionBombWarning: the refusal is what is measured
    sizes = dict(bomb_files=4, side=1000, jpeg_side=(800, 600)) if a.dry_run else {}
    cases = hostile_cases(**sizes)
    rows = []
    for case in cases:
        s, outcome = cpu(lambda: read_upload(case))
        rows.append({"case": case.name, "what": case.what, "cpu_s": s, "outcome": outcome})
        print(f"{s:7.3f} s  {' '.join(case.name.split())}: {outcome[:100]}", flush=True)
    figures = {"cases": rows}
    by = {r["case"]: r for r in rows}
    worst = max(rows, key=lambda r: r["cpu_s"])
    readme = [(f"hostile uploads ({len(rows)} kinds): most CPU one costs before refusal or shrunk read",
               f"{worst['cpu_s']:.2f} s ({worst['case']})"),
              (f"zip of {by['zip-pixel-bomb.zip']['what'].split(' in one')[0]}: CPU before refusal",
               f"{by['zip-pixel-bomb.zip']['cpu_s']:.2f} s")]

    old = old_reader(a.old_ref)
    if old is None:
        print(f"git cannot show the intake at {a.old_ref}; the old-vs-new comparison is left out", flush=True)
    else:
        n = 2 if a.dry_run else a.old_bombs
        small = {c.name: c for c in hostile_cases(bomb_files=n, **{k: v for k, v in sizes.items() if k != "bomb_files"})}
        compare = []
        for name in ("zip-pixel-bomb.zip", "huge-49mpx.png", "huge-49mpx-gray.png", "huge-48mpx.jpg"):
            case = small[name]
            s_old, out_old = cpu(lambda: old(case))
            s_new, out_new = cpu(lambda: read_upload(case))
            compare.append({"case": name, "what": case.what, "old_cpu_s": s_old, "old_outcome": out_old,
                            "new_cpu_s": s_new, "new_outcome": out_new})
            print(f"{name} ({case.what}): old {s_old:.3f} s ({out_old[:60]}), new {s_new:.3f} s ({out_new[:60]})",
                  flush=True)
        figures["old_vs_new"] = {"old_ref": a.old_ref, "cases": compare}
        for c in compare:
            readme.append((f"{c['what']}: CPU to read or refuse, now vs before budgets ({a.old_ref})",
                           f"{c['new_cpu_s']:.2f} s vs {c['old_cpu_s']:.2f} s"))

    record("hostile", figures, readme=readme, dry_run=a.dry_run,
           note=f"CPU seconds of this process (time.process_time), single-threaded decoding; {load_note()}")


if __name__ == "__main__":
    main()
