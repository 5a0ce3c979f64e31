"""What writing a prediction's JSON costs, against predicting it: ``anrc predict
--json``, ``anrc extract`` and ``anrc serve`` write one record a sentence (label,
scores, tokens, attention, the word view: 1-3 kB, mostly floats). The same records
rendered by the standard library (``json.dumps(..., ensure_ascii=False,
allow_nan=False)``, what they used before) and by :func:`anrc.inference.jsontext.dumps`
(orjson, with the NaN check kept), each against ``predict_labels`` of the same
sentences and ``predict_many`` building the records. Passes interleaved, medians.

    .venv/bin/python benchmarks/bench_json.py [MODEL] [--sentences 1000] [--threads 2]
        [--repeats 5] [--out results/benchmarks/json-MODEL.txt]
"""

import argparse
import json
from pathlib import Path

import torch
from common import add_model_options, interleaved, ratio_table, report, test_sentences

import anrc
from anrc.inference.forms import cpu_flags
from anrc.inference.jsontext import dumps

ap = argparse.ArgumentParser()
add_model_options(ap, repeats=5)
args = ap.parse_args()
torch.set_num_threads(args.threads)

test = test_sentences(args.sentences)
clf = anrc.load(args.model)
records = [p.to_json() for p in clf.predict_many(test)]
size = sum(len(dumps(r)) for r in records) / len(records)
paths = {
    "predict_labels": lambda: clf.predict_labels(test),
    "predict_many, the records (to_json)": lambda: [p.to_json() for p in clf.predict_many(test)],
    "the records through json.dumps": lambda: [
        json.dumps(r, ensure_ascii=False, allow_nan=False) for r in records
    ],
    "the records through jsontext.dumps (orjson)": lambda: [dumps(r) for r in records],
}
times = interleaved(paths, args.repeats)
flags = " ".join(sorted(f for f in cpu_flags() if f.startswith(("avx512_", "amx", "avx_vnni"))))
out = [
    f"{args.model}, form {clf.form}: the first {len(test):,} test sentences, threads "
    f"{args.threads}, median of {args.repeats} interleaved passes; a record {size:,.0f} "
    f"bytes on average; CPU flags: {flags or 'none'}",
    *ratio_table(times, "predict_labels", len(test)),
]
report(out, args.out and Path(args.out))
