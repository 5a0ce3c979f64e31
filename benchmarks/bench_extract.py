"""Relations from raw text, as fast as what: the first ``--sentences`` test sentences
with their tags removed, through ``model.extract_many`` (the Python API and ``POST
/extract``'s path) and the stream behind ``anrc extract`` (JSON lines out), against
``model.predict_labels`` on the same sentences tagged (one pair a sentence, found by
hand). The model in its ``auto`` form with its own tagger and the default options
(anrc.extraction.Options). Passes interleaved, median of ``--repeats``; prints each
path's sentences/s, its time over predict_labels' and the pairs it classified a
sentence (the reason extraction costs more).

    .venv/bin/python benchmarks/bench_extract.py [MODEL] [--sentences 1000] [--threads 2]
        [--repeats 3] [--out results/benchmarks/extract-MODEL.txt]
"""

import argparse
import io
import tempfile
from pathlib import Path

import torch
from common import add_model_options, interleaved, ratio_table, report, test_sentences

import anrc
from anrc.extraction.evaluate import untagged
from anrc.inference.extract_stream import extract_stream

ap = argparse.ArgumentParser()
add_model_options(ap)
args = ap.parse_args()
torch.set_num_threads(args.threads)

test = test_sentences(args.sentences)
texts = [untagged(ex)[0] for ex in test]
clf = anrc.load(args.model)
clf.predict_labels(test[:64])  # warm-up
found = clf.extract_many(texts[:64])
tmp = Path(tempfile.mkdtemp())
(tmp / "in.txt").write_text("\n".join(texts) + "\n", encoding="utf-8")

paths = {
    "predict_labels (tagged)": lambda: clf.predict_labels(test),
    "extract_many (untagged)": lambda: clf.extract_many(texts),
    "anrc extract (stream)": lambda: extract_stream(clf, str(tmp / "in.txt"), io.StringIO(), {}),
}
times = interleaved(paths, args.repeats)
found = clf.extract_many(texts)
pairs = sum(f.pairs for f in found) / len(found)
relations = sum(len(f.relations) for f in found) / len(found)
out = [
    f"{args.model}, form {clf.form}: the first {len(test):,} test sentences, threads "
    f"{args.threads}, median of {args.repeats} interleaved passes; extraction classified "
    f"{pairs:.1f} pairs a sentence and kept {relations:.2f} relations a sentence",
    *ratio_table(times, "predict_labels (tagged)", len(test)),
]
report(out, args.out and Path(args.out))
