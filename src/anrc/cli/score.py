"""``anrc score``: the official SemEval-2010 Task 8 scorer."""

from __future__ import annotations

import argparse
import json
import sys

from anrc.errors import AnrcInputError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "score", help="score predictions with the official SemEval-2010 Task 8 metric"
    )
    p.add_argument("predictions", help="ID<TAB>LABEL file")
    p.add_argument("key", help="answer key, ID<TAB>LABEL file")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.add_argument("--negative", default="Other", help="name of the negative class")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from anrc.data.answers import read_answers
    from anrc.metrics.report import format_report
    from anrc.metrics.scorer import score

    proposed, prop_lines = read_answers(args.predictions)
    key, _ = read_answers(args.key)
    for pid in proposed:
        if pid not in key:
            raise AnrcInputError(
                f"prediction id {pid!r} is not in the answer key {args.key}",
                args.predictions,
                prop_lines[pid],
            )
    report = score(key, proposed, negative=args.negative)
    if args.json:
        print(json.dumps(report.to_dict(), indent=1))
    else:
        sys.stdout.write(format_report(report))
    for label, count in report.warnings:
        print(
            f"warning: {count} prediction(s) of label {label!r}, which the key never uses",
            file=sys.stderr,
        )
    return 0
