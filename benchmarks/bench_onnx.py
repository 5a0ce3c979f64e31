"""PyTorch against onnxruntime on the whole test set: same labels? how fast?

Exports RUN_DIR (a cnn or crcnn run) to a temporary .onnx, labels the 2,717 test
sentences both ways, counts disagreements, and times both (median of --repeats
passes, interleaved, one thread each by default).

    .venv/bin/python benchmarks/bench_onnx.py RUN_DIR [--threads 1] [--repeats 3]
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
from common import ROOT

import anrc
from anrc.data import read
from anrc.export.onnx import OnnxClassifier, export_onnx

ap = argparse.ArgumentParser()
ap.add_argument("run_dir")
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--repeats", type=int, default=3)
ap.add_argument("--batch", type=int, default=256)
args = ap.parse_args()
torch.set_num_threads(args.threads)

test = read(ROOT / "../shared/data/semeval2010_task8/TEST_FILE_FULL.TXT").examples
with tempfile.TemporaryDirectory() as tmp:
    path = Path(tmp) / "model.onnx"
    export_onnx(args.run_dir, path)
    torch_clf = anrc.load(args.run_dir)
    onnx_clf = OnnxClassifier(path, args.run_dir, threads=args.threads)
    times = {"pytorch": [], "onnxruntime": []}
    for _ in range(args.repeats):
        t = time.perf_counter()
        a = torch_clf.predict_labels(test, args.batch)
        times["pytorch"].append(time.perf_counter() - t)
        t = time.perf_counter()
        b = onnx_clf.predict_labels(test, args.batch)
        times["onnxruntime"].append(time.perf_counter() - t)
same = sum(x == y for x, y in zip(a, b, strict=True))
print(f"{args.run_dir}: {len(test)} test sentences, batch {args.batch}, threads {args.threads}")
print(f"same label for {same} of {len(test)} sentences")
for name, ts in times.items():
    med = statistics.median(ts)
    print(f"{name:12s} median {med:.3f} s = {len(test) / med:,.0f} sentences/s")
