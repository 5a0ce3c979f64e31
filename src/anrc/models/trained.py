"""A trained model as one object: the network, the featuriser that turns examples into
its batches, the label set, the resolved settings, and the device it runs on.

Training produces a :class:`TrainedModel`; prediction, attacks, export, packaging and
the service take one. It is saved as a run directory and loaded from one (think of
Hugging Face's ``save_pretrained`` / ``from_pretrained``, but safe): the settings as
TOML, the featuriser and labels as JSON, the weights as safetensors. Loading never
executes code from the folder, and every tensor's name and shape is checked against
the network the settings describe before it is used.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from anrc.builder import build_model, encoder_class, read_config
from anrc.config import Config, to_toml
from anrc.data.labels import LabelSet
from anrc.fsio import atomic_save, atomic_write_text
from anrc.models.classifier import RelationModel
from anrc.models.weights import WEIGHT_STORAGE, compact_state, embedding_tables, expand_state
from anrc.version import __version__

FORMAT_VERSION = 2
#: the weights' file in a run folder
WEIGHTS = "model.safetensors"


class RunLoadError(ValueError):
    """A run directory that cannot be loaded safely."""


@dataclass
class TrainedModel:
    """A relation classifier with everything it needs to answer: ``network`` (the
    :class:`RelationModel`), ``featurizer`` (the encoder's: examples -> batches on the
    model's device), ``labels``, ``config`` (the resolved settings it was built from) and
    ``word_dim`` (its word-vector width, which the weights' shapes follow)."""

    config: Config
    network: RelationModel
    featurizer: object
    labels: LabelSet
    word_dim: int

    @classmethod
    def build(cls, config: Config, featurizer, labels: LabelSet, word_dim: int) -> TrainedModel:
        """A freshly initialised model, as ``config`` names it (on the CPU)."""
        return cls(config, build_model(config, featurizer, labels, word_dim), featurizer,
                   labels, word_dim)  # fmt: skip

    @property
    def device(self) -> torch.device:
        """Where the network's weights are, and where the featuriser builds batches."""
        return next(self.network.parameters()).device

    def to(self, device: torch.device) -> TrainedModel:
        """Move the network to ``device`` and make the featuriser build its batches there."""
        self.network.to(device)
        self.featurizer.device = device
        return self

    def eval(self) -> TrainedModel:
        self.network.eval()
        return self

    def save(self, folder: str | Path, weights: str = "fp32") -> None:
        """Write the run directory ``folder``; ``weights`` is the stored form
        (:data:`~anrc.models.weights.WEIGHT_STORAGE`)."""
        folder = Path(folder)
        net = self.network
        tensors = compact_state(net.state_dict(), weights, embedding_tables(net))
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(folder / "config.toml", to_toml(self.config))
        self.featurizer.save(folder, atomic_write_text)
        atomic_write_text(folder / "labels.json", json.dumps(self.labels.to_json(), indent=1))
        meta = {
            "format_version": FORMAT_VERSION,
            "anrc_version": __version__,
            "word_dim": self.word_dim,
        }
        if weights != "fp32":
            meta["weights"] = weights
        atomic_write_text(folder / "meta.json", json.dumps(meta, indent=1))
        meta_st = {"format_version": str(FORMAT_VERSION), "weights": weights}
        atomic_save(folder / WEIGHTS, lambda tmp: save_file(tensors, str(tmp), meta_st))

    @classmethod
    def load(cls, folder: str | Path) -> TrainedModel:
        """The model saved in the run directory ``folder``, on the CPU, in eval mode
        (:class:`RunLoadError` naming the file when it cannot be used)."""
        folder = Path(folder)
        if not folder.is_dir():
            raise RunLoadError(f"{folder}: not a run directory")
        cfg, meta = _read_config(folder)
        encoder_cls = encoder_class(cfg.model.encoder)
        try:
            featurizer = encoder_cls.load_featurizer(folder, cfg.encoder, cfg.data, read_json)
            labels = LabelSet.from_json(read_json(folder / "labels.json"))
        except (KeyError, ValueError, TypeError) as err:
            if isinstance(err, RunLoadError):
                raise
            raise RunLoadError(f"{folder}: bad featuriser or label file ({err})") from None
        word_dim = int(meta.get("word_dim", encoder_cls.word_dim_for(cfg.encoder, None)))
        model = cls.build(cfg, featurizer, labels, word_dim)
        path = folder / WEIGHTS
        state = _read_weights(path)
        _check_weights(path, state, model.network.state_dict())
        model.network.load_state_dict(state)
        return model.eval()


def read_settings(folder: str | Path) -> tuple[Config, LabelSet]:
    """A run directory's config and label set, without its weights (a run kept as
    stored probabilities only: :mod:`anrc.inference.stored`)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise RunLoadError(f"{folder}: not a run directory")
    cfg, _ = _read_config(folder)
    try:
        return cfg, LabelSet.from_json(read_json(folder / "labels.json"))
    except (KeyError, ValueError, TypeError) as err:
        if isinstance(err, RunLoadError):
            raise
        raise RunLoadError(f"{folder}: bad label file ({err})") from None


def _read_weights(path: Path) -> dict[str, torch.Tensor]:
    """The fp32 state dict stored at ``path``, whatever its stored form."""
    if not path.is_file():
        raise RunLoadError(f"{path}: missing")
    try:
        with safe_open(str(path), "pt") as f:  # the file read once: its tensors and form
            storage = (f.metadata() or {}).get("weights", "fp32")
            tensors = {name: f.get_tensor(name) for name in f.keys()}  # noqa: SIM118
    except (SafetensorError, OSError, ValueError) as err:
        raise RunLoadError(f"{path}: not a readable safetensors file ({err})") from None
    if storage not in WEIGHT_STORAGE:
        raise RunLoadError(f"{path}: weights stored as {storage!r}, which this anrc cannot read")
    try:
        return expand_state(tensors)
    except ValueError as err:
        raise RunLoadError(f"{path}: {err}") from None


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
