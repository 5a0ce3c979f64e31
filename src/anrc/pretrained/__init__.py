"""Trained models that ship with the package: ``anrc.load("semeval")`` works right after
install, offline, with no training.

Each is a run directory under ``anrc/pretrained/NAME/`` (safetensors weights, JSON
vocabulary and labels, the resolved ``config.toml``) with a ``MODEL_CARD.md`` that
says what it is, how well it does, where it fails and how to rebuild it.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def shipped() -> list[str]:
    """Names of the models that ship with this install."""
    root = Path(str(resources.files("anrc.pretrained")))
    return sorted(p.name for p in root.iterdir() if (p / "model.safetensors").is_file())


def resolve(model: str | Path) -> Path:
    """A run directory for ``model``: an existing folder, or the name of a shipped model."""
    path = Path(model)
    if path.is_dir() or str(model) not in shipped():
        return path
    return Path(str(resources.files("anrc.pretrained").joinpath(str(model))))
