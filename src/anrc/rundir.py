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
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from anrc.builder import build_model, encoder_class, read_config
from anrc.config import Config, to_toml
from anrc.data.labels import LabelSet
from anrc.fsio import atomic_save, atomic_write_text
from anrc.models.classifier import RelationModel
from anrc.version import __version__

FORMAT_VERSION = 2

#: how a run's weights are stored: fp32 as trained; fp16 halves the file; int8 stores each
#: weight matrix (embedding tables, linear and recurrent layers) as int8 rows with one fp32
#: scale a row (symmetric, max-abs) and the rest (biases, norms) as fp16, about a quarter
#: of the file; int8-embeddings does that to the word (or word-piece) vector table alone
#: and keeps the rest in fp16 (on the MiniLM transformer, where that table is half the
#: weights: 37% of the file, and its test answers change on 2 of 2,717 sentences
#: against 10 with int8). Loading turns every form back into the fp32 model.
WEIGHT_STORAGE = ("fp32", "fp16", "int8", "int8-embeddings")
SCALE_SUFFIX = ".int8_row_scale"


class RunLoadError(ValueError):
    """A run directory that cannot be loaded safely."""


@dataclass
class LoadedRun:
    config: Config
    model: RelationModel  # in eval mode
    featurizer: object  # the encoder's featuriser (builds batches from examples)
    labels: LabelSet


def embedding_tables(model: RelationModel) -> frozenset[str]:
    """The state-dict names of ``model``'s word (or word-piece) vector table, and of the
    frozen rows its embedder keeps beside it (``frozen_tables``: data.vectors_vocab)."""
    table = model.encoder.get_input_embeddings()
    names = set()
    for name, m in model.named_modules():
        if m is table:
            names.add(f"{name}.weight")
        names |= {
            f"{name}.{buf}"
            for buf in getattr(m, "frozen_tables", ())
            if isinstance(getattr(m, buf, None), torch.Tensor)
        }
    return frozenset(names)


def compact_state(
    state: dict[str, torch.Tensor], storage: str, embeddings: frozenset[str] = frozenset()
) -> dict[str, torch.Tensor]:
    """``state`` (fp32) in the stored form ``storage`` (one of WEIGHT_STORAGE);
    ``embeddings`` names the embedding tables (for int8-embeddings)."""
    if storage not in WEIGHT_STORAGE:
        raise ValueError(f"weights {storage!r}: choose from {', '.join(WEIGHT_STORAGE)}")
    out = {}
    for name, t in state.items():
        t = t.detach().cpu().contiguous()
        int8 = storage == "int8" or (storage == "int8-embeddings" and name in embeddings)
        if storage == "fp32" or not t.is_floating_point():
            out[name] = t
        elif int8 and t.dim() == 2:
            scale = t.abs().amax(dim=1).clamp_min(1e-12) / 127.0  # (rows,)
            out[name] = torch.round(t / scale[:, None]).clamp(-127, 127).to(torch.int8)
            out[name + SCALE_SUFFIX] = scale.float()
        else:
            out[name] = t.half()
    return out


def expand_state(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The fp32 state dict of any stored form (compact_state's inverse, up to rounding)."""
    state = {}
    for name, t in tensors.items():
        if name.endswith(SCALE_SUFFIX):
            continue
        scale = tensors.get(name + SCALE_SUFFIX)
        if scale is not None:
            if t.dtype != torch.int8 or t.dim() != 2 or scale.shape != (t.shape[0],):
                raise ValueError(f"{name}: an int8 row scale that does not fit its tensor")
            state[name] = t.float() * scale.float()[:, None]
        else:
            state[name] = t.float() if t.is_floating_point() else t
    return state


def save_run(
    run_dir: Path,
    cfg: Config,
    model: RelationModel,
    featurizer,
    labels: LabelSet,
    word_dim: int,
    weights: str = "fp32",
) -> None:
    """Write a run directory; ``weights`` is the stored form (WEIGHT_STORAGE)."""
    tensors = compact_state(model.state_dict(), weights, embedding_tables(model))
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / "config.toml", to_toml(cfg))
    featurizer.save(run_dir, atomic_write_text)
    atomic_write_text(run_dir / "labels.json", json.dumps(labels.to_json(), indent=1))
    meta = {"format_version": FORMAT_VERSION, "anrc_version": __version__, "word_dim": word_dim}
    if weights != "fp32":
        meta["weights"] = weights
    atomic_write_text(run_dir / "meta.json", json.dumps(meta, indent=1))
    meta_st = {"format_version": str(FORMAT_VERSION), "weights": weights}
    atomic_save(run_dir / "model.safetensors", lambda tmp: save_file(tensors, str(tmp), meta_st))


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
    state = _read_weights(path)
    _check_weights(path, state, model.state_dict())
    model.load_state_dict(state)
    model.eval()
    return LoadedRun(cfg, model, featurizer, labels)
