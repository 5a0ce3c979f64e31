"""``anrc models``: the models that ship with the package, for ``predict``, ``serve`` and
``anrc.load``."""

from __future__ import annotations

import argparse
import json
import tomllib

from anrc.models.trained import WEIGHTS
from anrc.pretrained import find_model, shipped


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list the models that ship with the package")
    p.add_argument("--json", action="store_true", help="one JSON object a model")
    p.set_defaults(func=run)


def describe(name: str) -> dict:
    """A shipped model's name, encoder, AT method, official test F1 and size, from its files."""

    folder = find_model(name)
    cfg = tomllib.loads((folder / "config.toml").read_text(encoding="utf-8"))
    scores = json.loads((folder / "scores.json").read_text(encoding="utf-8"))["summary"]
    size = (folder / WEIGHTS).stat().st_size
    provenance = folder / "provenance.json"
    about = (
        json.loads(provenance.read_text(encoding="utf-8"))["about"] if provenance.is_file() else {}
    )
    return {
        "name": name,
        "encoder": cfg["model"]["encoder"],
        "adversarial": cfg["adversarial"]["method"],
        "test_f1": round(scores["test_f1"], 2),
        "weights_mb": round(size / 1e6, 1),
        "use": about.get("use", ""),
        "card": str(folder / "MODEL_CARD.md"),
    }


def run(args: argparse.Namespace) -> int:
    rows = [describe(name) for name in shipped()]
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return 0
    print(f"{'name':14s} {'encoder':12s} {'AT':6s} {'test F1':>8s} {'weights':>9s}  use it")
    for r in rows:
        print(
            f"{r['name']:14s} {r['encoder']:12s} {r['adversarial']:6s} {r['test_f1']:8.2f} "
            f"{r['weights_mb']:6.1f} MB  {r['use'] or '-'}"
        )
    print("model cards: " + ", ".join(r["card"] for r in rows))
    return 0
