"""``anrc predict``: label tagged sentences or JSON lines, streaming."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from anrc.cli.common import add_device_option, add_form_option, load_classifier, utf8_stdout
from anrc.errors import AnrcInputError
from anrc.inference.stream import completed_records, predict_stream


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("predict", help="label tagged sentences (one a line) or JSON lines")
    p.add_argument(
        "run_dir", help="a trained run directory, or a shipped model (anrc models lists them)"
    )
    p.add_argument("--input", default="-", help="file, or - for standard input")
    p.add_argument("--json", action="store_true", help="all label probabilities and attention")
    p.add_argument(
        "--batch-size",
        type=int,
        help="sentences per forward pass (default: the model's own, 32 for a transformer, "
        "256 for the others: the fastest measured)",
    )
    p.add_argument("--output", help="write here instead of standard output")
    p.add_argument(
        "--resume",
        action="store_true",
        help="with --output: skip input lines whose results are already written",
    )
    add_device_option(p)
    add_form_option(p, "auto")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    clf = load_classifier(args.run_dir, args.device, args.form)
    if args.resume and not args.output:
        raise AnrcInputError("--resume needs --output (the file to continue)")
    if not args.output:
        return predict_stream(clf, args.input, utf8_stdout(), args.json, args.batch_size)
    out_path = Path(args.output)
    done = completed_records(out_path) if args.resume else 0
    with open(out_path, "a" if args.resume else "w", encoding="utf-8") as out:
        rc = predict_stream(clf, args.input, out, args.json, args.batch_size, skip_records=done)
    if done:
        print(f"resumed after {done} lines already in {out_path}", file=sys.stderr)
    return rc
