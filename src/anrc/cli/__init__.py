"""The ``anrc`` command line."""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence

from anrc.cli import (
    attack,
    calibrate,
    data,
    ensemble,
    evaluate,
    experiment,
    export,
    extract,
    fetch,
    models,
    package,
    predict,
    reproduce,
    score,
    serve,
    store,
    train,
    train_tagger,
)
from anrc.errors import AnrcInputError
from anrc.registry import did_you_mean
from anrc.version import __version__

# One module per verb, each with register(subparsers) and a run function.
VERBS = (
    score, data, train, train_tagger, evaluate, calibrate, predict, extract, models, experiment, attack, ensemble, store, reproduce, serve,
    export, package, fetch,
)  # fmt: skip


# An example for every command's --help (every name here must be a registered verb).
EXAMPLES = {
    "score": "anrc score runs/anrc/test_predictions.txt ../shared/data/semeval2010_task8/TEST_FILE_KEY.TXT",
    "data": "anrc data stats ../shared/data/semeval2010_task8/TRAIN_FILE.TXT",
    "stats": "anrc data stats TRAIN_FILE.TXT --skip-invalid",
    "convert": "anrc data convert TRAIN_FILE.TXT train.jsonl",
    "train": "anrc train --config configs/att-blstm.toml --out runs/att-blstm --set adversarial.method=fgm --set adversarial.epsilon=2.0   (the eps dev chose for the GloVe encoders; the paper's 0.02 is far too small for them: docs/results/at-methods.md)",
    "train-tagger": "anrc train-tagger --out runs/tagger --set tagger.epochs=20   (then anrc extract MODEL --tagger runs/tagger)",
    "calibrate": "anrc calibrate runs/transformer --report runs/transformer/calibration   (then anrc extract runs/transformer takes the fitted threshold)",
    "evaluate": "anrc evaluate runs/anrc --data ../shared/data/semeval2010_task8/TEST_FILE_FULL.TXT",
    "predict": "echo 'The <e1>singer</e1> caused a <e2>commotion</e2> .' | anrc predict runs/anrc",
    "extract": "echo 'The singer caused a commotion in the hall.' | anrc extract semeval",
    "experiment": "anrc experiment encoders --jobs 2 --threads 1 --out results/experiments/encoders",
    "attack": "anrc attack runs/anrc --method pgd --eps 0.1 0.5 --out runs/anrc/attack/pgd",
    "ensemble": "anrc ensemble runs/a runs/b runs/c --out runs/ensemble",
    "reproduce": "anrc reproduce results/experiments/NAME/runs/VARIANT/seed1 --out runs/again --store   (exit 0: bit for bit the same run)",
    "store": "anrc store runs/transformer   (then runs/transformer teaches or ensembles without model.safetensors)",
    "serve": "anrc serve runs/anrc --port 8000   (then open http://127.0.0.1:8000/)",
    "export": "anrc export runs/cnn --onnx cnn.onnx",
    "models": "anrc models",
    "package": "anrc package runs/x --name my-model --about about.toml (then anrc predict my-model)",
    "fetch": "anrc fetch all-mpnet-base-v2, then --set encoder.pretrained=all-mpnet-base-v2",
}


class _HelpFormatter(argparse.HelpFormatter):
    """Shows an option's default unless it is empty or the help text already says it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            "default" in text.lower()
            or default in (None, False, [], argparse.SUPPRESS)
            or not action.option_strings
        ):
            return text
        return text + " (default: %(default)s)"


def _polish(parser: argparse.ArgumentParser, name: str) -> None:
    """Defaults in --help and an example, on a command and its sub-commands."""
    parser.formatter_class = _HelpFormatter
    if name in EXAMPLES and not parser.epilog:
        parser.epilog = f"example: {EXAMPLES[name]}"
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                _polish(sub, sub_name)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="anrc", description="Adversarial training for relation classification (ANRC)."
    )
    parser.add_argument("--version", action="version", version=f"anrc {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    for verb in VERBS:
        verb.register(sub)
    for name, p in sub.choices.items():
        _polish(p, name)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A warning as one line on stderr (no source line, no location)."""
    print(f"warning: {message}", file=file or sys.stderr)


def _unknown_command(parser: argparse.ArgumentParser, argv: list[str]) -> str | None:
    """One line for a first argument that is no command (with the nearest one)."""
    if not argv or argv[0].startswith("-"):
        return None
    verbs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    if argv[0] in verbs:
        return None
    return (
        f"anrc: unknown command {argv[0]!r}{did_you_mean(argv[0], verbs)}; "
        f"commands: {', '.join(verbs)}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    warnings.showwarning = _show_warning
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    unknown = _unknown_command(parser, argv)
    if unknown:
        print(unknown, file=sys.stderr)
        return 2
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
