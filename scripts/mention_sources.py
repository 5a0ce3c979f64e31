"""Candidate mentions from each source on a labelled split, no classifier involved: the
share of sentences whose annotated pair is among the candidate pairs (both orders, within
the window), mentions and pairs a sentence, and speed. The dev split (the training
file's held-out part, data.dev_fraction and data.dev_seed as anrc train holds it out)
chooses the default source and the tagger's decoding (greedy or spans, each at several
mention counts); ``--split test`` only reports.

    .venv/bin/python scripts/mention_sources.py --tagger semeval --out results/extraction/sources-dev.md
"""

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

from anrc.config import DataConfig
from anrc.data import read
from anrc.data.candidates import candidate_pairs
from anrc.data.splits import load_training_data
from anrc.extraction.mentions import make_source
from anrc.extraction.tagger import SPAN_DECODINGS, Tagger
from anrc.pretrained import find_tagger


def measure(source, examples, window: int) -> tuple[float, float, float, float]:
    """(candidate recall %, mentions a sentence, pairs a sentence, sentences/s)."""
    hit = mentions = pairs = 0
    t0 = time.perf_counter()
    every = source.scored_many([ex.tokens for ex in examples])
    for ex, scored in zip(examples, every, strict=True):
        spans = [span for span, _ in scored]
        found = candidate_pairs(spans, window)
        hit += (tuple(ex.e1), tuple(ex.e2)) in found
        mentions, pairs = mentions + len(spans), pairs + len(found)
    n = max(1, len(examples))
    return 100 * hit / n, mentions / n, pairs / n, n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tagger", required=True, help="a tagger folder or shipped name")
    ap.add_argument("--split", choices=("dev", "test"), default="dev")
    ap.add_argument("--window", type=int, default=15)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    data = DataConfig()
    if args.split == "dev":
        examples = load_training_data(DataConfig(test=""))[1]
    else:
        examples = read(data.test, negative=data.negative, labelled=True).examples
    tagger = Tagger.load(find_tagger(args.tagger))
    rows = [("words", make_source("words"))]
    for decoding in SPAN_DECODINGS:  # the tagger's own decoding, then the others
        other = tagger.with_params(replace(tagger.params, decoding=decoding))
        own = decoding == tagger.params.decoding
        for k in sorted({2, 3, 4, 6, 8, tagger.top, 10}):
            mark = " (its own)" if own and k == tagger.top else ""
            rows.append(
                (f"tagger, {decoding}, {k} mentions{mark}", make_source("tagger", other, k))
            )
    lines = [f"# Candidate mentions on the {args.split} split ({len(examples)} sentences, "
             f"window {args.window})", "",
             "Command: `" + " ".join([".venv/bin/python", *sys.argv]) + "`", "",
             "| source | candidate recall | mentions a sentence | pairs a sentence | sentences/s |",
             "|---|---|---|---|---|"]  # fmt: skip
    for name, source in rows:
        recall, m, p, speed = measure(source, examples, args.window)
        lines.append(f"| {name} | {recall:.1f}% | {m:.1f} | {p:.1f} | {speed:.0f} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
