"""A run directory: resolved config, weights (safetensors), featuriser and labels (JSON).

Loading never executes code from the directory: weights are read with
safetensors, everything else is JSON or TOML, and every tensor's name and shape
is checked against the model the config describes before it is used.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from anrc.builder import build_model, encoder_class, read_config
from anrc.config import Config, to_toml
from anrc.data.labels import LabelSet
from anrc.fsio import atomic_save, atomic_write_text
from anrc.models.classifier import RelationModel
from anrc.version import __version__

FORMAT_VERSION = 2


class RunLoadError(ValueError):
    """A run directory that cannot be loaded safely."""


@dataclass
class LoadedRun:
    config: Config
    model: RelationModel  # in eval mode
    featurizer: object  # the encoder's featuriser (builds batches from examples)
    labels: LabelSet


def save_run(
    run_dir: Path, cfg: Config, model: RelationModel, featurizer, labels: LabelSet, word_dim: int
) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / "config.toml", to_toml(cfg))
    featurizer.save(run_dir, atomic_write_text)
    atomic_write_text(run_dir / "labels.json", json.dumps(labels.to_json(), indent=1))
    meta = {"format_version": FORMAT_VERSION, "anrc_version": __version__, "word_dim": word_dim}
    atomic_write_text(run_dir / "meta.json", json.dumps(meta, indent=1))
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    meta_st = {"format_version": str(FORMAT_VERSION)}
    atomic_save(run_dir / "model.safetensors", lambda tmp: save_file(state, str(tmp), meta_st))


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunLoadError(f"{path}: missing") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise RunLoadError(f"{path}: not valid JSON ({err})") from None


def _read_config(run_dir: Path) -> tuple[Config, dict]:
    """The run's config and meta.json, refusing formats this version cannot read."""
    meta = read_json(run_dir / "meta.json")
    version = meta.get("format_version", 0)
    if version > FORMAT_VERSION:
        raise RunLoadError(
            f"{run_dir}: saved by a newer anrc (format {version}); "
            f"this one reads format {FORMAT_VERSION}"
        )
    if version < FORMAT_VERSION:
        raise RunLoadError(
            f"{run_dir}: saved by an older anrc (format {version}, before the encoder "
            f"redesign); train it again with this version"
        )
    path = run_dir / "config.toml"
    try:
        with warnings.catch_warnings():  # a run saved before the per-component sections
            warnings.simplefilter("ignore", FutureWarning)
            return read_config(path), meta
    except FileNotFoundError:
        raise RunLoadError(f"{path}: missing") from None
    except (ValueError, TypeError) as err:  # read_config names the file
        raise RunLoadError(str(err)) from None


def _check_weights(path: Path, state: dict, expected: dict) -> None:
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


def load_run(run_dir: str | Path) -> LoadedRun:
    """Load a run directory for inference (model in eval mode)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunLoadError(f"{run_dir}: not a run directory")
    cfg, meta = _read_config(run_dir)
    encoder_cls = encoder_class(cfg.model.encoder)
    try:
        featurizer = encoder_cls.load_featurizer(run_dir, cfg.encoder, cfg.data, read_json)
        labels = LabelSet.from_json(read_json(run_dir / "labels.json"))
    except (KeyError, ValueError, TypeError) as err:
        if isinstance(err, RunLoadError):
            raise
        raise RunLoadError(f"{run_dir}: bad featuriser or label file ({err})") from None
    word_dim = int(meta.get("word_dim", encoder_cls.word_dim_for(cfg.encoder, None)))
    model = build_model(cfg, featurizer, labels, word_dim)
    path = run_dir / "model.safetensors"
    if not path.is_file():
        raise RunLoadError(f"{path}: missing")
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as err:
        raise RunLoadError(f"{path}: not a readable safetensors file ({err})") from None
    _check_weights(path, state, model.state_dict())
    model.load_state_dict(state)
    model.eval()
    return LoadedRun(cfg, model, featurizer, labels)
