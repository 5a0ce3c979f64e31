"""The ``anrc`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from anrc import __version__
from anrc.cli import (
    attack,
    data,
    ensemble,
    evaluate,
    experiment,
    predict,
    score,
    serve,
    train,
)
from anrc.errors import AnrcInputError

# One module per verb, each with register(subparsers) and a run function.
VERBS = (score, data, train, evaluate, predict, experiment, attack, ensemble, serve)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="anrc", description="Adversarial training for relation classification (ANRC)."
    )
    parser.add_argument("--version", action="version", version=f"anrc {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    for verb in VERBS:
        verb.register(sub)
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
