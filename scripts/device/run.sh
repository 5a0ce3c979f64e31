#!/usr/bin/env bash
# Runs on the lent GPU machine (see scripts/device/stage.sh): grids that a GPU makes
# short, each exactly as its committed grid file declares, with --set train.device=cuda;
# several runs at once on the one GPU. Each grid stops its runs (they checkpoint) at the
# deadline. What comes back ($OUT): each grid's folder packed without weights or
# checkpoints, its log, and (TEACHERS=1) every finished run's predictions of the training
# sentences (`anrc predict --json`, gzipped): a teacher's targets for distillation
# (train.teacher takes such a file), the weights themselves being too large to come back.
#   GRIDS="transformer-base-cpu" DEADLINE=420 TEACHERS=1 bash scripts/device/run.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/anrc-device-out}
mkdir -p "$OUT"
# What earlier calls of this lease carried and kept outside the copy (scripts/device/keep.sh).
KEEP=${KEEP:-/root/anrc-keep}
for d in "$KEEP"/.device "$KEEP"/.body-*; do
    [ -d "$d" ] && [ ! -e "$(basename "$d")" ] && cp -r "$d" .
done
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .device/whl/*.whl || exit 1
export PYTHONPATH="/tmp/site:$PWD/src" PYTHONUNBUFFERED=1
export ANRC_CACHE="$PWD/.device" ANRC_DATA="$PWD/.device/data/semeval"
export KBP37="$PWD/.device/data/kbp37"
GRIDS=${GRIDS:-"transformer-base-cpu"}
DEADLINE=${DEADLINE:-480}
JOBS=${JOBS:-6}
nvidia-smi -L
python3 -c "import torch, transformers; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'transformers', transformers.__version__)"
# A body carried in parts (scripts/device/body.py), joined once per machine.
for first in .body-*-1; do
    [ -e "$first" ] || continue
    name=${first#.body-}
    name=${name%-1}
    [ -f ".device/bodies/$name/model.safetensors" ] ||
        python3 scripts/device/body.py unpack ".body-$name" ".device/bodies/$name" || exit 1
done
out_of() { echo "results/experiments/$1-gpu"; }
for grid in $GRIDS; do
    case $grid in
    kbp37-*) [ -f "$KBP37/train.txt" ] || { echo "$grid: no KBP37 files carried; skipped"; continue; } ;;
    esac
    python3 -m anrc experiment "$grid" --out "$(out_of "$grid")" --set "train.device=${DEVICE:-cuda}" \
        --jobs "$JOBS" --threads 2 --deadline "$DEADLINE" >"$OUT/$grid.log" 2>&1 &
done
wait
# Packed by name, never by exclusion: only a grid's small text and plot files come back
# (a run writes its 438 MB weights through a temporary file, which an exclusion list
# missed on 2026-12-04: the pack then outlasted the call and nothing came back).
for grid in $GRIDS; do
    dir=$(out_of "$grid")
    [ -d "$dir" ] || continue
    find "$dir" -type f -size -4M \( -name '*.json' -o -name '*.jsonl' -o -name '*.txt' \
        -o -name '*.md' -o -name '*.toml' -o -name '*.png' -o -name '*.log' \) -print0 |
        tar -czf "$OUT/$grid.tar.gz" --null -T -
    tail -3 "$OUT/$grid.log"
done
if [ "${TEACHERS:-0}" = 1 ]; then
    # SemEval's training file as ID<TAB>sentence lines: anrc predict keeps the IDs, by
    # which train.teacher finds each training sentence in the predictions.
    grep -P '^\d+\t"' "$ANRC_DATA/TRAIN_FILE.TXT" | tr -d '\r' >/tmp/train-tagged.txt
    mkdir -p "$OUT/teachers"
    for grid in $GRIDS; do
        for done in "$(out_of "$grid")"/runs/*/seed*/scores.json; do
            [ -f "$done" ] || continue  # finished runs only
            run=$(dirname "$done")
            name="$grid.$(basename "$(dirname "$run")").$(basename "$run").jsonl"
            (python3 -m anrc predict "$run" --input /tmp/train-tagged.txt --json --form fp32 --device "${DEVICE:-cuda}" \
                --output "/tmp/$name" && gzip -c "/tmp/$name" >"$OUT/teachers/$name.gz") &
        done
    done
    wait
    (cd "$OUT" && tar -cf teachers.tar teachers && rm -r teachers)
fi
ls -la "$OUT"
