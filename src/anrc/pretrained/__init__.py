"""Trained models that ship with the package: ``anrc.load("semeval")`` works right after
install, offline, with no training.

Each is a run directory under ``anrc/pretrained/NAME/`` (safetensors weights, JSON
vocabulary and labels, the resolved ``config.toml``) with a ``MODEL_CARD.md`` that
says what it is, how well it does, where it fails and how to rebuild it.
"""

from __future__ import annotations

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
