"""Trained models that ship with the package: ``anrc.load("semeval")`` works right after
install, offline, with no training.

Each is a run directory under ``anrc/pretrained/NAME/`` (safetensors weights, JSON
vocabulary and labels, the resolved ``config.toml``) with a ``MODEL_CARD.md`` that
says what it is, how well it does, where it fails and how to rebuild it.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from anrc.errors import AnrcInputError
from anrc.registry import did_you_mean


def _root() -> Path:
    return Path(str(resources.files("anrc.pretrained")))


def shipped() -> list[str]:
    """Names of the models that ship with this install."""
    return sorted(p.name for p in _root().iterdir() if (p / "model.safetensors").is_file())


def find_model(model: str | Path) -> Path:
    """A run directory for ``model``: an existing path, or the name of a shipped model
    (AnrcInputError naming the shipped models when it is neither)."""
    path = Path(model)
    if path.exists():
        return path
    names = shipped()
    if str(model) in names:
        return _root() / str(model)
    raise AnrcInputError(
        f"{model}: no such run directory, and not a shipped model"
        f"{did_you_mean(str(model), names)}; shipped: {', '.join(names) or 'none'} "
        "(anrc models lists them)"
    )


#: shipped mention taggers (``anrc train-tagger``), one folder each under here
TAGGERS = "taggers"
#: a model folder's pointer to the tagger it extracts with: {"tagger": NAME or path}
EXTRACT_JSON = "extract.json"


def shipped_taggers() -> list[str]:
    """Names of the mention taggers that ship with this install."""
    root = _root() / TAGGERS
    return (
        sorted(p.name for p in root.iterdir() if (p / "tagger.json").is_file())
        if root.is_dir()
        else []
    )


def find_tagger(spec: str | Path) -> Path:
    """A tagger folder for ``spec``: a folder holding ``tagger.json``, or the name of a
    shipped tagger (AnrcInputError naming the shipped ones when it is neither)."""
    path = Path(spec)
    if (path / "tagger.json").is_file():
        return path
    names = shipped_taggers()
    if str(spec) in names:
        return _root() / TAGGERS / str(spec)
    raise AnrcInputError(
        f"{spec}: not a mention tagger folder (no tagger.json) nor a shipped tagger"
        f"{did_you_mean(str(spec), names)}; shipped: {', '.join(names) or 'none'}"
    )


def model_tagger(folder: str | Path | None) -> Path | None:
    """The tagger a model folder extracts with: its ``tagger/`` folder, else the one its
    ``extract.json`` names; None when it has neither."""
    if folder is None:
        return None
    folder = Path(folder)
    if (folder / "tagger" / "tagger.json").is_file():
        return folder / "tagger"
    pointer = folder / EXTRACT_JSON
    if not pointer.is_file():
        return None
    try:
        name = json.loads(pointer.read_text(encoding="utf-8"))["tagger"]
    except (ValueError, KeyError, TypeError) as err:
        raise AnrcInputError(f"not a tagger pointer ({err})", str(pointer)) from None
    return find_tagger(name)
