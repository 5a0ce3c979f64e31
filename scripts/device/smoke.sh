#!/usr/bin/env bash
# The first call of a lease (scripts/device/stage.sh): checks that anrc runs on the
# device image (its torch and transformers differ from ours) and times a training step of
# the base-size body on the GPU, with a randomly initialised MPNet of all-mpnet-base-v2's
# shape (the weights are still on their way, in parts: scripts/device/body.py), so a
# failure shows in seconds, not at the end of a 10-minute grid.
set -uo pipefail
cd "$(dirname "$0")/../.."
bash scripts/device/keep.sh
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .device/whl/*.whl || exit 1
export PYTHONPATH="/tmp/site:$PWD/src" PYTHONUNBUFFERED=1 ANRC_DATA="$PWD/.device/data/semeval"
nvidia-smi -L
nproc
python3 -c "import torch, transformers, optuna; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'transformers', transformers.__version__, 'optuna', optuna.__version__)"
timeout 90 python3 -m pytest -q -x -p no:cacheprovider tests/models/test_transformer.py -k mpnet 2>&1 | tail -3
small=$(ls -d .body-*-1 | head -1)
python3 - "$small" <<'PY'
import shutil, sys
from pathlib import Path
from transformers import MPNetConfig, MPNetModel
src, dst = Path(sys.argv[1]), Path("/tmp/rand-body")
MPNetModel(MPNetConfig.from_json_file(src / "config.json")).save_pretrained(dst)
for f in src.iterdir():
    if f.suffix in (".json", ".txt") and f.name != "manifest.json":
        shutil.copy(f, dst / f.name)
print(sorted(p.name for p in dst.iterdir()))
PY
for method in none free; do
    start=$SECONDS
    python3 -m anrc train --config configs/transformer-base.toml \
        --out "/tmp/smoke-$method" --set encoder.pretrained=/tmp/rand-body --set train.device=cuda \
        --set data.train_limit=1600 --set data.test= --set adversarial.method=$method \
        --set train.max_epochs=1 --set encoder.pooling=cls+entity_mean >/tmp/smoke-$method.log 2>&1
    tail -2 /tmp/smoke-$method.log; cat /tmp/smoke-$method/metrics.jsonl
    echo "$method: $((SECONDS - start)) s wall (1,440 sentences, 1 epoch, load included)"
done
