"""Setting up a run from its config: data, labels, featuriser, a fresh model, the loss, the
optimiser."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

import numpy as np
import torch

from anrc.builder import encoder_class
from anrc.config import Config
from anrc.data import Example
from anrc.data.candidates import drawn_negative
from anrc.data.formats import read
from anrc.data.labels import LabelSet, check_label_set
from anrc.data.splits import load_training_data
from anrc.data.vectors import load_vectors
from anrc.device import torch_device
from anrc.errors import AnrcInputError
from anrc.models.classifier import RelationModel
from anrc.models.trained import TrainedModel
from anrc.training.distill import answers_only, teacher_dirs, teacher_probs, transfer_set
from anrc.training.loss import Distillation, Loss


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed % (2**32))


@dataclass
class Setup:
    train: list[Example]
    dev: list[Example]
    test: list[Example]
    labels: LabelSet
    model: TrainedModel  # network, featuriser, labels, settings: what the run saves
    pretrained: int  # vocabulary rows initialised from the vectors
    unlabelled: list[Example]  # data.unlabelled (VAT), [] when not set
    originals: int  # train[:originals] is the data's, the rest a transfer set
    loss: Loss  # what training minimises (loss.at(idx): a batch's)

    def train_batch(self, idx: list[int]):
        """The training batch of these indices."""
        return self.model.featurizer([self.train[i] for i in idx], self.labels)

    def unlabelled_batch(self, size: int, seed: int, step: int):
        """The unlabelled sentences of one step: drawn from (seed, step), so resume repeats them."""
        if not self.unlabelled:
            return None
        rng = np.random.default_rng([seed, step])
        idx = rng.choice(len(self.unlabelled), size=min(size, len(self.unlabelled)), replace=False)
        return self.model.featurizer([self.unlabelled[i] for i in sorted(idx.tolist())])


def _label_set(cfg: Config, train: list[Example]) -> LabelSet:
    """From data.rel2id (OpenNRE: label -> id) if set, else from the training labels."""
    if not cfg.data.rel2id:
        return LabelSet.from_labels([ex.label for ex in train], cfg.data.negative)

    path = cfg.data.rel2id
    try:
        mapping = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise AnrcInputError(f"not a readable rel2id JSON file ({err})", path) from None
    if not isinstance(mapping, dict) or not all(isinstance(v, int) for v in mapping.values()):
        raise AnrcInputError("rel2id must be a JSON object of label -> integer id", path)
    order = [lab for lab, _ in sorted(mapping.items(), key=lambda kv: kv[1])]
    if sorted(mapping.values()) != list(range(len(mapping))):
        raise AnrcInputError(f"rel2id ids must be 0 to {len(mapping) - 1}, each once", path)
    labels = LabelSet(tuple(order), cfg.data.negative)  # the model's ids are the user's
    unknown = sorted({ex.label for ex in train} - set(labels.labels))
    if unknown:
        raise AnrcInputError(f"training labels not in rel2id: {unknown[:5]}", path)
    return labels


def load_data(cfg: Config, log: TextIO) -> tuple[list, list, list, LabelSet]:
    train, dev, test = load_training_data(cfg.data, log)
    problem = check_label_set([ex.label for ex in train], cfg.data.negative)
    if problem:
        raise AnrcInputError(problem, cfg.data.train)
    labels = _label_set(cfg, train)
    for name, split in (("dev", dev), ("test", test)):
        unknown = sorted({ex.label for ex in split} - set(labels.labels))
        if unknown:
            print(f"warning: {name} labels never seen in training: {unknown}", file=log)
    return train, [ex for ex in dev if ex.label in labels], test, labels


def prepare(cfg: Config, log: TextIO | None = None, data=None) -> Setup:
    """Data, label set, featuriser and a freshly initialised model, as the config says.

    ``data`` = (train, dev, test, labels) replaces reading the files (the refit pass).
    """
    log = log or sys.stderr
    seed_everything(cfg.train.seed)
    train, dev, test, labels = data or load_data(cfg, log)
    encoder_cls = encoder_class(cfg.model.encoder)
    vectors = load_vectors(cfg.data.embeddings)
    originals = len(train)
    train = train + _transfer(cfg, train, vectors, log)
    featurizer = encoder_cls.build_featurizer(cfg.encoder, cfg.data, train, vectors)
    word_dim = encoder_cls.word_dim_for(cfg.encoder, vectors)
    model = TrainedModel.build(cfg, featurizer, labels, word_dim)
    found = model.network.encoder.init_pretrained(cfg.encoder, featurizer, vectors, cfg.train.seed)
    model.network.precision = cfg.train.precision
    model.to(torch_device(cfg.train.device))
    unlabelled = []
    if cfg.data.unlabelled:
        unlabelled = read(
            cfg.data.unlabelled, negative=cfg.data.negative, skip_invalid=cfg.data.skip_invalid
        ).examples
    loss = Loss(model.network.head)
    if cfg.train.teacher:
        tc = cfg.train
        soft = _teach(cfg, train, originals, labels, log)
        loss = Distillation(loss, soft, tc.distill_weight, tc.distill_temperature)
    return Setup(train, dev, test, labels, model, found, unlabelled, originals, loss)


def _teach(cfg, train: list[Example], originals: int, labels: LabelSet, log) -> np.ndarray:
    """The teachers' (N, C) targets for ``train``; a transfer-set copy (past ``originals``)
    is labelled with the teachers' most probable class, in place. A drawn negative
    (data.negatives) is not asked of the teachers: they were never taught that such a
    pair is no relation, and would call it one; its target is its label."""
    tc = cfg.train
    drawn = np.array([drawn_negative(ex) for ex in train], dtype=bool)
    asked = [ex for ex, d in zip(train, drawn, strict=True) if not d]
    soft = np.zeros((len(train), len(labels)), dtype=np.float32)
    soft[~drawn] = teacher_probs(tc.teacher, asked, labels, tc.distill_temperature, log)
    soft[drawn, labels.index(labels.negative) if labels.has_negative else 0] = 1.0
    best = soft[originals:].argmax(axis=1)
    train[originals:] = [
        replace(ex, label=labels.labels[int(c)])
        for ex, c in zip(train[originals:], best, strict=True)
    ]
    return soft


def _transfer(cfg: Config, train: list[Example], vectors, log: TextIO) -> list[Example]:
    """The transfer set of ``train.transfer_copies`` (anrc.training.distill), [] if off."""
    tc = cfg.train
    if not (tc.teacher and tc.transfer_copies):
        return []
    fixed = [d for d in teacher_dirs(tc.teacher) if answers_only(d)]
    if fixed:
        raise AnrcInputError(
            f"train.transfer_copies: the teacher {fixed[0]} answers only for the sentences "
            "whose answers were stored (its weights are not here), not for a transfer set's "
            "new ones; give a teacher with its weights, or train.transfer_copies = 0"
        )
    if vectors is None:
        raise AnrcInputError("train.transfer_copies needs word vectors (data.embeddings)")
    annotated = [ex for ex in train if not drawn_negative(ex)]  # a negative's copy: no one's
    copies = transfer_set(annotated, vectors, tc.transfer_copies, tc.transfer_swap)
    print(f"transfer set: {len(copies)} copies of {len(train)} training sentences", file=log)
    return copies


def _param_groups(cfg: Config, model: RelationModel) -> list[dict]:
    """One group per learning rate: the new layers at ``train.lr``; a pretrained body at
    ``train.encoder_lr``, or with ``train.layer_decay`` < 1 one group per depth, its
    layer l of L at encoder_lr x layer_decay^(L - l) (the top layer at encoder_lr)."""
    tc = cfg.train
    enc = model.encoder
    layers = enc.pretrained_layers() if tc.layer_decay < 1 else [enc.pretrained_parameters()]
    body = {id(p) for layer in layers for p in layer}
    rest = [p for p in model.parameters() if p.requires_grad and id(p) not in body]
    groups = [{"params": rest, "lr": tc.lr}]
    top = len(layers) - 1
    for depth, layer in enumerate(layers):
        trained = [p for p in layer if p.requires_grad]
        if trained:
            lr = (tc.encoder_lr or tc.lr) * tc.layer_decay ** (top - depth)
            groups.append({"params": trained, "lr": lr})
    return groups


def linear_schedule(total_steps: int, warmup: float):
    """lr factor per step: 0 -> 1 over the warm-up, then linearly to 0 at ``total_steps``."""
    warm = int(total_steps * warmup)

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        return max(0.0, (total_steps - step) / max(1, total_steps - warm))

    return factor


def make_optimizer(cfg: Config, model: RelationModel, steps_per_epoch: int = 1):
    """The optimiser and the learning-rate schedule the config names.

    ``steps_per_epoch`` sizes the linear schedule (``train.schedule = linear``).
    """
    tc = cfg.train
    groups = _param_groups(cfg, model)
    kinds = {
        "adam": lambda: torch.optim.Adam(groups, weight_decay=tc.weight_decay),
        "adamw": lambda: torch.optim.AdamW(groups, weight_decay=tc.weight_decay),
        "adadelta": lambda: torch.optim.Adadelta(groups, weight_decay=tc.weight_decay),
        "sgd": lambda: torch.optim.SGD(groups, weight_decay=tc.weight_decay),
    }
    optimizer = kinds[tc.optimizer]()
    if tc.schedule == "linear":
        factor = linear_schedule(tc.max_epochs * steps_per_epoch, tc.warmup)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    else:
        scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=tc.lr_decay)
    return optimizer, scheduler


def per_step_schedule(cfg: Config) -> bool:
    """Whether the scheduler steps after every batch (else after every epoch)."""
    return cfg.train.schedule == "linear" or cfg.train.lr_decay_every == "step"
