#!/usr/bin/env bash
# Reproduces results/variants/: the settings where the paper is ambiguous, one seed each,
# measured on top of configs/anrc-scaled.toml (the configuration that learns; see
# docs/paper-notes.md). Each run keeps config.toml, metrics.jsonl, test_predictions.txt,
# dev_predictions.txt and scores.json. Usage: bash results/run_variants.sh [PARALLEL]
set -euo pipefail
cd "$(dirname "$0")/.."
P=${1:-1}
cat > runs/variants.txt <<'LIST'
pooling-max model.pooling=max
pooling-attention model.pooling=attention
entity-head model.entity_repr=head
objective-adv-only adversarial.objective=adv_only
lr-decay-per-step train.lr_decay_every=step
target-word-position adversarial.target=word_position
target-window adversarial.target=window
normalize-embeddings adversarial.normalize_embeddings=true
LIST
run() {
  name=$1; shift
  dest=results/variants/$name
  [ -f "$dest/scores.json" ] && return 0
  sets=(); for o in "$@"; do sets+=(--set "$o"); done
  .venv/bin/anrc train --config configs/anrc-scaled.toml --set train.threads=1 "${sets[@]}" \
    --out "runs/variants/$name" > "runs/variants-$name.log" 2>&1
  mkdir -p "$dest"
  cp runs/variants/$name/{config.toml,metrics.jsonl,test_predictions.txt,dev_predictions.txt,scores.json} "$dest/"
}
export -f run
mkdir -p runs/variants
xargs -P "$P" -L 1 bash -c 'run "$@"' _ < runs/variants.txt
