"""Helpers shared by the CLI commands."""

from __future__ import annotations

import argparse
import sys

from anrc.data import FORMATS, read
from anrc.data.formats import report_skipped
from anrc.device import DEVICES
from anrc.errors import AnrcInputError
from anrc.inference.api import load
from anrc.inference.forms import FORMS
from anrc.models.trained import RunLoadError


def load_classifier(run_dir: str, device: str = "cpu", form: str = "fp32", tagger=None):
    """A :class:`~anrc.inference.api.RelationClassifier` on ``device`` (cpu, cuda, auto)
    predicting in ``form`` (anrc.inference.forms), extracting with ``tagger`` (default:
    the model's own); a bad run or an absent GPU is a one-line error."""

    try:
        return load(run_dir, device, form, tagger)  # no GPU: a one-line error
    except RunLoadError as err:
        raise AnrcInputError(str(err)) from None


def utf8_stdout():
    """Standard output, written in UTF-8 whatever the locale says, as ``--output`` files
    are (JSON lines must be UTF-8, RFC 8259, and now hold non-ASCII words unescaped: a
    Latin-1 terminal would otherwise stop the run with a UnicodeEncodeError)."""
    reconfigure = getattr(sys.stdout, "reconfigure", None)  # None: not a text file
    if reconfigure and sys.stdout.encoding.lower().replace("-", "") != "utf8":
        reconfigure(encoding="utf-8")
    return sys.stdout


def add_model_argument(p: argparse.ArgumentParser, name: str = "model") -> None:
    """The positional model: a trained run directory or a shipped model's name."""
    p.add_argument(
        name, help="a trained run directory, or a shipped model (anrc models lists them)"
    )


def add_device_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--device", choices=DEVICES, default="cpu", help="where the model runs (auto: a GPU if any)"
    )


def add_form_option(p: argparse.ArgumentParser, default: str) -> None:
    p.add_argument(
        "--form",
        choices=FORMS,
        default=default,
        help="how predictions run on the CPU: auto takes the fastest form this CPU and model "
        "offer within 0.3 F1 of fp32 (onnx-int8 where the model ships it, else bf16 where "
        "the CPU multiplies bf16, else fp32); fp32 gives the stored weights' own answers",
    )


def add_data_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=FORMATS.choices(), help="default: from the file")
    p.add_argument("--negative", default="Other", help="name of the negative class")
    p.add_argument(
        "--skip-invalid", action="store_true", help="skip malformed examples and count them"
    )


def read_for_cli(args: argparse.Namespace, path: str):
    res = read(path, fmt=args.format, negative=args.negative, skip_invalid=args.skip_invalid)
    report_skipped(res, path, sys.stderr, first=20)
    return res.examples


def add_set_option(p: argparse.ArgumentParser, help: str) -> None:
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help=help)
