"""Model commands of the CLI: train, evaluate, predict."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .errors import AnrcInputError


def _cmd_train(args: argparse.Namespace) -> int:
    from .checkpoint import CheckpointError
    from .config import load_config
    from .train import NonFiniteLoss
    from .trainer import Interrupted, resume_config, train

    try:
        if args.resume:
            if args.config or args.set or args.augment:
                raise ValueError(
                    "--resume continues a run with its saved config.toml; "
                    "it takes no --config or --set"
                )
            cfg = resume_config(args.resume)
        else:
            extra = [f"data.augment={args.augment}"] if args.augment else []
            cfg = load_config(args.config, [*args.set, *extra])
    except (ValueError, TypeError, OSError) as err:
        raise AnrcInputError(str(err), args.config) from None
    if args.show_config:
        print(cfg.describe())
        return 0
    try:
        summary = train(cfg, args.resume or args.out, resume=bool(args.resume))
    except CheckpointError as err:
        raise AnrcInputError(str(err)) from None
    except NonFiniteLoss as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except Interrupted as err:
        print(str(err), file=sys.stderr)
        return 130
    print(json.dumps(summary, indent=1))
    if "test_f1" in summary:
        from .scorer_report import official_line

        print(f"selected epoch {summary['selected_epoch']} (best dev F1 {summary['dev_f1']:.2f})")
        print(official_line(summary["test_f1"]))
    return 0


def _load(run_dir: str):
    from .runio import RunLoadError, load_run

    try:
        return load_run(run_dir)
    except RunLoadError as err:
        raise AnrcInputError(str(err)) from None


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from .answers import write_answers
    from .data import read
    from .inference import predict_labels
    from .scorer import score
    from .scorer_report import format_report

    cfg, model, vocab, labels = _load(args.run_dir)
    path = args.data or cfg.data.test
    if not path:
        raise AnrcInputError("no --data given and the run has no test file")
    examples = read(path, negative=labels.negative, labelled=True).examples
    preds = predict_labels(model, vocab, labels, examples, cfg.model.max_distance)
    report = score(
        {ex.id: ex.label for ex in examples},
        {ex.id: p for ex, p in zip(examples, preds, strict=True)},
        labels.negative,
    )
    if args.predictions:
        write_answers(((ex.id, p) for ex, p in zip(examples, preds, strict=True)), args.predictions)
    if args.json:
        print(json.dumps(report.to_dict(), indent=1))
    else:
        sys.stdout.write(format_report(report))
    return 0


def _cmd_predict(args: argparse.Namespace) -> int:
    from .api import RelationClassifier
    from .predict_stream import completed_records, predict_stream

    clf = RelationClassifier(*_load(args.run_dir))
    if args.resume and not args.output:
        raise AnrcInputError("--resume needs --output (the file to continue)")
    if not args.output:
        return predict_stream(clf, args.input, sys.stdout, args.json, args.batch_size)
    out_path = Path(args.output)
    done = completed_records(out_path) if args.resume else 0
    with open(out_path, "a" if args.resume else "w", encoding="utf-8") as out:
        rc = predict_stream(clf, args.input, out, args.json, args.batch_size, skip_records=done)
    if done:
        print(f"resumed after {done} lines already in {out_path}", file=sys.stderr)
    return rc


def _cmd_experiment(args: argparse.Namespace) -> int:
    import shlex

    from .exp_report import write_report
    from .experiment import load_grid, run_grid

    try:
        grid = load_grid(args.name)
    except (ValueError, KeyError) as err:
        raise AnrcInputError(str(err)) from None
    if args.seeds:
        grid.seeds = list(range(1, args.seeds + 1))
    out = Path(args.out)
    try:
        if args.report_only:
            from .experiment import grid_runs

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


def add_model_commands(sub: argparse._SubParsersAction) -> None:
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
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra override for every run",
    )
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
    p.set_defaults(func=_cmd_experiment)

    p = sub.add_parser("train", help="train a model; writes a run directory")
    p.add_argument("--config", help="TOML file (configs/anrc.toml is the paper)")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a setting, e.g. --set adversarial.epsilon=0.05",
    )
    p.add_argument("--out", required=False, default="runs/anrc", help="run directory")
    p.add_argument("--show-config", action="store_true", help="print every setting and exit")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted run")
    p.add_argument(
        "--augment",
        metavar="FILE",
        help="extra training examples, e.g. an attack's augment.jsonl (data.augment)",
    )
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("evaluate", help="official report of a trained run on a labelled file")
    p.add_argument("run_dir")
    p.add_argument("--data", help="labelled file (default: the run's test file)")
    p.add_argument("--predictions", help="also write ID<TAB>LABEL predictions here")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("predict", help="label tagged sentences (one a line) or JSON lines")
    p.add_argument("run_dir")
    p.add_argument("--input", default="-", help="file, or - for standard input")
    p.add_argument("--json", action="store_true", help="all label probabilities and attention")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--output", help="write here instead of standard output")
    p.add_argument(
        "--resume",
        action="store_true",
        help="with --output: skip input lines whose results are already written",
    )
    p.set_defaults(func=_cmd_predict)
