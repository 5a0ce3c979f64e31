"""Setting up a run from its config: data, labels, featuriser, a fresh model, the optimiser."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TextIO

import numpy as np
import torch

from anrc.config import Config
from anrc.data import Example
from anrc.data.labels import LabelSet
from anrc.data.splits import load_training_data
from anrc.data.vectors import load_vectors
from anrc.models.classifier import ENCODERS, RelationModel, build_model
from anrc.models.encoders.base import word_dim_for


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed % (2**32))


@dataclass
class Setup:
    train: list[Example]
    dev: list[Example]
    test: list[Example]
    labels: LabelSet
    featurizer: object
    model: RelationModel
    word_dim: int
    pretrained: int  # vocabulary rows initialised from the vectors


def load_data(cfg: Config, log: TextIO) -> tuple[list, list, list, LabelSet]:
    train, dev, test = load_training_data(cfg.data)
    labels = LabelSet.from_labels([ex.label for ex in train], cfg.data.negative)
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
    encoder_cls = ENCODERS.get(cfg.model.encoder)
    vectors = load_vectors(cfg.data.embeddings)
    featurizer = encoder_cls.build_featurizer(cfg, train, vectors)
    word_dim = word_dim_for(cfg, vectors)
    model = build_model(cfg, featurizer, labels, word_dim)
    found = model.encoder.init_pretrained(cfg, featurizer, vectors, cfg.train.seed)
    return Setup(train, dev, test, labels, featurizer, model, word_dim, found)


def make_optimizer(cfg: Config, model: torch.nn.Module):
    """The optimiser and the learning-rate schedule the config names."""
    tc = cfg.train
    params = [p for p in model.parameters() if p.requires_grad]
    kinds = {
        "adam": lambda: torch.optim.Adam(params, lr=tc.lr, weight_decay=tc.weight_decay),
        "adamw": lambda: torch.optim.AdamW(params, lr=tc.lr, weight_decay=tc.weight_decay),
        "adadelta": lambda: torch.optim.Adadelta(params, lr=tc.lr, weight_decay=tc.weight_decay),
        "sgd": lambda: torch.optim.SGD(params, lr=tc.lr, weight_decay=tc.weight_decay),
    }
    optimizer = kinds[tc.optimizer]()
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=tc.lr_decay)
    return optimizer, scheduler
