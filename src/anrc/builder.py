"""From settings to objects: a config file and ``--set`` overrides -> a checked
:class:`~anrc.config.Config`, and a config -> a model.

This is the layer that knows the registries (encoders, heads, poolings, methods,
file formats, marker styles), so every name a config holds is checked here, once,
against the one list that defines it; :mod:`anrc.config` below it knows none of
them. The ``[encoder]`` and ``[head]`` sections become the chosen component's own
``Params`` dataclass.

Configs written before the per-component sections (config version 1: every encoder
and head setting in one flat ``[model]`` section; ``adversarial.target`` and
``adversarial.normalize_embeddings``; version 2: every method's settings in
``[adversarial]``) are still read: their settings move to where they now live,
settings the chosen encoder or method never read are dropped, and a
``ConfigDeprecation`` warning says what moved. A setting given for the chosen component
that it would not read is refused, naming it.
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
    AdversarialConfig,
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
#: version-2 settings of [adversarial] that each method now declares in [method]
METHOD_MOVED = {
    "weight": "weight", "objective": "objective", "steps": "steps", "step_size": "step_size",
    "random_start": "random_start", "replays": "replays", "vat_xi": "xi",
}  # fmt: skip


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
        notes.append(_move(d, ("model", k), ("encoder", k), own, encoder))
    return notes


def _migrate_method(d: dict, method: str) -> list[str]:
    """Move version-2 method settings of ``d``'s [adversarial] to [method], in place, for
    the method named; returns what moved and what was dropped."""
    adv, notes = d.get("adversarial", {}), []
    own = _own_settings(METHODS, method)
    for key, new in METHOD_MOVED.items():
        if key in adv:
            notes.append(_move(d, ("adversarial", key), ("method", new), own, method))
    return notes


def _move(d: dict, old: tuple[str, str], new: tuple[str, str], own, owner: str) -> str:
    """Move setting ``old`` (section, key) of ``d`` to ``new`` when ``owner`` reads it
    (its key is in ``own``), else drop it; returns the note saying which."""
    value = d[old[0]].pop(old[1])
    if new[1] not in own:
        return f"{old[0]}.{old[1]} dropped ({owner!r} never read it)"
    d.setdefault(new[0], {})[new[1]] = value
    return f"{old[0]}.{old[1]} -> {new[0]}.{new[1]}"


def _own_settings(registry, name: str) -> list[str]:
    return [f.name for f in fields(registry.get(name).Params)] if name in registry else []


def _warn(where: str, notes: list[str], before: str) -> None:
    if notes:
        warnings.warn(
            f"{where}: written for {before}; read as today's sections: {'; '.join(notes)}",
            ConfigDeprecation,
            stacklevel=3,
        )


def _component(registry, kind: str, section: str, name: str, d: dict, raw: dict):
    """The chosen component's ``Params`` from its section; a setting of another component
    of the same kind (which this one would ignore) is refused, naming it."""
    own = _own_settings(registry, name)
    others = {f.name for n in registry.choices() for f in fields(registry.get(n).Params)}
    for key in [*d.get(section, {}), *raw.get(section, {})]:
        if key not in own and key in others:
            reads = ", ".join(own) or "no settings of its own"
            raise ValueError(
                f"{section}.{key}: {kind} {name!r} does not read it (it reads {reads})"
            )
    klass = registry.get(name).Params
    return section_from_dict(klass, d.get(section, {}), section, raw.get(section))


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
    _warn(where, _migrate(d, *names) + _migrate(raw, *names), "anrc < 0.2 (one flat [model])")
    method = (
        raw.get("adversarial", {}).get("method")
        or d.get("adversarial", {}).get("method")
        or AdversarialConfig.method
    )
    moved = _migrate_method(d, method) + _migrate_method(raw, method)
    _warn(where, moved, "config version 2 (every method's settings in [adversarial])")
    sections = {
        name: section_from_dict(klass, d.get(name, {}), name, raw.get(name))
        for name, klass in FIXED_SECTIONS.items()
    }
    model = sections["model"]
    check_choice("model.encoder", model.encoder, ENCODERS.choices())
    check_choice("model.head", model.head, HEADS.choices())
    check_choice("adversarial.method", sections["adversarial"].method, METHODS.choices())
    enc = encoder_class(model.encoder)
    cfg = Config(
        encoder=_component(ENCODERS, "encoder", "encoder", model.encoder, d, raw),
        head=_component(HEADS, "head", "head", model.head, d, raw),
        method=_component(METHODS, "method", "method", sections["adversarial"].method, d, raw),
        **sections,
    )
    _check_names(cfg, enc)
    return cfg


def _check_names(cfg: Config, enc: type[Encoder]) -> None:
    """Every name the config holds, against the registry that defines it."""
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
    if cfg.model.normalize_embeddings and not enc.reads_normalize_embeddings:
        raise ValueError(
            f"model.normalize_embeddings: encoder {cfg.model.encoder!r} does not read it "
            "(its word pieces keep the pretrained body's scale)"
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
