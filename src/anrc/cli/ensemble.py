"""``anrc ensemble``: average the label probabilities of several runs and score them."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from anrc.data import read
from anrc.data.answers import write_answers
from anrc.data.splits import load_training_data
from anrc.errors import AnrcInputError
from anrc.inference.predict import predict_probs
from anrc.inference.stored import StoredRun
from anrc.metrics.report import official_line
from anrc.metrics.scorer import accuracy, score
from anrc.models.trained import RunLoadError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ensemble",
        help="average the probabilities of several trained runs and score them officially",
        description="Average the label probabilities of RUN_DIRs (same label set) on a "
        "labelled file and score the averaged prediction with the official metric. A run "
        "without its weights joins through its stored probabilities "
        "(RUN_DIR/probabilities.jsonl.gz, anrc store). "
        "Example: anrc ensemble runs/a runs/b runs/c --out runs/ensemble",
    )
    p.add_argument(
        "run_dirs", nargs="+", metavar="RUN_DIR",
        help="trained run directories (weights, or stored probabilities)",
    )  # fmt: skip
    p.add_argument("--out", required=True, help="folder for predictions and scores")
    p.add_argument("--data", help="labelled file (default: the first run's test file)")
    p.add_argument("--dev", action="store_true", help="also score the runs' dev split")
    p.set_defaults(func=run)


def ensemble_probs(runs, examples):
    """(N, C) mean of the runs' probabilities (each a :class:`StoredRun` or anything with
    ``labels`` and ``trained``); the runs must share their label order."""

    first = runs[0].labels.labels
    total = None
    for run in runs:
        if run.labels.labels != first:
            raise AnrcInputError("the runs do not share one label set; cannot average them")
        p = run.probs(examples) if isinstance(run, StoredRun) else None
        if p is None:
            p, _ = predict_probs(run.trained, examples)
        total = p.astype(np.float64) if total is None else total + p
    return total / len(runs)


def _open(run_dir: str) -> StoredRun:
    try:
        return StoredRun.open(run_dir)
    except RunLoadError as err:
        raise AnrcInputError(str(err)) from None


def _score(runs, examples, out: Path, name: str) -> dict:
    labels = runs[0].labels
    probs = ensemble_probs(runs, examples)
    preds = [labels.labels[i] for i in probs.argmax(axis=1)]
    write_answers(
        ((ex.id, p) for ex, p in zip(examples, preds, strict=True)), out / f"{name}_predictions.txt"
    )
    report = score(
        {ex.id: ex.label for ex in examples},
        {ex.id: p for ex, p in zip(examples, preds, strict=True)},
        labels.negative,
    )
    gold = [ex.label for ex in examples]
    return {"f1": report.official_f1, "accuracy": accuracy(gold, preds), "report": report.to_dict()}


def run(args: argparse.Namespace) -> int:
    runs = [_open(d) for d in args.run_dirs]
    labels = runs[0].labels
    path = args.data or runs[0].config.data.test
    if not path:
        raise AnrcInputError("no --data given and the first run has no test file")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    examples = read(path, negative=labels.negative, labelled=True).examples
    result = {
        "runs": args.run_dirs,
        "data": path,
        "test": _score(runs, examples, out, "test"),
    }
    if args.dev:
        _, dev, _ = load_training_data(runs[0].config.data)
        result["dev"] = _score(runs, [ex for ex in dev if ex.label in labels], out, "dev")
    (out / "scores.json").write_text(json.dumps(result, indent=1))
    for name in ("dev", "test"):
        if name in result:
            print(
                f"{name}: F1 {result[name]['f1']:.2f}  accuracy {result[name]['accuracy']:.2f}",
                file=sys.stderr,
            )
    print(official_line(result["test"]["f1"]))
    return 0
