"""The ``anrc`` command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from . import __version__
from .errors import AnrcInputError


def _cmd_score(args: argparse.Namespace) -> int:
    from .answers import read_answers
    from .scorer import score
    from .scorer_report import format_report

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


def _read_for_cli(args: argparse.Namespace, path: str):
    from .data import read

    res = read(path, fmt=args.format, negative=args.negative, skip_invalid=args.skip_invalid)
    if res.skipped:
        for err in res.errors[:20]:
            print(f"skipped: {err}", file=sys.stderr)
        print(f"{path}: skipped {res.skipped} invalid example(s)", file=sys.stderr)
    return res.examples


def _cmd_stats(args: argparse.Namespace) -> int:
    from .stats import dataset_stats, format_stats

    examples = _read_for_cli(args, args.file)
    stats = dataset_stats(examples)
    if args.json:
        print(json.dumps(stats, indent=1))
    else:
        sys.stdout.write(format_stats(stats, args.file))
    return 0


def _cmd_convert(args: argparse.Namespace) -> int:
    from .data import guess_format, write

    examples = _read_for_cli(args, args.input)
    out_fmt = args.to or guess_format(args.output)
    write(examples, args.output, out_fmt)
    print(f"wrote {len(examples)} examples to {args.output} ({out_fmt})", file=sys.stderr)
    return 0


def _add_data_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=["semeval", "jsonl"], help="default: from the suffix")
    p.add_argument("--negative", default="Other", help="name of the negative class")
    p.add_argument(
        "--skip-invalid", action="store_true", help="skip malformed examples and count them"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="anrc", description="Adversarial training for relation classification (ANRC)."
    )
    parser.add_argument("--version", action="version", version=f"anrc {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "score", help="score predictions with the official SemEval-2010 Task 8 metric"
    )
    p.add_argument("predictions", help="ID<TAB>LABEL file")
    p.add_argument("key", help="answer key, ID<TAB>LABEL file")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.add_argument("--negative", default="Other", help="name of the negative class")
    p.set_defaults(func=_cmd_score)

    data = sub.add_parser("data", help="inspect and convert datasets")
    dsub = data.add_subparsers(dest="data_command", required=True)
    p = dsub.add_parser("stats", help="examples, label distribution, lengths")
    p.add_argument("file")
    p.add_argument("--json", action="store_true")
    _add_data_options(p)
    p.set_defaults(func=_cmd_stats)
    p = dsub.add_parser("convert", help="SemEval format <-> JSON lines")
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--to", choices=["semeval", "jsonl"], help="default: from the output suffix")
    _add_data_options(p)
    p.set_defaults(func=_cmd_convert)

    from .cli_model import add_model_commands

    add_model_commands(sub)
    from .cli_attack import add_attack_command

    add_attack_command(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except AnrcInputError as err:
        print(str(err), file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except OSError as err:  # a file that cannot be opened or written: one line, no traceback
        where = f"{err.filename}: " if err.filename else ""
        print(f"{where}{err.strerror or err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
