"""python -m imgai export --weights W --out DIR: a checkpoint as an ONNX folder (see imgai.export.package).

Prints one JSON line: where it wrote, the files, and the largest difference between onnxruntime's numbers
and imgai's on the check it ran first.
"""
import json
import sys

from .package import ExportError


def add_parser(sub):
    p = sub.add_parser("export", help="write a checkpoint as ONNX + labels.txt + preprocess.json + a browser "
                                      "demo into a folder, checked against imgai's own answers first")
    p.add_argument("--weights", required=True, help="a checkpoint path (with or without extension)")
    p.add_argument("--out", required=True, help="a new or empty folder (an earlier export of it is replaced)")
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    from . import load_for_export
    from .package import check_export, export_files, write_export
    try:
        model, meta, name = load_for_export(args.weights)
        files = export_files(model, meta, name)
        out = write_export(files, args.out)
        worst = check_export(model, meta, files["model.onnx"], seed=1)   # a second look, on other inputs
    except ExportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps({"out": str(out), "kind": meta["kind"], "files": sorted(files),
                      "max_difference": worst, "bytes": sum(len(b) for b in files.values())}))
    return 0
