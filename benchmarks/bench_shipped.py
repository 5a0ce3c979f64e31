"""The shipped models side by side, in one run: official test F1 (from each model's own
committed report), weights size, and end-to-end speed of ``model.predict_labels`` on the
2,717 test sentences (tokenising included), passes interleaved model by model so that
machine noise hits them alike, median of ``--repeats``; the ratio is to the slowest.

    .venv/bin/python benchmarks/bench_shipped.py [--threads 2] [--repeats 3] [--batch 64]
        [--out results/benchmarks/shipped.txt]
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch
from common import report

import anrc
from anrc.config import SEMEVAL
from anrc.data import read
from anrc.pretrained import find_model, shipped

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--repeats", type=int, default=3)
ap.add_argument("--batch", type=int, default=64)
ap.add_argument("--models", nargs="*", default=shipped())
ap.add_argument("--out", help="also write the table here")
args = ap.parse_args()
torch.set_num_threads(args.threads)

test = read(f"{SEMEVAL}/TEST_FILE_FULL.TXT").examples
models = {name: anrc.load(name) for name in args.models}
for name, model in models.items():
    model.predict_labels(test[:256], batch_size=args.batch)  # warm-up
    print(f"loaded {name}", file=sys.stderr)
times = {name: [] for name in models}
for _ in range(args.repeats):
    for name, model in models.items():
        t = time.perf_counter()
        model.predict_labels(test, batch_size=args.batch)
        times[name].append(time.perf_counter() - t)
slowest = max(statistics.median(t) for t in times.values())
lines = [
    f"cpu, threads {args.threads}, batch {args.batch}, {len(test)} test sentences, "
    f"median of {args.repeats} passes",
    "| model | encoder | official test F1 | weights | seconds | sentences/s | x slowest |",
    "|---|---|---|---|---|---|---|",
]
for name, ts in times.items():
    folder = find_model(name)
    f1 = json.loads((folder / "scores.json").read_text())["summary"]["test_f1"]
    encoder = models[name].config.model.encoder
    mb = (folder / "model.safetensors").stat().st_size / 1e6
    med = statistics.median(ts)
    lines.append(
        f"| {name} | {encoder} | {f1:.2f} | {mb:.1f} MB | {med:.2f} | "
        f"{len(test) / med:,.0f} | {slowest / med:.1f} |"
    )
report(lines, args.out and Path(args.out))
