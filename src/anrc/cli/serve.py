"""``anrc serve``: the JSON API and the web page for a trained model."""

from __future__ import annotations

import argparse
import sys

from anrc.cli.common import load_classifier
from anrc.errors import AnrcInputError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="serve a model: JSON API (POST /predict, GET /labels, GET /health) and a page at /",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        epilog="example: anrc serve runs/att-blstm --port 8000, then open http://127.0.0.1:8000/",
    )
    p.add_argument("model", help="a run directory, or a shipped model: semeval")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=8000, help="port to listen on")
    p.add_argument("--max-items", type=int, default=64, help="most sentences in one request")
    p.add_argument(
        "--threads", type=int, default=1, help="torch threads (requests are served one at a time)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from anrc.serve.app import serve

    torch.set_num_threads(max(1, args.threads))
    clf = load_classifier(args.model)
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise AnrcInputError("anrc serve needs the extra: pip install -e '.[serve]'") from None
    print(f"serving {args.model} on http://{args.host}:{args.port}/", file=sys.stderr)
    serve(clf, args.host, args.port, args.max_items)
    return 0
