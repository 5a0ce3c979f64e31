"""``anrc score``: the official SemEval-2010 Task 8 scorer, on a prediction file or on a
grid's archive (every run's test predictions, or one of them)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from anrc.data.answers import parse_answers, read_answers
from anrc.errors import AnrcInputError
from anrc.experiments.archive import member, members
from anrc.metrics.report import format_report
from anrc.metrics.scorer import score


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "score",
        help="score predictions with the official SemEval-2010 Task 8 metric",
        description="PREDICTIONS is an ID<TAB>LABEL file, a grid's runs.tar.xz (every "
        "test_predictions.txt in it is scored, a line each), or ARCHIVE:MEMBER (one file "
        "of it, e.g. runs.tar.xz:runs/at/seed1/test_predictions.txt).",
    )
    p.add_argument("predictions", help="ID<TAB>LABEL file, runs.tar.xz, or runs.tar.xz:MEMBER")
    p.add_argument("key", help="answer key, ID<TAB>LABEL file")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.add_argument("--negative", default="Other", help="name of the negative class")
    p.set_defaults(func=run)


def _check_ids(proposed: dict, lines: dict, key: dict, where: str, key_path: str) -> None:
    for pid in proposed:
        if pid not in key:
            raise AnrcInputError(
                f"prediction id {pid!r} is not in the answer key {key_path}", where, lines[pid]
            )


def _score_archive(args: argparse.Namespace, key: dict) -> int:
    """Every run's test predictions in a grid archive: official F1 and accuracy, a line each."""

    rows = []
    for name, text in members(Path(args.predictions)):
        where = f"{args.predictions}:{name}"
        proposed, lines = parse_answers(text.splitlines(), where)
        _check_ids(proposed, lines, key, where, args.key)
        report = score(key, proposed, negative=args.negative)
        rows.append({"run": name.rsplit("/", 1)[0], "official_f1": report.official_f1})
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        for r in rows:
            print(f"{r['official_f1']:6.2f}  {r['run']}")
    return 0


def _proposed(path: str) -> tuple[dict, dict, str]:
    """(id -> label, id -> line, where) of a prediction file or of ``ARCHIVE:MEMBER``."""

    archive, sep, name = path.partition(".tar.xz:")
    if not sep:
        return (*read_answers(path), path)
    try:
        text = member(Path(archive + ".tar.xz"), name)
    except (OSError, ValueError) as err:
        raise AnrcInputError(str(err)) from None
    return (*parse_answers(text.splitlines(), path), path)


def run(args: argparse.Namespace) -> int:
    key, _ = read_answers(args.key)
    if args.predictions.endswith(".tar.xz"):
        if not Path(args.predictions).is_file():
            raise AnrcInputError("no such file", args.predictions)
        return _score_archive(args, key)
    proposed, lines, where = _proposed(args.predictions)
    _check_ids(proposed, lines, key, where, args.key)
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
