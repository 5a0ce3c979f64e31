"""``anrc evaluate``: the official report of a trained run on a labelled file."""

from __future__ import annotations

import argparse
import json
import sys

from anrc.cli.common import add_device_option, add_form_option, load_classifier
from anrc.data import read
from anrc.data.answers import write_answers
from anrc.data.formats import report_skipped
from anrc.errors import AnrcInputError
from anrc.metrics.report import format_report
from anrc.metrics.scorer import score


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="official report of a trained run on a labelled file")
    p.add_argument(
        "run_dir", help="a trained run directory, or a shipped model (anrc models lists them)"
    )
    p.add_argument("--data", help="labelled file (default: the run's test file)")
    p.add_argument("--predictions", help="also write ID<TAB>LABEL predictions here")
    p.add_argument("--json", action="store_true", help="print the full report as JSON")
    p.add_argument("--skip-invalid", action="store_true", help="skip malformed examples, counted")
    add_device_option(p)
    add_form_option(p, "fp32")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    clf = load_classifier(args.run_dir, args.device, args.form)
    path = args.data or clf.config.data.test
    if not path:
        raise AnrcInputError("no --data given and the run has no test file")
    res = read(path, negative=clf.labels.negative, labelled=True, skip_invalid=args.skip_invalid)
    report_skipped(res, path, sys.stderr)
    examples = res.examples
    preds = clf.predict_labels(examples, show_progress="evaluate")
    report = score(
        {ex.id: ex.label for ex in examples},
        {ex.id: p for ex, p in zip(examples, preds, strict=True)},
        clf.labels.negative,
    )
    if args.predictions:
        write_answers(((ex.id, p) for ex, p in zip(examples, preds, strict=True)), args.predictions)
    if args.json:
        print(json.dumps(report.to_dict(), indent=1))
    else:
        sys.stdout.write(format_report(report))
    return 0
