"""The shipped models side by side, in one run: official test F1 (from each model's own
committed report), weights size, the form each predicts in as a user loads it
(``anrc.load(NAME)``: form auto, chosen from this CPU and the model's files), and
end-to-end speed of ``model.predict_labels`` on the 2,717 test sentences (tokenising
included, the model's own batch size unless --batch), passes interleaved model by model
so that machine noise hits them alike, median of ``--repeats``; the ratio is to the
slowest.

    .venv/bin/python benchmarks/bench_shipped.py [--threads 2] [--repeats 3] [--batch N]
        [--out results/benchmarks/shipped.txt]
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch
from common import add_size_options, report, test_sentences

import anrc
from anrc.inference.forms import BF16_FLAGS, VNNI_FLAGS, cpu_flags
from anrc.metrics.scorer import score
from anrc.pretrained import find_model, shipped

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--repeats", type=int, default=3)
ap.add_argument("--batch", type=int, help="sentences a forward pass (default: the model's own)")
ap.add_argument("--models", nargs="*", default=shipped())
ap.add_argument("--out", help="also write the table here")
add_size_options(ap)
args = ap.parse_args()
torch.set_num_threads(args.threads)

test = test_sentences(args.sentences)
models = {name: anrc.load(name) for name in args.models}
for name, model in models.items():
    model.predict_labels(test[:256], batch_size=args.batch)  # warm-up
    print(f"loaded {name}", file=sys.stderr)
times = {name: [] for name in models}
answers = {}
for _ in range(args.repeats):
    for name, model in models.items():
        t = time.perf_counter()
        answers[name] = model.predict_labels(test, batch_size=args.batch)
        times[name].append(time.perf_counter() - t)
key = {ex.id: ex.label for ex in test}
shown = sorted(f for f in cpu_flags() if f in BF16_FLAGS | VNNI_FLAGS | {"avx2", "avx512f"})
slowest = max(statistics.median(t) for t in times.values())
lines = [
    f"cpu, threads {args.threads}, batch {args.batch or 'each model' + chr(39) + 's own'}, "
    f"{len(test)} test sentences, median of {args.repeats} passes; CPU flags: "
    f"{' '.join(shown) or 'none'}. Official F1 of the answers timed, and of the stored "
    "weights in fp32 (the model's own report)",
    "| model | encoder | form | official test F1 | fp32 F1 | weights | seconds | sentences/s "
    "| x slowest |",
    "|---|---|---|---|---|---|---|---|---|",
]
for name, ts in times.items():
    folder = find_model(name)
    stored = json.loads((folder / "scores.json").read_text())["summary"]["test_f1"]
    pairs = zip(test, answers[name], strict=True)
    f1 = score(key, {ex.id: p for ex, p in pairs}, models[name].labels.negative).official_f1
    encoder = models[name].config.model.encoder
    mb = (folder / "model.safetensors").stat().st_size / 1e6
    med = statistics.median(ts)
    lines.append(
        f"| {name} | {encoder} | {models[name].form} | {f1:.2f} | {stored:.2f} | {mb:.1f} MB | "
        f"{med:.2f} | "
        f"{len(test) / med:,.0f} | {slowest / med:.1f} |"
    )
report(lines, args.out and Path(args.out))
