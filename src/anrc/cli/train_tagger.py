"""``anrc train-tagger``: learn where a corpus's entities are, for ``anrc extract``."""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from dataclasses import asdict, fields
from pathlib import Path

from anrc.builder import parse_overrides
from anrc.cli.common import add_set_option
from anrc.config import DataConfig, section_from_dict
from anrc.data.splits import load_training_data
from anrc.data.vectors import load_vectors
from anrc.errors import AnrcInputError
from anrc.extraction.tagger import Tagger, TaggerParams
from anrc.extraction.tagger_training import DECODING_SETTINGS, redecode, train_tagger
from anrc.pretrained import find_tagger

SECTIONS = {"data": DataConfig, "tagger": TaggerParams}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train-tagger",
        help="train a mention tagger on the corpus's marked entities (anrc extract --tagger)",
        description="A BiLSTM over word vectors (and, with tagger.body, a frozen pretrained "
        "transformer's word vectors) tags the words of each training sentence "
        "that its corpus marks as e1 or e2 (BIO tags); the epoch and the mentions kept a "
        "sentence are chosen on the dev split. Settings: "
        + "; ".join(f"tagger.{f.name}" for f in fields(TaggerParams))
        + "; and the [data] section of anrc train (data.train, data.dev_fraction, ...).",
    )
    p.add_argument("--config", help="TOML file with [data] and [tagger] sections")
    add_set_option(p, "override a setting, e.g. --set tagger.epochs=20")
    p.add_argument("--vectors", default="glove-6b-50d",
                   help="word vectors the words start from (none: random)")  # fmt: skip
    p.add_argument(
        "--from",
        dest="from_tagger",
        metavar="TAGGER",
        help="decode a trained tagger (a folder or a shipped name) anew instead of training "
        "one: only tagger." + ", tagger.".join(DECODING_SETTINGS) + " may change; its dev "
        "pair recall is measured again and tagger.top chosen again on the dev split",
    )
    p.add_argument("--out", required=True, help="folder for tagger.json and tagger.safetensors")
    p.set_defaults(func=run)


def settings(path: str | None, overrides: list[str]) -> tuple[DataConfig, TaggerParams]:
    """The [data] and [tagger] sections of ``path`` with ``--set`` applied."""
    given: dict = {}
    if path:
        try:
            with open(path, "rb") as f:
                given = tomllib.load(f)
        except (OSError, tomllib.TOMLDecodeError) as err:
            raise AnrcInputError(f"cannot read the settings ({err})", path) from None
    raw = parse_overrides(overrides)
    for name in [*given, *raw]:
        if name not in SECTIONS:
            raise AnrcInputError(f"unknown section [{name}]: a tagger reads [data] and [tagger]",
                                 path or "--set")  # fmt: skip
    try:
        data, tagger = (
            section_from_dict(k, given.get(n, {}), n, raw.get(n)) for n, k in SECTIONS.items()
        )
    except ValueError as err:
        raise AnrcInputError(str(err), path or "--set") from None
    return data, tagger


def run(args: argparse.Namespace) -> int:
    data, params = settings(args.config, args.set)
    # only the marked pairs teach it: no test file read, no drawn negatives
    only_marked = DataConfig(**{**asdict(data), "test": "", "negatives": 0})
    train, dev, _ = load_training_data(only_marked, sys.stderr)
    if not dev:
        raise AnrcInputError(
            "the tagger's epoch is chosen on dev: set data.dev_fraction or data.dev"
        )
    if args.from_tagger:
        tagger = _redecoded(args.from_tagger, data, params, args.set, dev)
    else:
        vectors = load_vectors(args.vectors)
        print(f"train {len(train)}  dev {len(dev)}  vectors {args.vectors}", file=sys.stderr)
        tagger = train_tagger(params, train, dev, vectors)
        tagger.info["data"] = {"train": data.train, "dev": data.dev,
                               "dev_fraction": data.dev_fraction, "dev_seed": data.dev_seed,
                               "train_limit": data.train_limit, "vectors": args.vectors}  # fmt: skip
    tagger.save(Path(args.out))
    info = {k: tagger.info[k] for k in ("epoch", "dev_span_f1", "top", "dev_pair_recall")}
    print(json.dumps(info))
    return 0


def _redecoded(name: str, data: DataConfig, params: TaggerParams, overrides: list[str],
               dev) -> Tagger:  # fmt: skip
    """The tagger ``name`` with the decoding settings given by --set (typed in
    ``params``), its dev figures measured on ``dev``."""
    tagger = Tagger.load(find_tagger(name))
    held = tagger.info.get("data", {})
    for key in ("dev", "dev_fraction", "dev_seed", "train_limit"):
        if key in held and held[key] != getattr(data, key):
            raise AnrcInputError(f"data.{key} is {getattr(data, key)!r} but the tagger held out "
                                 f"its dev split with {held[key]!r}: its dev split would hold "
                                 "sentences it trained on", "--set")  # fmt: skip
    changes = {key: getattr(params, key) for key in parse_overrides(overrides).get("tagger", {})}
    try:
        return redecode(tagger, changes, dev)
    except ValueError as err:
        raise AnrcInputError(str(err), "--set") from None
