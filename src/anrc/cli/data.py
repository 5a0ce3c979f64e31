"""``anrc data stats`` and ``anrc data convert``."""

from __future__ import annotations

import argparse
import json
import sys

from anrc.cli.common import add_data_options, read_for_cli
from anrc.data import FORMATS, guess_format, write
from anrc.data.labels import LabelSet
from anrc.data.stats import dataset_stats, format_stats


def register(sub: argparse._SubParsersAction) -> None:
    data = sub.add_parser("data", help="inspect and convert datasets")
    dsub = data.add_subparsers(dest="data_command", required=True, help="what to do")
    p = dsub.add_parser("stats", help="examples, label distribution, lengths")
    p.add_argument("file", help="a data file (SemEval format or JSON lines)")
    p.add_argument("--json", action="store_true", help="print the statistics as JSON")
    add_data_options(p)
    p.set_defaults(func=stats)
    p = dsub.add_parser("convert", help="SemEval format <-> JSON lines")
    p.add_argument("input", help="the file to read")
    p.add_argument("output", help="the file to write (its format from --to or the suffix)")
    p.add_argument("--to", choices=FORMATS.choices(), help="default: from the output suffix")
    p.add_argument(
        "--rel2id",
        metavar="FILE",
        help="also write OpenNRE's rel2id.json (label -> id, the negative class 0) here",
    )
    add_data_options(p)
    p.set_defaults(func=convert)


def stats(args: argparse.Namespace) -> int:
    examples = read_for_cli(args, args.file)
    s = dataset_stats(examples)
    if args.json:
        print(json.dumps(s, indent=1))
    else:
        sys.stdout.write(format_stats(s, args.file))
    return 0


def convert(args: argparse.Namespace) -> int:
    examples = read_for_cli(args, args.input)
    out_fmt = args.to or guess_format(args.output)
    write(examples, args.output, out_fmt)
    print(f"wrote {len(examples)} examples to {args.output} ({out_fmt})", file=sys.stderr)
    if args.rel2id:
        labels = LabelSet.from_labels([ex.label for ex in examples if ex.label], args.negative)
        mapping = {lab: i for i, lab in enumerate(labels.labels)}
        with open(args.rel2id, "w", encoding="utf-8") as f:
            json.dump(mapping, f, indent=1)
        print(f"wrote {len(mapping)} labels to {args.rel2id}", file=sys.stderr)
    return 0
