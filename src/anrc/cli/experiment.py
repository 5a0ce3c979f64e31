"""``anrc experiment``: run a grid of training runs and write its report."""

from __future__ import annotations

import argparse
from pathlib import Path

from anrc.cli.common import add_set_option
from anrc.errors import AnrcInputError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("experiment", help="run a grid of training runs from experiments/NAME.toml")
    p.add_argument("name", help="experiments/NAME.toml, or a path to a grid file")
    p.add_argument("--out", required=True, help="folder for the runs and the report")
    p.add_argument("--seeds", type=int, help="use seeds 1..N instead of the grid's")
    p.add_argument("--jobs", type=int, default=1, help="runs at a time (threads are shared)")
    p.add_argument(
        "--threads",
        type=int,
        default=0,
        help="torch threads per run (default: the cores divided by --jobs); part of a "
        "run's configuration, so --reuse only matches runs with the same number",
    )
    add_set_option(p, "extra override for every run")
    p.add_argument("--bootstrap", type=int, default=1000, help="paired-bootstrap resamples")
    p.add_argument(
        "--report-only",
        action="store_true",
        help="write the report from the runs finished so far; train and attack nothing",
    )
    p.add_argument(
        "--reuse",
        action="append",
        default=[],
        metavar="DIR",
        help="copy finished runs with the identical configuration from here instead of training",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import shlex

    from anrc.experiments.grid import load_grid, run_grid
    from anrc.experiments.report import write_report

    try:
        grid = load_grid(args.name)
    except (ValueError, KeyError) as err:
        raise AnrcInputError(str(err)) from None
    if args.seeds:
        grid.seeds = list(range(1, args.seeds + 1))
    out = Path(args.out)
    try:
        if args.report_only:
            from anrc.experiments.grid import grid_runs

            if not out.is_dir():
                raise ValueError(f"{out}: no such experiment folder")
            runs = grid_runs(grid, out, args.set)
        else:
            runs = run_grid(
                grid,
                out,
                args.jobs,
                args.set,
                reuse=[Path(r) for r in args.reuse],
                threads=args.threads,
            )
    except ValueError as err:
        raise AnrcInputError(str(err)) from None
    parts = ["anrc", "experiment", args.name, "--out", args.out, "--jobs", str(args.jobs)]
    if args.seeds:
        parts += ["--seeds", str(args.seeds)]
    for o in args.set:
        parts += ["--set", o]
    if args.threads:
        parts += ["--threads", str(args.threads)]
    for r in args.reuse:
        parts += ["--reuse", r]
    command = " ".join(shlex.quote(p) for p in parts)
    summary = write_report(grid, runs, out, command, args.bootstrap)
    print(f"{out / 'report.md'}: {summary['finished']} of {summary['runs']} runs finished")
    return 0 if summary["finished"] == summary["runs"] else 1
