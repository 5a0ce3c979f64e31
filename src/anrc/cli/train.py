"""``anrc train``: train a model into a run directory."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from anrc.adversarial.methods import METHODS
from anrc.builder import load_config
from anrc.cli.common import add_set_option
from anrc.errors import AnrcInputError
from anrc.experiments.archive import restore_run
from anrc.metrics.report import official_line
from anrc.models.encoders import ENCODERS
from anrc.models.heads import HEADS
from anrc.models.pooling import POOLERS
from anrc.training.checkpoint import CheckpointError
from anrc.training.distill import teacher_dirs
from anrc.training.distributed import init_world
from anrc.training.loop import Interrupted, resume_config, train
from anrc.training.step import NonFiniteLoss


def _registered() -> str:
    """The names a config may choose, from the registries (nothing typed here)."""

    return (
        f"model.encoder: {', '.join(ENCODERS.choices())}; model.head: "
        f"{', '.join(HEADS.choices())}; adversarial.method: {', '.join(METHODS.choices())}; "
        f"encoder.pooling parts: {', '.join(POOLERS.choices())}. Each encoder's settings "
        "(the [encoder] section): anrc train --show-config --set model.encoder=NAME; each "
        "method's (the [method] section): --show-config --set adversarial.method=NAME"
    )


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train", help="train a model; writes a run directory", description=_registered()
    )
    p.add_argument("--config", help="TOML file (configs/anrc.toml is the paper)")
    add_set_option(p, "override a setting, e.g. --set adversarial.epsilon=2.0")
    p.add_argument("--out", required=False, default="runs/anrc", help="run directory")
    p.add_argument("--show-config", action="store_true", help="print every setting and exit")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted run")
    p.add_argument(
        "--augment",
        metavar="FILE",
        help="extra training examples, e.g. an attack's augment.jsonl (data.augment)",
    )
    p.add_argument(
        "--skip-invalid",
        action="store_true",
        help="skip malformed examples in the data files, counted (data.skip_invalid)",
    )
    p.add_argument(
        "--force", action="store_true", help="train into a run directory that holds a finished run"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cfg = _config(args)
    if args.show_config:
        print(cfg.describe())
        return 0
    if not args.resume and not args.force and (Path(args.out) / "scores.json").is_file():
        raise AnrcInputError(
            "holds a finished run; choose another --out, or add --force to overwrite it", args.out
        )
    out = Path(args.resume or args.out)
    existed = out.exists()
    try:
        return train_and_report(cfg, out, bool(args.resume))
    finally:
        if not existed and out.is_dir() and not any(out.iterdir()):
            out.rmdir()  # a run that failed before writing anything leaves no empty folder


def _config(args: argparse.Namespace):
    try:
        if args.resume:
            if args.config or args.set or args.augment:
                raise ValueError(
                    "--resume continues a run with its saved config.toml; "
                    "it takes no --config or --set"
                )
            return resume_config(args.resume)
        extra = [f"data.augment={args.augment}"] if args.augment else []
        extra += ["data.skip_invalid=true"] if args.skip_invalid else []
        return load_config(args.config, [*args.set, *extra])
    except (ValueError, TypeError, OSError) as err:
        raise AnrcInputError(str(err), args.config) from None


def train_and_report(cfg, out: Path, resume: bool) -> int:
    """Train (or resume) into ``out`` and print its summary and official line; the exit
    status (a bad checkpoint a one-line error, a non-finite loss 1, an interruption 130)."""
    for teacher in teacher_dirs(cfg.train.teacher):
        if restore_run(teacher):  # a committed grid's run: its archive holds it
            print(f"teacher {teacher}: extracted from its grid's archive", file=sys.stderr)
    try:
        summary = train(cfg, out, resume=resume)
    except CheckpointError as err:
        raise AnrcInputError(str(err)) from None
    except NonFiniteLoss as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except Interrupted as err:
        print(str(err), file=sys.stderr)
        return 130
    if not init_world().main:  # torchrun: process 0 reports
        return 0
    _report(summary, cfg.data.negative)
    return 0


def _report(summary: dict, negative: str = "Other") -> None:
    """The run's summary as JSON, the selected epoch, and the official line."""
    print(json.dumps(summary, indent=1))
    if "test_f1" in summary:
        selection = summary.get("selection", summary)
        why = (
            f"best dev F1 {selection['dev_f1']:.2f}"
            if "dev_f1" in selection
            else "no dev split: the last epoch"
        )
        print(
            f"selected epoch {selection['selected_epoch']} ({why})"
            + (", refit on all training data" if "selection" in summary else "")
        )
        print(
            official_line(
                summary["test_f1"],
                summary.get("relations", 9),
                summary.get("directed_labels", True),
                negative=negative if summary.get("negative_class", True) else None,
            )
        )
