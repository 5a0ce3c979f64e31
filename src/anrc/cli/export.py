"""``anrc export``: a trained run as an ONNX graph for onnxruntime."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export", help="export a trained run to ONNX (cnn, crcnn, anrc, att-blstm encoders)"
    )
    p.add_argument("run_dir", help="a trained run directory, or a shipped model")
    p.add_argument("--onnx", required=True, metavar="OUT", help="the .onnx file to write")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from anrc.export.onnx import export_here

    inputs = export_here(args.run_dir, args.onnx)  # this process is fresh
    print(
        f"wrote {args.onnx} (inputs: {', '.join(inputs)}; vocabulary and labels stay in "
        f"{args.run_dir}: anrc.export.onnx.OnnxClassifier reads both)",
        file=sys.stderr,
    )
    return 0
