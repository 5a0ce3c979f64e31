#!/usr/bin/env bash
# Rebuilds a model that ships with the package (src/anrc/pretrained/NAME/):
#   bash scripts/ship/build.sh semeval        # the accurate transformer (about 1.5 h on 2 CPU cores)
#   bash scripts/ship/build.sh semeval-fast   # the fast GloVe model (about 25 min; needs semeval)
# Each trains its configuration on all 8,000 training sentences (no dev split) for the
# epoch count an earlier dev split selected, seed 1, then `anrc package` rescores the
# stored weights on the test file and writes the card from the files; the prose of the
# card (how the configuration was chosen, limits) is scripts/ship/NAME.toml. The test set
# chooses nothing. Extra arguments go to `anrc train` (e.g. --set train.device=cuda).
set -euo pipefail
cd "$(dirname "$0")/../.."
name=${1:?usage: build.sh semeval|semeval-fast [anrc train options]}
shift
anrc=.venv/bin/anrc
case "$name" in
semeval)
    weights=int8-embeddings
    extra=(--onnx)  # its fastest form within 0.3 F1: the int8 ONNX graph (anrc.inference.forms)
    "$anrc" train --config configs/transformer-freelb.toml --out "runs/ship-$name" --force \
        --set data.dev_fraction=0.0 --set train.max_epochs=5 --set train.patience=0 \
        --set train.seed=1 "$@"
    ;;
semeval-fast)
    weights=int8-embeddings
    extra=()
    "$anrc" train --config configs/att-blstm.toml --out "runs/ship-$name" --force \
        --set adversarial.method=fgm --set adversarial.epsilon=2.0 \
        --set train.teacher=src/anrc/pretrained/semeval --set train.distill_weight=0.9 \
        --set train.distill_temperature=2.0 --set train.transfer_copies=4 \
        --set train.transfer_swap=0.2 --set data.vectors_vocab=100000 \
        --set data.dev_fraction=0.0 --set train.max_epochs=8 --set train.patience=0 \
        --set train.seed=1 "$@"
    ;;
*)
    echo "build.sh: unknown model $name (semeval, semeval-fast)" >&2
    exit 2
    ;;
esac
"$anrc" package "runs/ship-$name" --name "$name" --weights "$weights" "${extra[@]}" \
    --about "scripts/ship/$name.toml" --out "src/anrc/pretrained/$name" --force
