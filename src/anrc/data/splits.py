"""Training data preparation: subsets, augmentation, and the held-out dev split."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from anrc.config import DataConfig
from anrc.data import Example, read


def stratified_split(
    examples: Sequence[Example], fraction: float, seed: int
) -> tuple[list[Example], list[Example]]:
    """(train, dev): ``fraction`` of each label, drawn with ``seed``; order preserved.

    A label seen once stays in train, so the model can still learn it.
    """
    if fraction <= 0:
        return list(examples), []
    rng = np.random.default_rng(seed)
    by_label: dict[str | None, list[int]] = defaultdict(list)
    for i, ex in enumerate(examples):
        by_label[ex.label].append(i)
    dev_idx: set[int] = set()
    for label in sorted(by_label, key=str):
        idx = by_label[label]
        k = int(round(len(idx) * fraction)) if len(idx) > 1 else 0
        dev_idx.update(rng.permutation(idx)[:k].tolist())
    train = [ex for i, ex in enumerate(examples) if i not in dev_idx]
    dev = [ex for i, ex in enumerate(examples) if i in dev_idx]
    return train, dev


def load_training_data(
    cfg: DataConfig,
) -> tuple[list[Example], list[Example], list[Example]]:
    """(train, dev, test) as the config describes; test is [] when no test file is set."""
    fmt = cfg.format or None
    full = read(cfg.train, fmt=fmt, negative=cfg.negative, labelled=True).examples
    if cfg.train_limit:
        full = full[: cfg.train_limit]
    train, dev = stratified_split(full, cfg.dev_fraction, cfg.dev_seed)
    if cfg.augment:
        train = train + read(cfg.augment, negative=cfg.negative, labelled=True).examples
    test = []
    if cfg.test:
        test = read(cfg.test, fmt=fmt, negative=cfg.negative, labelled=True).examples
    return train, dev, test
