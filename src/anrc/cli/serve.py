"""``anrc serve``: the JSON API and the web page for a trained model."""

from __future__ import annotations

import argparse
import os
import sys

import torch

from anrc.cli.common import add_device_option, add_form_option, add_model_argument, load_classifier
from anrc.errors import AnrcInputError
from anrc.pretrained import find_model
from anrc.serve.requests import Limits

DEFAULTS = Limits()
WORKERS = max(1, min(4, os.cpu_count() or 1))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="serve a model: JSON API (POST /predict, GET /labels, GET /health) and a page at /",
        epilog="example: anrc serve semeval --port 8000, then open http://127.0.0.1:8000/. "
        "It listens on 127.0.0.1 (this machine only) and has no accounts: before you "
        "expose it, put it behind a reverse proxy with TLS and set --api-key.",
    )
    add_model_argument(p)
    p.add_argument("--tagger", metavar="DIR",
                   help="the mention tagger of POST /extract (default: the model's own)")  # fmt: skip
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (0: any free one)")
    p.add_argument("--max-items", type=int, default=DEFAULTS.max_items,
                   help="most sentences in one request (more: 413)")  # fmt: skip
    p.add_argument("--max-words", type=int, default=DEFAULTS.max_words,
                   help="most words in one sentence (more: 413)")  # fmt: skip
    p.add_argument("--max-bytes", type=int, default=DEFAULTS.max_bytes,
                   help="largest request body (more: 413)")  # fmt: skip
    p.add_argument("--timeout", type=float, default=DEFAULTS.timeout,
                   help="seconds one request's predictions may take (more: 503)")  # fmt: skip
    p.add_argument("--chunk-ms", type=float, default=DEFAULTS.chunk_ms,
                   help="about this much work in each piece a worker predicts at a time: "
                   "requests in progress take turns piece by piece")  # fmt: skip
    p.add_argument(
        "--api-key",
        default=os.environ.get("ANRC_API_KEY") or None,
        help="require this key on /predict, /labels and /model-card (Authorization: Bearer "
        "KEY); default: $ANRC_API_KEY, none when unset",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads of each worker (1 is fastest for "
        "single sentences: benchmarks/bench_serve.py)",
    )
    p.add_argument(
        "--workers", type=int, default=WORKERS,
        help="predictions that run at once, each on its own thread (default: the cores, at most 4)",
    )  # fmt: skip
    add_device_option(p)
    add_form_option(p, "auto")
    p.set_defaults(func=run)


def _check(args: argparse.Namespace) -> Limits:
    for name in ("max_items", "max_words", "max_bytes", "workers", "threads"):
        if getattr(args, name) < 1:
            raise AnrcInputError(f"--{name.replace('_', '-')} must be at least 1")
    for name in ("timeout", "chunk_ms"):
        if not getattr(args, name) > 0:  # NaN too
            raise AnrcInputError(f"--{name.replace('_', '-')} must be more than 0")
    return Limits(args.max_bytes, args.max_items, args.max_words, args.timeout, args.chunk_ms)


def model_card(model: str) -> str | None:
    """The model's MODEL_CARD.md, if its folder has one."""

    path = find_model(model) / "MODEL_CARD.md"
    return path.read_text(encoding="utf-8") if path.is_file() else None


def run(args: argparse.Namespace) -> int:
    limits = _check(args)
    try:
        import fastapi  # optional: serve  # noqa: F401
        import uvicorn  # optional: serve  # noqa: F401
    except ImportError:
        raise AnrcInputError("anrc serve needs the extra: pip install -e '.[serve]'") from None
    from anrc.serve.app import create_app  # optional: serve
    from anrc.serve.server import bind, serve  # optional: serve

    sock = bind(args.host, args.port)  # before loading: a port in use fails fast
    torch.set_num_threads(args.threads)
    clf = load_classifier(args.model, args.device, args.form, args.tagger)
    app = create_app(clf, limits, args.workers, args.api_key, model_card(args.model))
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"serving {args.model} on http://{shown}:{port}/", file=sys.stderr)
    if host not in ("127.0.0.1", "::1", "localhost") and not args.api_key:
        print(
            f"warning: listening on {host} with no API key: anyone who can reach this "
            "port can use the model (see --api-key)",
            file=sys.stderr,
        )
    serve(app, sock)
    return 0
