#!/usr/bin/env bash
# The CUDA path in one short run (about 3 minutes on one GPU): the GPU-marked tests, then the CNN training
# benchmark on CUDA (digits and cifar10-5k, fast preset beside textbook), then a summary of the device,
# images/s and seconds to accuracy. Figures go to bench/results/cnn-cuda.json (the CPU run keeps cnn.json).
#
#     bash bench/gpu_check.sh [BUDGET_SECONDS]       # BUDGET_SECONDS: the time-budget runs (default 15)
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH=. IMGAI_DEVICE=cuda
budget="${1:-15}"

python - <<'PY'
import torch
if not torch.cuda.is_available():
    raise SystemExit("gpu_check: no CUDA device visible to torch " + torch.__version__)
p = torch.cuda.get_device_properties(0)
print(f"device: {p.name}, {p.total_memory / 2**30:.0f} GiB; torch {torch.__version__}, CUDA {torch.version.cuda}")
PY

echo "== GPU-marked tests"
python -m pytest -q -m gpu tests/

echo "== CNN training benchmark on CUDA (time budget ${budget} s, then full runs)"
python bench/bench_cnn.py --budget "$budget" > /dev/null

python - <<'PY'
import json
r = json.load(open("bench/results/cnn-cuda.json"))
print(f"device: {r['machine'].get('gpu', r['machine']['device'])}  commit {r['commit']}")
print(f"{'data set':<12}{'preset':<10}{'run':<10}{'val acc':>8}{'images/s':>10}{'train s':>9}{'s to target':>13}")
for f in r["figures"]:
    run = f"{f['budget_s']:g} s" if f["budget_s"] else f"{f['epochs']:g} ep"
    to = f"{f['seconds_to_target']:g}" if f["seconds_to_target"] else "-"
    print(f"{f['dataset']:<12}{f['preset']:<10}{run:<10}{f['val_acc']:>8.1%}{f['images_per_s']:>10,.0f}"
          f"{f['train_s']:>9g}{to:>13}")
PY
