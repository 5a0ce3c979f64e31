"""Confidences a user can trust: a temperature and a no-relation threshold fitted on
held-out labelled data (the model's dev split) and stored with the model.

    probs on dev (the model's own, uncalibrated)            (N, C)
    T = argmin NLL(softmax(log probs / T))                   (Guo et al. 2017)
    threshold t = the t in 0, 0.05, ..., 0.95 of best official F1 on dev when a
        sentence is given its likeliest relation only if that reaches t, else the
        negative class (ties: the smaller t)
    ECE before and after, and the reliability bins, on dev

Saved as ``calibration.json`` beside the weights; :class:`RelationClassifier` then
answers with ``softmax(log p / T)`` (labels unchanged) and ``anrc extract`` takes ``t``
as its default ``--threshold``. Loading reads JSON only.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from anrc.data.labels import LabelSet
from anrc.errors import AnrcInputError
from anrc.extraction.decode import best_relation
from anrc.fsio import atomic_write_text
from anrc.metrics.calibration import (
    expected_calibration_error,
    fit_temperature,
    reliability,
    scaled,
)
from anrc.metrics.scorer import official_f1

FILE = "calibration.json"
THRESHOLDS = tuple(round(0.05 * k, 2) for k in range(20))


@dataclass
class Calibration:
    """A fitted temperature and threshold, and what they were fitted on."""

    temperature: float
    threshold: float
    fitted_on: str  # where the held-out sentences came from
    sentences: int
    ece_before: float  # on the fitting data, as fractions
    ece_after: float
    f1_at_threshold: dict[str, float] = field(default_factory=dict)
    bins_before: list[dict] = field(default_factory=list)
    bins_after: list[dict] = field(default_factory=list)

    def apply(self, probs: np.ndarray) -> np.ndarray:
        """(N, C) probabilities at this temperature."""
        return scaled(np.log(np.clip(probs, 1e-12, 1.0)), self.temperature)

    def save(self, folder: str | Path) -> None:
        atomic_write_text(Path(folder) / FILE, json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, folder: str | Path) -> Calibration | None:
        """The folder's calibration (None when it has none; one line when unreadable)."""
        path = Path(folder) / FILE
        if not path.is_file():
            return None
        try:
            found = cls(**json.loads(path.read_text(encoding="utf-8")))
            if not found.temperature > 0 or not 0 <= found.threshold <= 1:
                raise ValueError("temperature must be > 0 and threshold in [0, 1]")
        except (ValueError, TypeError) as err:
            raise AnrcInputError(f"not a calibration ({err})", str(path)) from None
        return found


def decide(probs: np.ndarray, labels: LabelSet, threshold: float) -> list[str]:
    """Each row's likeliest relation where it reaches ``threshold``, else the negative
    class (every label's argmax when the label set has no negative class)."""
    if not labels.has_negative:
        return [labels.labels[k] for k in probs.argmax(axis=1)]
    best, score = best_relation(probs, labels)
    return [labels.labels[k] if s >= threshold else labels.negative
            for k, s in zip(best, score, strict=True)]  # fmt: skip


def fit(probs: np.ndarray, gold: list[str], labels: LabelSet, fitted_on: str) -> Calibration:
    """Temperature, threshold and the ECE before and after on (``probs``, ``gold``)."""
    idx = np.array([labels.index(g) for g in gold])
    t = fit_temperature(np.log(np.clip(probs, 1e-12, 1.0)), idx)
    after = scaled(np.log(np.clip(probs, 1e-12, 1.0)), t)
    f1 = {f"{x:.2f}": official_f1(gold, decide(after, labels, x), labels.negative)
          for x in THRESHOLDS}  # fmt: skip
    threshold = float(max(f1, key=lambda k: (f1[k], -float(k))))
    return Calibration(
        temperature=t, threshold=threshold, fitted_on=fitted_on, sentences=len(gold),
        ece_before=expected_calibration_error(probs, idx),
        ece_after=expected_calibration_error(after, idx), f1_at_threshold=f1,
        bins_before=[asdict(b) for b in reliability(probs, idx)],
        bins_after=[asdict(b) for b in reliability(after, idx)],
    )  # fmt: skip
