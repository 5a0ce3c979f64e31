"""From settings to objects: a config file and ``--set`` overrides -> a checked
:class:`~anrc.config.Config`, and a config -> a model.

This is the layer that knows the registries (encoders, heads, poolings, methods,
file formats, marker styles), so every name a config holds is checked here, once,
against the one list that defines it; :mod:`anrc.config` below it knows none of
them. The ``[encoder]`` and ``[head]`` sections become the chosen component's own
``Params`` dataclass.

Configs written before the per-component sections (config version 1: every encoder
and head setting in one flat ``[model]`` section; ``adversarial.target`` and
``adversarial.normalize_embeddings``) are still read: their settings move to where
they now live, settings the chosen encoder never read are dropped, and a
``ConfigDeprecation`` warning says what moved.
"""

from __future__ import annotations

import tomllib
import warnings
from dataclasses import fields
from pathlib import Path

from anrc.adversarial.methods import METHODS
from anrc.config import (
    CONFIG_VERSION,
    FIXED_SECTIONS,
    SECTION_NAMES,
    Config,
    ModelConfig,
    check_choice,
    section_from_dict,
)
from anrc.data.formats import FORMATS
from anrc.data.labels import LabelSet
from anrc.models.classifier import RelationModel
from anrc.models.encoders import ENCODERS, Encoder, Inputs
from anrc.models.featurizers import MARKER_STYLES
from anrc.models.heads import HEADS
from anrc.registry import did_you_mean


class ConfigDeprecation(FutureWarning):
    """A config in a form this version still reads but will stop reading."""


#: version-1 settings that moved: (old section, key) -> (new section, key)
MOVED = {
    ("adversarial", "target"): ("model", "target"),
    ("adversarial", "normalize_embeddings"): ("model", "normalize_embeddings"),
    ("model", "ranking_margin_pos"): ("head", "margin_pos"),
    ("model", "ranking_margin_neg"): ("head", "margin_neg"),
    ("model", "ranking_gamma"): ("head", "gamma"),
}
MODEL_KEYS = {f.name for f in fields(ModelConfig)}


def encoder_class(name: str) -> type[Encoder]:
    return ENCODERS.get(name)


def _every_encoder_setting() -> set[str]:
    return {f.name for name in ENCODERS.choices() for f in fields(ENCODERS.get(name).Params)}


def _migrate(d: dict, encoder: str, head: str) -> list[str]:
    """Move version-1 settings of ``d`` (a config dict, or ``--set`` strings by section)
    to their sections, in place, for the encoder and head named; returns what moved
    and what was dropped."""
    notes = []
    head_keys = {f.name for f in fields(HEADS.get(head).Params)} if head in HEADS else set()
    for (old, key), (new, new_key) in MOVED.items():
        if key not in d.get(old, {}):
            continue
        value = d[old].pop(key)
        if new == "head" and new_key not in head_keys:
            notes.append(f"{old}.{key} dropped (head {head!r} never read it)")
            continue
        d.setdefault(new, {})[new_key] = value
        notes.append(f"{old}.{key} -> {new}.{new_key}")
    model = d.get("model", {})
    flat = [k for k in model if k not in MODEL_KEYS]
    if not flat:
        return notes
    own = {f.name for f in fields(encoder_class(encoder).Params)} if encoder in ENCODERS else set()
    unknown = [k for k in flat if k not in own and k not in _every_encoder_setting()]
    if unknown:
        k = unknown[0]
        raise ValueError(f"unknown setting model.{k}{did_you_mean(k, MODEL_KEYS, 'model.')}")
    for k in flat:
        value = model.pop(k)
        if k in own:
            d.setdefault("encoder", {})[k] = value
            notes.append(f"model.{k} -> encoder.{k}")
        else:
            notes.append(f"model.{k} dropped ({encoder!r} never read it)")
    return notes


def _warn(where: str, notes: list[str]) -> None:
    if notes:
        warnings.warn(
            f"{where}: written for anrc < 0.2 (one flat [model] section); read as "
            f"[encoder] and [head] sections: {'; '.join(notes)}",
            ConfigDeprecation,
            stacklevel=3,
        )


def config_from_dict(d: dict, raw: dict | None = None, where: str = "config") -> Config:
    """A checked Config from a TOML dict and ``raw`` ``--set`` strings by section."""
    d = {k: dict(v) if isinstance(v, dict) else v for k, v in d.items()}
    raw = {k: dict(v) for k, v in (raw or {}).items()}
    version = d.pop("version", CONFIG_VERSION)
    if version > CONFIG_VERSION:
        raise ValueError(
            f"config version {version} is newer than this anrc understands ({CONFIG_VERSION})"
        )
    for name in d:
        if name not in SECTION_NAMES:
            raise ValueError(f"unknown config section [{name}]{did_you_mean(name, SECTION_NAMES)}")
    for name, keys in raw.items():
        if name not in SECTION_NAMES:
            key = next(iter(keys))
            known = [f"{section}.{key}" for section in SECTION_NAMES]
            raise ValueError(f"unknown setting {name}.{key}{did_you_mean(f'{name}.{key}', known)}")
    names = [
        raw.get("model", {}).get(key) or d.get("model", {}).get(key) or getattr(ModelConfig, key)
        for key in ("encoder", "head")
    ]
    _warn(where, _migrate(d, *names) + _migrate(raw, *names))
    sections = {
        name: section_from_dict(klass, d.get(name, {}), name, raw.get(name))
        for name, klass in FIXED_SECTIONS.items()
    }
    model = sections["model"]
    check_choice("model.encoder", model.encoder, ENCODERS.choices())
    check_choice("model.head", model.head, HEADS.choices())
    enc = encoder_class(model.encoder)
    encoder = section_from_dict(enc.Params, d.get("encoder", {}), "encoder", raw.get("encoder"))
    head = section_from_dict(
        HEADS.get(model.head).Params, d.get("head", {}), "head", raw.get("head")
    )
    cfg = Config(encoder=encoder, head=head, **sections)
    _check_names(cfg, enc)
    return cfg


def _check_names(cfg: Config, enc: type[Encoder]) -> None:
    """Every name the config holds, against the registry that defines it."""
    check_choice("adversarial.method", cfg.adversarial.method, METHODS.choices())
    check_choice("data.markers", cfg.data.markers, tuple(MARKER_STYLES))
    if cfg.data.format:
        check_choice("data.format", cfg.data.format, FORMATS.choices())
    sites = {site: None for name in ENCODERS.choices() for site in ENCODERS.get(name).sites}
    check_choice("model.target", cfg.model.target, tuple(sites))
    if cfg.model.target not in enc.sites:
        raise ValueError(
            f"model.target {cfg.model.target!r} is not a site of encoder "
            f"{cfg.model.encoder!r} ({', '.join(enc.sites)})"
        )


def parse_overrides(overrides: list[str]) -> dict:
    """``section.key=value`` strings -> {section: {key: "value"}} (typed later)."""
    raw: dict = {}
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or "." not in key:
            raise ValueError(f"--set expects section.key=value, got {item!r}")
        section, name = key.strip().split(".", 1)
        raw.setdefault(section, {})[name] = value.strip()
    return raw


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> Config:
    """A config file (TOML; None: the defaults) with ``--set`` overrides applied."""
    d: dict = {}
    if path:
        with open(path, "rb") as f:
            try:
                d = tomllib.load(f)
            except tomllib.TOMLDecodeError as err:
                raise ValueError(f"{path}: {err}") from None
    return config_from_dict(d, parse_overrides(overrides or []), str(path or "--set"))


def read_config(path: Path) -> Config:
    """A run's saved config.toml (ValueError naming the file if it cannot be used)."""
    with open(path, "rb") as f:
        try:
            return config_from_dict(tomllib.load(f), where=str(path))
        except (tomllib.TOMLDecodeError, ValueError, TypeError) as err:
            raise ValueError(f"{path}: {err}") from None


def build_model(cfg: Config, featurizer, labels: LabelSet, word_dim: int) -> RelationModel:
    """A freshly initialised model: the encoder and head the config names, each built
    from its own section."""
    inputs = Inputs(word_dim, cfg.model.target, cfg.model.normalize_embeddings)
    encoder = encoder_class(cfg.model.encoder)(cfg.encoder, featurizer, inputs)
    negative = labels.index(labels.negative) if labels.negative in labels else -1
    head = HEADS.get(cfg.model.head)(encoder.get_output_dim(), len(labels), negative, cfg.head)
    return RelationModel(encoder, head)
