"""``anrc store``: keep a trained run's answers beside it
(``RUN_DIR/probabilities.jsonl.gz``), so that it can teach or join an ensemble after its
weights are gone."""

from __future__ import annotations

import argparse

import torch

from anrc.errors import AnrcInputError
from anrc.inference.stored import STORED, store_run
from anrc.models.trained import RunLoadError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "store",
        help="store a run's probabilities beside it, to teach or ensemble without its weights",
        description=f"Writes RUN_DIR/{STORED}: the stored weights' own (fp32) probabilities "
        "of every sentence of the run's training file (its dev split included) and test "
        "file, read back and compared bit for bit before it counts. A run folder with it "
        "and no weights still joins anrc ensemble and teaches through train.teacher "
        "(a teacher reads the training sentences' alone). anrc experiment "
        "--store-probabilities does it for every run of a grid.",
    )
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="trained run directories")
    p.add_argument(
        "--data", action="append", default=[], metavar="NAME=FILE",
        help="store these files instead of the run's own (repeatable)",
    )  # fmt: skip
    p.add_argument("--batch-size", type=int, default=64, help="sentences a forward pass")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.set_defaults(func=run)


def _files(given: list[str]) -> dict[str, str] | None:
    if not given:
        return None
    bad = [g for g in given if "=" not in g or not g.split("=", 1)[0]]
    if bad:
        raise AnrcInputError(f"--data {bad[0]!r}: expected NAME=FILE")
    return dict(g.split("=", 1) for g in given)


def run(args: argparse.Namespace) -> int:
    files = _files(args.data)
    if args.batch_size < 1 or args.threads < 0:
        raise AnrcInputError("--batch-size must be >= 1 and --threads >= 0")
    if args.threads:
        torch.set_num_threads(args.threads)
    for run_dir in args.run_dirs:
        try:
            print(store_run(run_dir, files, args.batch_size), flush=True)
        except RunLoadError as err:  # one line, and the runs before it stay stored
            raise AnrcInputError(str(err)) from None
    return 0
