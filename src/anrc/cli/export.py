"""``anrc export``: a trained run as an ONNX graph for onnxruntime."""

from __future__ import annotations

import argparse
import sys

from anrc.export.onnx_export import QUANTIZE, export_here


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export a trained run to ONNX (every encoder)")
    p.add_argument(
        "run_dir", help="a trained run directory, or a shipped model (anrc models lists them)"
    )
    p.add_argument("--onnx", required=True, metavar="OUT", help="the .onnx file to write")
    p.add_argument(
        "--quantize",
        choices=QUANTIZE,
        default="none",
        help="int8: onnxruntime's dynamic int8 quantisation (smaller, faster on CPUs; "
        "benchmarks/bench_forms.py measures its accuracy)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    done = export_here(args.run_dir, args.onnx, args.quantize)  # this process is fresh
    print(
        f"{done.describe()}; vocabulary and labels stay in {args.run_dir}: "
        "anrc.export.onnx_export.OnnxClassifier reads both",
        file=sys.stderr,
    )
    return 0
