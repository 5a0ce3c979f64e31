"""``anrc experiment``: run a grid of training runs and write its report."""

from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path

from anrc.cli.common import add_set_option
from anrc.errors import AnrcInputError
from anrc.experiments.grid import load_grid
from anrc.experiments.status import grid_status


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "experiment",
        help="run a grid of training runs from experiments/NAME.toml",
        description="The runs go through an Optuna study (a queue in SQLite beside the runs, "
        "or any database with --storage), so several workers, on one machine or several "
        "sharing the folder, can run one grid, and an interrupted grid resumes.",
    )
    p.add_argument("name", help="experiments/NAME.toml, or a path to a grid file")
    p.add_argument("--out", required=True, help="folder for the runs and the report")
    p.add_argument("--seeds", type=int, help="use seeds 1..N instead of the grid's")
    add_set_option(p, "extra override for every run")
    p.add_argument("--bootstrap", type=int, default=1000, help="paired-bootstrap resamples")
    p.add_argument(
        "--report-only",
        action="store_true",
        help="write the report from the runs finished so far; train and attack nothing",
    )
    p.add_argument(
        "--status",
        action="store_true",
        help="say where each run stands (finished with its dev F1, running now, stopped at "
        "a checkpoint, waiting) from the folder alone; trains nothing and rewrites no report",
    )
    p.add_argument(
        "--reuse",
        action="append",
        default=[],
        metavar="DIR",
        help="copy finished runs with the identical configuration from here instead of training",
    )
    p.add_argument(
        "--store-probabilities",
        action="store_true",
        help="after each run, keep its answers beside it (anrc store: probabilities.jsonl.gz, "
        "which runs.tar.xz carries), so that it can teach or join the ensemble on a machine "
        "without its weights",
    )
    _add_scheduling(p)
    p.set_defaults(func=run)


def _add_scheduling(p: argparse.ArgumentParser) -> None:
    """How the runs are run: how many at once, their threads, a deadline, which ones, the
    queue the workers share."""
    p.add_argument("--jobs", type=int, default=1, help="runs at a time (threads are shared)")
    p.add_argument(
        "--threads",
        type=int,
        default=0,
        help="torch threads per run (default: the cores divided by --jobs); part of a "
        "run's configuration, so --reuse only matches runs with the same number",
    )
    p.add_argument(
        "--deadline",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="stop the runs in progress after this long (they checkpoint and resume on the "
        "next call) and write the report of what finished; 0 = none",
    )
    p.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="PATTERN",
        help="run only the runs whose folder under runs/ matches PATTERN (shell-style, "
        "e.g. 'free/*' or '*/seed2'; repeatable); the others wait for a later call, and "
        "the report covers every finished run",
    )
    p.add_argument(
        "--storage",
        default="",
        metavar="URL",
        help="the Optuna storage the workers share (an SQLAlchemy URL, e.g. "
        "postgresql://host/db); default: sqlite in --out",
    )
    p.add_argument(
        "--heartbeat",
        type=int,
        default=30,
        metavar="SECONDS",
        help="a worker's heartbeat; a run whose worker is silent 3 times as long is retried",
    )


def _command(args: argparse.Namespace) -> str:
    parts = ["anrc", "experiment", args.name, "--out", args.out, "--jobs", str(args.jobs)]
    if args.seeds:
        parts += ["--seeds", str(args.seeds)]
    for o in args.set:
        parts += ["--set", o]
    if args.threads:
        parts += ["--threads", str(args.threads)]
    for r in args.reuse:
        parts += ["--reuse", r]
    if args.storage:  # the rerun must reach the same queue (its password hidden)
        from anrc.experiments.engine import redact  # start-up: optuna

        parts += ["--storage", redact(args.storage)]
    return " ".join(shlex.quote(p) for p in parts)


def _recorded_command(out: Path) -> str | None:
    """The command an earlier report of OUT recorded (None: no readable one)."""
    try:
        return json.loads((out / "summary.json").read_text()).get("command")
    except (OSError, ValueError, AttributeError):
        return None


def _status(grid, out: Path, args: argparse.Namespace) -> int:
    from anrc.experiments.runner import Options  # start-up: optuna

    if not out.is_dir():
        raise AnrcInputError("no such experiment folder", str(out))
    chosen = Options(only=tuple(args.only)).chosen
    try:
        print("\n".join(grid_status(grid, out, list(args.set), chosen)))
    except ValueError as err:
        raise AnrcInputError(str(err)) from None
    return 0


def run(args: argparse.Namespace) -> int:
    from anrc.experiments.runner import Options, run_experiment  # start-up: optuna

    try:
        grid = load_grid(args.name)
    except (ValueError, KeyError) as err:
        raise AnrcInputError(str(err)) from None
    if args.seeds:
        grid.seeds = list(range(1, args.seeds + 1))
    if args.jobs < 1 or args.heartbeat < 1 or args.deadline < 0:
        raise AnrcInputError("--jobs and --heartbeat must be >= 1, --deadline >= 0")
    out = Path(args.out)
    if args.status:
        return _status(grid, out, args)
    opts = Options(
        jobs=args.jobs, threads=args.threads, extra=tuple(args.set),
        reuse=tuple(Path(r) for r in args.reuse), storage=args.storage,
        heartbeat=args.heartbeat, deadline=args.deadline, only=tuple(args.only),
        store=args.store_probabilities,
    )  # fmt: skip
    command = _command(args)
    if args.report_only:  # the report keeps the command that ran the grid
        command = _recorded_command(out) or command
    try:
        summary = run_experiment(grid, out, opts, command, args.bootstrap, args.report_only)
    except ValueError as err:
        raise AnrcInputError(str(err)) from None
    print(f"{out / 'report.md'}: {summary['finished']} of {summary['runs']} runs finished")
    return 0 if summary["finished"] == summary["runs"] else 1
