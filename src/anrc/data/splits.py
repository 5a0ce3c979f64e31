"""Training data preparation: subsets, augmentation, and the held-out dev split."""

from __future__ import annotations

import os
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import numpy as np

from anrc.config import DataConfig
from anrc.data import Example, read
from anrc.data.candidates import negatives
from anrc.data.formats import ENV_VAR, expand_path, report_skipped
from anrc.errors import AnrcInputError


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


MISSING_HINT = (
    "no such file. The SemEval-2010 Task 8 release (TRAIN_FILE.TXT, TEST_FILE_FULL.TXT) "
    "is read in place from ../shared/data/semeval2010_task8; point the environment "
    "variable ANRC_DATA at the folder that holds it, or set data.train / data.test"
)
SEMEVAL_FILES = ("TRAIN_FILE.TXT", "TEST_FILE_FULL.TXT")


def missing_hint(given: str) -> str:
    """What to do about a data file that is not there: the SemEval release's own hint
    for its files; for a path read from the environment, the variable's value."""
    if Path(given).name in SEMEVAL_FILES:
        return MISSING_HINT
    names = ENV_VAR.findall(given)
    if names:
        values = ", ".join(f"${n} is {os.environ.get(n, '')!r}" for n in dict.fromkeys(names))
        return f"no such file ({values}: is that the folder that holds the data?)"
    return "no such file (set data.train / data.dev / data.test to the file)"


def _read(cfg: DataConfig, given: str, log: TextIO | None, **kw) -> list[Example]:
    path = expand_path(given)
    if not Path(path).is_file():
        raise AnrcInputError(missing_hint(given), path)
    res = read(path, negative=cfg.negative, skip_invalid=cfg.skip_invalid, **kw)
    report_skipped(res, path, log or sys.stderr)
    return res.examples


def _negatives(train: list[Example], cfg: DataConfig) -> list[Example]:
    if not any(ex.label == cfg.negative for ex in train):
        raise AnrcInputError(
            f"data.negatives: the training data has no negative class {cfg.negative!r} to "
            "label the drawn pairs with (set data.negative to the corpus's own)"
        )
    return negatives(train, cfg.negatives, cfg.negatives_window, cfg.negative, cfg.dev_seed)


def load_training_data(
    cfg: DataConfig, log: TextIO | None = None
) -> tuple[list[Example], list[Example], list[Example]]:
    """(train, dev, test) as the config describes; test is [] when no test file is set.
    Dev is ``cfg.dev`` when set (added to train under ``cfg.dev_into_train``), else a
    stratified ``cfg.dev_fraction`` of the training file.

    With ``cfg.skip_invalid`` malformed examples are dropped, counted and the first
    few reported on ``log``; otherwise the first one is an error naming its line.
    """
    fmt = cfg.format or None
    full = _read(cfg, cfg.train, log, fmt=fmt, labelled=True)
    if cfg.train_limit:
        full = full[: cfg.train_limit]
    if cfg.dev:  # a published dev split instead of one held out of train
        dev = _read(cfg, cfg.dev, log, fmt=fmt, labelled=True)
        train, dev = (full + dev, []) if cfg.dev_into_train else (full, dev)
    else:
        train, dev = stratified_split(full, cfg.dev_fraction, cfg.dev_seed)
    if cfg.augment:
        train = train + _read(cfg, cfg.augment, log, labelled=True)
    if cfg.negatives:
        train = train + _negatives(train, cfg)
    test = []
    if cfg.test:
        test = _read(cfg, cfg.test, log, fmt=fmt, labelled=True)
    return train, dev, test
