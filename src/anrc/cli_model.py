"""Model commands of the CLI: train, evaluate, predict."""

from __future__ import annotations

import argparse
import json
import sys

from .errors import AnrcInputError


def _cmd_train(args: argparse.Namespace) -> int:
    from .config import load_config
    from .train import NonFiniteLoss, train

    try:
        cfg = load_config(args.config, args.set)
    except (ValueError, TypeError, OSError) as err:
        raise AnrcInputError(str(err), args.config) from None
    if args.show_config:
        print(cfg.describe())
        return 0
    try:
        summary = train(cfg, args.out)
    except NonFiniteLoss as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
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
    from .predict_stream import predict_stream

    clf = RelationClassifier(*_load(args.run_dir))
    return predict_stream(
        clf, args.input, sys.stdout, as_json=args.json, batch_size=args.batch_size
    )


def add_model_commands(sub: argparse._SubParsersAction) -> None:
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
    p.set_defaults(func=_cmd_predict)
