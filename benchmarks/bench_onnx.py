"""PyTorch against onnxruntime (fp32 and dynamic int8) on the whole test set: the official
F1 of each, how often they agree, and how fast each is.

Exports MODEL (a run directory or a shipped model) to a temporary .onnx, quantises a
copy to int8 (``anrc export --quantize int8``), labels the 2,717 test sentences with
each of the three (interleaved, median of --repeats passes, --threads threads each),
scores each with the official scorer, and prints one table: F1, change in F1 against
PyTorch, sentences with PyTorch's label, sentences/s and speed-up over PyTorch.

    .venv/bin/python benchmarks/bench_onnx.py MODEL [--threads 2] [--repeats 3]
        [--batch 64] [--out results/benchmarks/onnx-MODEL.txt]
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
from common import ROOT, report

import anrc
from anrc.data import read
from anrc.export.onnx_export import OnnxClassifier, export_onnx, quantize_int8
from anrc.metrics.scorer import score

ap = argparse.ArgumentParser()
ap.add_argument("model")
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--repeats", type=int, default=3)
ap.add_argument("--batch", type=int, default=64)
ap.add_argument("--out", help="also write the table here")
args = ap.parse_args()
torch.set_num_threads(args.threads)

test = read(ROOT / "../shared/data/semeval2010_task8/TEST_FILE_FULL.TXT").examples
key = {ex.id: ex.label for ex in test}
with tempfile.TemporaryDirectory() as tmp:
    fp32 = export_onnx(args.model, Path(tmp) / "fp32.onnx")
    int8 = quantize_int8(fp32.path, Path(tmp) / "int8.onnx")
    classifiers = {
        "pytorch": anrc.load(args.model),
        "onnx fp32": OnnxClassifier(fp32.path, args.model, threads=args.threads),
        "onnx int8": OnnxClassifier(int8, args.model, threads=args.threads),
    }
    sizes = {"pytorch": None, "onnx fp32": fp32.bytes, "onnx int8": int8.stat().st_size}
    times = {name: [] for name in classifiers}
    labels = {}
    for _ in range(args.repeats):
        for name, clf in classifiers.items():
            t = time.perf_counter()
            labels[name] = clf.predict_labels(test, args.batch)
            times[name].append(time.perf_counter() - t)

negative = classifiers["pytorch"].labels.negative
f1 = {
    name: score(key, {ex.id: p for ex, p in zip(test, got, strict=True)}, negative).official_f1
    for name, got in labels.items()
}
base = statistics.median(times["pytorch"])
lines = [
    f"{args.model}: {len(test)} test sentences, batch {args.batch}, threads {args.threads}, "
    f"median of {args.repeats}",
    "| runtime | file MB | official F1 | vs PyTorch | same label as PyTorch | sentences/s | speed-up |",
    "|---|---|---|---|---|---|---|",
]
for name in classifiers:
    med = statistics.median(times[name])
    same = sum(a == b for a, b in zip(labels[name], labels["pytorch"], strict=True))
    size = f"{sizes[name] / 1e6:.1f}" if sizes[name] else "-"
    lines.append(
        f"| {name} | {size} | {f1[name]:.2f} | {f1[name] - f1['pytorch']:+.2f} | "
        f"{same:,} of {len(test):,} | {len(test) / med:,.0f} | {base / med:.2f}x |"
    )
report(lines, args.out and Path(args.out))
