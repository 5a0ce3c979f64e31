"""A run directory: resolved config, weights (safetensors), vocabulary and labels (JSON).

Loading never executes code from the directory: weights are read with
safetensors, everything else is JSON or TOML, and every tensor's name and shape
is checked against the model the config describes before it is used.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Callable
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from . import __version__
from .config import Config, to_toml
from .labels import LabelSet
from .model import ANRC
from .vocab import Vocab

FORMAT_VERSION = 1


class RunLoadError(ValueError):
    """A run directory that cannot be loaded safely."""


def atomic_save(path: Path, write: Callable[[Path], None]) -> None:
    """``write(tmp)``, fsync, rename over ``path``, fsync the folder: a crash leaves the
    old file or the new one, never a torn one."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    atomic_save(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def build_model(cfg: Config, vocab: Vocab, labels: LabelSet, word_dim: int) -> ANRC:
    freqs = None
    if cfg.adversarial.normalize_embeddings:
        freqs = torch.from_numpy(vocab.frequencies())
    return ANRC(cfg.model, len(vocab), word_dim, len(labels), freqs, vocab.n_trainable)


def save_run(
    run_dir: Path, cfg: Config, model: ANRC, vocab: Vocab, labels: LabelSet, word_dim: int
) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / "config.toml", to_toml(cfg))
    atomic_write_text(run_dir / "vocab.json", json.dumps(vocab.to_json()))
    atomic_write_text(run_dir / "labels.json", json.dumps(labels.to_json(), indent=1))
    meta = {"format_version": FORMAT_VERSION, "anrc_version": __version__, "word_dim": word_dim}
    atomic_write_text(run_dir / "meta.json", json.dumps(meta, indent=1))
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    meta_st = {"format_version": str(FORMAT_VERSION)}
    atomic_save(run_dir / "model.safetensors", lambda tmp: save_file(state, str(tmp), meta_st))


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunLoadError(f"{path}: missing") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise RunLoadError(f"{path}: not valid JSON ({err})") from None


def load_run(run_dir: str | Path) -> tuple[Config, ANRC, Vocab, LabelSet]:
    """Load a run directory for inference (model in eval mode)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunLoadError(f"{run_dir}: not a run directory")
    meta = _read_json(run_dir / "meta.json")
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise RunLoadError(
            f"{run_dir}: saved by a newer anrc (format {meta.get('format_version')}); "
            f"this one reads format {FORMAT_VERSION}"
        )
    try:
        with open(run_dir / "config.toml", "rb") as f:
            cfg = Config.from_dict(tomllib.load(f))
    except FileNotFoundError:
        raise RunLoadError(f"{run_dir / 'config.toml'}: missing") from None
    except (tomllib.TOMLDecodeError, ValueError, TypeError) as err:
        raise RunLoadError(f"{run_dir / 'config.toml'}: {err}") from None
    try:
        vocab = Vocab.from_json(_read_json(run_dir / "vocab.json"))
        labels = LabelSet.from_json(_read_json(run_dir / "labels.json"))
    except (KeyError, ValueError, TypeError) as err:
        raise RunLoadError(f"{run_dir}: bad vocabulary or label file ({err})") from None
    word_dim = int(meta.get("word_dim", cfg.model.word_dim))
    model = build_model(cfg, vocab, labels, word_dim)
    path = run_dir / "model.safetensors"
    if not path.is_file():
        raise RunLoadError(f"{path}: missing")
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as err:
        raise RunLoadError(f"{path}: not a readable safetensors file ({err})") from None
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    if missing or extra:
        raise RunLoadError(
            f"{path}: tensors do not match the model (missing {missing}, extra {extra})"
        )
    for name, tensor in expected.items():
        if state[name].shape != tensor.shape:
            raise RunLoadError(
                f"{path}: {name} has shape {tuple(state[name].shape)}, the config and "
                f"vocabulary need {tuple(tensor.shape)}"
            )
        if not torch.isfinite(state[name]).all():
            raise RunLoadError(f"{path}: {name} holds non-finite values")
    model.load_state_dict(state)
    model.eval()
    return cfg, model, vocab, labels
