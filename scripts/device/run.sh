#!/usr/bin/env bash
# Runs on the lent GPU machine (see scripts/device/stage.sh): the grids of issue 29 that a
# GPU makes short, each exactly as its committed grid file declares, with
# --set train.device=cuda; several runs at once on the one GPU. Each grid stops its runs
# (they checkpoint) at the deadline and resumes on the next call while the machine is warm.
# What comes back ($OUT): each grid's folder packed without weights or checkpoints, and
# the log.
#   GRIDS="kbp37-transformer" DEADLINE=520 bash scripts/device/run.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/anrc-device-out}
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .device/whl/*.whl || exit 1
export PYTHONPATH="/tmp/site:$PWD/src" PYTHONUNBUFFERED=1
export ANRC_CACHE="$PWD/.device" ANRC_DATA="$PWD/.device/data/semeval"
export KBP37="$PWD/.device/data/kbp37"
GRIDS=${GRIDS:-"kbp37-transformer"}
DEADLINE=${DEADLINE:-520}
nvidia-smi -L
python3 -c "import torch, transformers; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'transformers', transformers.__version__)"
out_of() { echo "results/experiments/$1-gpu"; }
for grid in $GRIDS; do
    case $grid in
    kbp37-*) [ -f "$KBP37/train.txt" ] || { echo "$grid: no KBP37 files carried; skipped"; continue; } ;;
    esac
    python3 -m anrc experiment "$grid" --out "$(out_of "$grid")" --set train.device=cuda \
        --jobs 6 --threads 2 --deadline "$DEADLINE" >"$OUT/$grid.log" 2>&1 &
done
wait
for grid in $GRIDS; do
    dir=$(out_of "$grid")
    [ -d "$dir" ] || continue
    tar -cJf "$OUT/$grid.tar.xz" --exclude='*.safetensors' --exclude=checkpoint.pt \
        --exclude='*.db' --exclude=.lock --exclude=.queue.lock "$dir"
    tail -3 "$OUT/$grid.log"
done
ls -la "$OUT"
