"""Every form a model can predict in, in one run: PyTorch fp32, bf16 autocast and int8
(dynamic), and onnxruntime fp32 and int8, on the 2,717 test sentences: official F1,
agreement with fp32, sentences/s and the speed-up over fp32 (passes interleaved form by
form, median of --repeats), with the CPU's flags in the output, since the ranking
depends on them (bf16 is native only with AVX-512 BF16 or AMX; int8 dot products with
VNNI).

For a transformer it also gives the useful work rate: the FLOPs of the unpadded word
pieces (2 x the body's Linear weights a piece, plus attention) over the time, against
this machine's own peak measured in the same run (a large matrix product at --threads,
fp32 and bf16).

Then, with ``--sweep``, each form's sentences/s at each of those batch sizes (the
model's default inference batch size comes from this table).

    .venv/bin/python benchmarks/bench_forms.py [MODEL] [--threads 2] [--repeats 3]
        [--batch 32] [--forms fp32 bf16 int8 onnx-fp32 onnx-int8]
        [--sweep 16 32 64 128 256] [--out results/benchmarks/forms-MODEL.txt]
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
from common import add_size_options, report, test_sentences

import anrc
from anrc.export.onnx_export import OnnxClassifier, export_onnx, quantize_int8
from anrc.inference.forms import BF16_FLAGS, VNNI_FLAGS, cpu_flags
from anrc.metrics.scorer import score

ap = argparse.ArgumentParser()
ap.add_argument("model", nargs="?", default="semeval")
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--repeats", type=int, default=3)
ap.add_argument("--batch", type=int, default=32)
ap.add_argument("--sweep", type=int, nargs="*", default=[], help="batch sizes to time each form at")
ap.add_argument("--forms", nargs="*", default=["fp32", "bf16", "int8", "onnx-fp32", "onnx-int8"])
ap.add_argument("--out", help="also write the table here")
add_size_options(ap)
args = ap.parse_args()
torch.set_num_threads(args.threads)


def gemm_peak(dtype, n: int = 2048, reps: int = 10) -> float:
    """GFLOP/s of an n x n x n matrix product at --threads (the best of ``reps``)."""
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    torch.mm(a, b)
    best = min(_timed(lambda: torch.mm(a, b)) for _ in range(reps))
    return 2 * n**3 / best / 1e9


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def body_flops(clf, examples) -> float | None:
    """FLOPs of one pass over ``examples`` without padding (transformer bodies only)."""
    body = getattr(clf.trained.network.encoder, "body", None)
    if body is None:
        return None
    c = body.config
    per_piece = 2 * sum(
        m.in_features * m.out_features
        for m in body.encoder.modules()
        if isinstance(m, torch.nn.Linear)
    )
    total = 0.0
    for ex in examples:
        n = clf.trained.featurizer.length(ex)
        total += per_piece * n + 4 * n * n * c.hidden_size * c.num_hidden_layers
    return total


test = test_sentences(args.sentences)
key = {ex.id: ex.label for ex in test}
flags = cpu_flags()
with tempfile.TemporaryDirectory() as tmp:
    classifiers, sizes = {}, {}
    for form in args.forms:
        if form.startswith("onnx"):
            path = export_onnx(args.model, Path(tmp) / "fp32.onnx").path
            if form == "onnx-int8":
                path = quantize_int8(path, Path(tmp) / "int8.onnx")
            classifiers[form] = OnnxClassifier(path, args.model, threads=args.threads)
            sizes[form] = path.stat().st_size
        else:
            classifiers[form] = anrc.load(args.model, form=form)
    for clf in classifiers.values():
        clf.predict_labels(test[:128], args.batch)  # warm-up
    times = {form: [] for form in classifiers}
    labels = {}
    for _ in range(args.repeats):
        for form, clf in classifiers.items():
            t = time.perf_counter()
            labels[form] = clf.predict_labels(test, args.batch)
            times[form].append(time.perf_counter() - t)
    sweep = {(form, b): [] for form in classifiers for b in args.sweep}
    for _ in range(args.repeats if args.sweep else 0):
        for (form, b), ts in sweep.items():
            ts.append(_timed(lambda c=classifiers[form], b=b: c.predict_labels(test, b)))

negative = classifiers[args.forms[0]].labels.negative
f1 = {
    form: score(key, {ex.id: p for ex, p in zip(test, got, strict=True)}, negative).official_f1
    for form, got in labels.items()
}
first = args.forms[0]
base = statistics.median(times[first])
flops = body_flops(classifiers[first], test) if not first.startswith("onnx") else None
size = 256 if args.sentences else 2048  # a smoke run: a small product
peak = {"fp32": gemm_peak(torch.float32, size), "bf16": gemm_peak(torch.bfloat16, size)}
shown = sorted(f for f in flags if f in BF16_FLAGS | VNNI_FLAGS | {"avx2", "avx512f", "fma"})
lines = [
    f"{args.model}: {len(test)} test sentences, batch {args.batch}, threads {args.threads}, "
    f"median of {args.repeats} interleaved passes",
    f"CPU flags (of those that matter here): {' '.join(shown) or 'none'}",
    f"this machine's measured GEMM peak at {args.threads} threads ({size}^3): "
    f"fp32 {peak['fp32']:.0f} GFLOP/s, bf16 {peak['bf16']:.0f} GFLOP/s",
    "",
    "| form | file MB | official F1 | vs fp32 | same label as fp32 | sentences/s | "
    "speed-up | useful GFLOP/s | of fp32 peak |",
    "|---|---|---|---|---|---|---|---|---|",
]
for form in classifiers:
    med = statistics.median(times[form])
    same = sum(a == b for a, b in zip(labels[form], labels[first], strict=True))
    size = f"{sizes[form] / 1e6:.1f}" if form in sizes else "-"
    rate = f"{flops / med / 1e9:.0f} | {flops / med / 1e9 / peak['fp32']:.0%}" if flops else "- | -"
    lines.append(
        f"| {form} | {size} | {f1[form]:.2f} | {f1[form] - f1[first]:+.2f} | "
        f"{same:,} of {len(test):,} | {len(test) / med:,.0f} | {base / med:.2f}x | {rate} |"
    )
if flops:
    lines.append(f"\nFLOPs a sentence (unpadded word pieces): {flops / len(test) / 1e9:.2f} G")
if args.sweep:
    lines += [
        "",
        "Sentences/s by batch size (median of the same passes):",
        "",
        "| form | " + " | ".join(f"batch {b}" for b in args.sweep) + " |",
        "|---|" + "---|" * len(args.sweep),
    ]
    for form in classifiers:
        cells = [f"{len(test) / statistics.median(sweep[form, b]):,.0f}" for b in args.sweep]
        lines.append(f"| {form} | " + " | ".join(cells) + " |")
report(lines, args.out and Path(args.out))
