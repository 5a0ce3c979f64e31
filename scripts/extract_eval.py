"""End-to-end extraction score of a model on a labelled split with its tags removed
(anrc.extraction.evaluate), next to its tagged-input score, with candidate recall,
pairs a sentence and speed; writes OUT/report.md and OUT/summary.json.

    .venv/bin/python scripts/extract_eval.py semeval-fast --split test --out results/extraction/NAME

``--split dev`` takes the model's own dev split (its data settings and dev seed); a model
retrained on all its training data (``train.refit``, the shipped ones) has seen it, so
its dev figures are optimistic and choose nothing here.
"""

import argparse
import json
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

from anrc.data import read
from anrc.data.splits import load_training_data
from anrc.extraction import Options
from anrc.extraction.decode import DECODINGS
from anrc.extraction.evaluate import cached, end_to_end, relation_scores
from anrc.inference.api import load


def examples(clf, split: str, limit: int):
    cfg = clf.config.data
    if split == "test":
        exs = read(cfg.test, negative=clf.labels.negative, labelled=True,
                   skip_invalid=cfg.skip_invalid).examples  # fmt: skip
    else:
        exs = load_training_data(replace(cfg, augment=""))[1]
    exs = [ex for ex in exs if ex.label in clf.labels]
    return exs[:limit] if limit else exs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("--split", choices=("dev", "test"), default="test")
    ap.add_argument("--form", default="fp32")
    ap.add_argument("--source", default=Options.source)
    ap.add_argument("--tagger", help="a mention tagger instead of the model's own")
    ap.add_argument("--mentions", type=int, default=Options.mentions)
    ap.add_argument("--window", type=int, default=Options.window)
    ap.add_argument("--threshold", type=float, default=Options.threshold)
    ap.add_argument("--no-prior", action="store_true")
    ap.add_argument("--limit", type=int, default=0, help="only the first N sentences")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    clf = load(args.model, form=args.form, tagger=args.tagger)
    exs = examples(clf, args.split, args.limit)
    opts = Options(source=args.source, mentions=args.mentions, window=args.window,
                   threshold=args.threshold, prior=not args.no_prior)  # fmt: skip
    t0 = time.perf_counter()
    got = end_to_end(exs, lambda e: clf.probs(e)[0], clf.labels, opts, clf.tagger)
    seconds = time.perf_counter() - t0
    classify = cached(lambda e: clf.probs(e)[0])  # the decodings share one pass
    users = [relation_scores(exs, classify, clf.labels, opts, clf.tagger, decoding=d)
             for d in DECODINGS.choices()]  # fmt: skip
    summary = {k: v for k, v in asdict(got).items() if k != "answers"}
    summary["decodings"] = {u.decoding: asdict(u) for u in users}
    summary.update(model=args.model, split=args.split, sentences=len(exs), form=clf.form,
                   options=asdict(opts), seconds=round(seconds, 1),
                   tagger=clf.tagger.info.get("data") if clf.tagger else None,
                   command=" ".join([".venv/bin/python", *sys.argv]))  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    (args.out / "answers.txt").write_text(
        "".join(f"{ex.id}\t{a}\n" for ex, a in zip(exs, got.answers, strict=True))
    )
    lines = [
        f"# End-to-end extraction: {args.model} on {args.split} ({len(exs)} sentences)",
        "", f"Command: `{summary['command']}`", "",
        "| untagged F1 | tagged F1 | cost of finding the entities | candidate recall | "
        "annotated pair chosen | pairs a sentence | sentences/s (both runs, this machine) |",
        "|---|---|---|---|---|---|---|",
        f"| {got.f1:.2f} | {got.tagged_f1:.2f} | {got.tagged_f1 - got.f1:.2f} | "
        f"{100 * got.candidate_recall:.1f}% | {100 * got.pair_found:.1f}% | "
        f"{got.pairs_per_sentence:.1f} | {len(exs) / seconds:.0f} |",
        "", f"What `anrc extract` gives with each decoding (`--decoding`; a relation counts "
        f"when its likeliest label that is not {clf.labels.negative} reaches "
        f"{users[0].threshold:g}), against the annotated relations (precision is a lower "
        "bound: a true relation between two other mentions is not annotated):", "",
        "| decoding | relations a sentence | precision | recall | F1 |", "|---|---|---|---|---|",
        *(f"| `{u.decoding}` | {u.per_sentence:.2f} | {u.precision:.1f} | {u.recall:.1f} | "
          f"{u.f1:.1f} |" for u in users),
    ]  # fmt: skip
    (args.out / "report.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
