"""``anrc extract``: relations from raw text (no entity tags), streaming."""

from __future__ import annotations

import argparse
from pathlib import Path

from anrc.cli.common import (
    add_device_option,
    add_form_option,
    add_model_argument,
    load_classifier,
    utf8_stdout,
)
from anrc.errors import AnrcInputError
from anrc.extraction import DECODINGS, Options
from anrc.extraction.mentions import source_choices
from anrc.inference.extract_stream import extract_stream
from anrc.inference.stream import completed_records

DEFAULTS = Options()


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "extract",
        help='find relations in raw text (one text a line, or JSON lines with "text")',
        description="Each line's sentences, candidate mentions and every candidate pair in "
        "both orders, classified; JSON lines out, one per input line, with character "
        "offsets of both mentions, the label, the label read as a sentence and its score.",
    )
    add_model_argument(p)
    _add_io_options(p)
    _add_extraction_options(p.add_argument_group("finding and decoding the relations"))
    add_device_option(p)
    add_form_option(p, "auto")
    p.set_defaults(func=run)


def _add_io_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--input", default="-", help="file, or - for standard input")
    p.add_argument("--out", help="write here instead of standard output")
    p.add_argument("--resume", action="store_true", help="with --out: skip lines already done")


def _add_extraction_options(g) -> None:
    """One option per field of :class:`anrc.extraction.Options`, its default from there."""
    g.add_argument("--source", choices=source_choices(), default=DEFAULTS.source,
                   help="where candidate mentions come from: auto is the model's mention "
                   "tagger when it has one (the shipped models do), else words")  # fmt: skip
    g.add_argument("--tagger", metavar="DIR",
                   help="a mention tagger (anrc train-tagger's folder, or a shipped "
                   "tagger's name) instead of the model's own")  # fmt: skip
    g.add_argument("--mentions", type=int, default=DEFAULTS.mentions,
                   help="mentions the tagger keeps a sentence (0: its own, chosen on dev)")  # fmt: skip
    g.add_argument("--window", type=int, default=DEFAULTS.window,
                   help="most tokens between the two mentions of a pair (0: any)")  # fmt: skip
    g.add_argument("--decoding", choices=DECODINGS.choices(), default=DEFAULTS.decoding,
                   help="threshold: every ordered pair on its own; pair: at most one relation "
                   "per pair of mentions; sentence: the best pair of each sentence (default: "
                   "pair for a model trained with data.negatives, else sentence)")  # fmt: skip
    g.add_argument("--threshold", type=float, default=DEFAULTS.threshold,
                   help="least probability of a relation that is reported (default: the "
                   "model's calibrated threshold, anrc calibrate, else 0.5)")  # fmt: skip
    g.add_argument("--with-negative", action="store_true",
                   help="also report pairs decoded as the negative class (Other)")  # fmt: skip
    g.add_argument("--no-prior", action="store_true",
                   help="sentence decoding: rank pairs by the label's probability alone, "
                   "not times the tagger's scores of both mentions")  # fmt: skip
    g.add_argument("--one-sentence", action="store_true",
                   help="each input text is one sentence: do not split it")  # fmt: skip


def _options(args: argparse.Namespace) -> dict:
    if args.window < 0:
        raise AnrcInputError("--window must be 0 (any) or more tokens")
    if args.mentions < 0 or args.mentions == 1:
        raise AnrcInputError("--mentions must be 0 (the tagger's own) or 2 or more")
    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        raise AnrcInputError("--threshold is a probability, from 0 to 1")
    return {"source": args.source, "mentions": args.mentions, "window": args.window, "decoding": args.decoding,
            "threshold": args.threshold, "with_negative": args.with_negative,
            "prior": not args.no_prior, "split": not args.one_sentence}  # fmt: skip


def run(args: argparse.Namespace) -> int:
    options = _options(args)
    if args.resume and not args.out:
        raise AnrcInputError("--resume needs --out (the file to continue)")
    clf = load_classifier(args.model, args.device, args.form, args.tagger)
    if not args.out:
        return extract_stream(clf, args.input, utf8_stdout(), options)
    path = Path(args.out)
    done = completed_records(path) if args.resume else 0
    with open(path, "a" if args.resume else "w", encoding="utf-8") as out:
        return extract_stream(clf, args.input, out, options, skip_records=done)
