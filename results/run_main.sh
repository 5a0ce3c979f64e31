#!/usr/bin/env bash
# Reproduces results/main/: configs x seeds, two runs at a time with one thread each
# (the 2-core machine), keeping config.toml, metrics.jsonl, test_predictions.txt and
# scores.json of each run (not the weights). Usage: bash results/run_main.sh [SEEDS...]
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${*:-1 2 3}
CONFIGS="anrc anrc-no-at anrc-scaled anrc-scaled-no-at"
jobs_list=()
for seed in $SEEDS; do for c in $CONFIGS; do jobs_list+=("$c:$seed"); done; done
run() {
  c=${1%%:*}; seed=${1##*:}
  dest=results/main/$c/seed$seed
  [ -f "$dest/scores.json" ] && return 0
  tmp=runs/main/$c/seed$seed
  .venv/bin/anrc train --config configs/$c.toml --set train.seed=$seed --set train.threads=1 \
    --out "$tmp" > "runs/main-$c-$seed.log" 2>&1
  mkdir -p "$dest"
  cp "$tmp"/{config.toml,metrics.jsonl,test_predictions.txt,dev_predictions.txt,scores.json} "$dest/"
}
export -f run
mkdir -p runs/main
printf '%s\n' "${jobs_list[@]}" | xargs -P 2 -I{} bash -c 'run {}'
.venv/bin/python results/summarise.py results/main > results/main/summary.md
