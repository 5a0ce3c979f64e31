"""``anrc package``: a trained run as a named model folder with its card."""

from __future__ import annotations

import argparse
import sys

from anrc.export.package import package_run, read_about
from anrc.models.weights import WEIGHT_STORAGE


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "package",
        help="a trained run as a named model: compact weights, its own test report, a card",
    )
    p.add_argument("run_dir", help="the trained run directory to package")
    p.add_argument("--name", required=True, help="the model's name (anrc.load(NAME) once shipped)")
    p.add_argument("--out", help="the folder to write (default: ./NAME)")
    p.add_argument(
        "--weights",
        choices=WEIGHT_STORAGE,
        default="int8-embeddings",
        help="how the weights are stored: int8-embeddings keeps the layers in fp16 and the "
        "embedding tables as int8 rows (the test report says how many answers that changed)",
    )
    p.add_argument(
        "--about",
        metavar="TOML",
        help="prose for the card: chosen (how the configuration was chosen), rebuild, data, "
        "limits (a list)",
    )
    p.add_argument("--data", help="the labelled test file to score (default: the run's)")
    p.add_argument(
        "--onnx",
        action="store_true",
        help="also write model.int8.onnx, the int8 ONNX form that anrc.load(form='auto') "
        "takes where onnxruntime is installed, and score it (needs the export extra)",
    )
    p.add_argument("--force", action="store_true", help="replace a non-empty --out")
    p.add_argument("--tagger", metavar="DIR",
                   help="the mention tagger anrc extract uses with it (a folder, copied in, or "
                   "a shipped tagger's name); default: the run's own, if any")  # fmt: skip
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out = args.out or args.name
    prov = package_run(
        args.run_dir, out, args.name, args.weights, read_about(args.about), args.data, args.force,
        args.onnx, args.tagger,
    )  # fmt: skip
    print(
        f"{out}: {args.name}, {prov['weights']} weights, the same test answer as the run on "
        f"{prov['agreement']['same']:,} of {prov['agreement']['total']:,} sentences; "
        f"card {out}/MODEL_CARD.md",
        file=sys.stderr,
    )
    return 0
