"""Paired significance tests on test-set predictions, with a fast official macro-F1.

The paired bootstrap (Koehn 2004; Berg-Kirkpatrick et al. 2012) resamples test
examples with replacement and counts how often system B fails to beat system A;
the sign test counts seeds on which B beats A.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

import numpy as np

from anrc.data.labels import strip_direction


class FastOfficialF1:
    """Official (9+1)-way directed macro-F1 over many resamples of one test set.

    Matches :func:`anrc.metrics.scorer.official_f1` when every key id has a prediction
    and every predicted label occurs in the key (tested).
    """

    def __init__(self, gold: Sequence[str], negative: str = "Other"):
        self.negative = negative
        self.relations = sorted({strip_direction(g) for g in gold} - {negative})
        self.rel_index = {r: i for i, r in enumerate(self.relations)}
        self.gold_full = list(gold)
        self.gold_rel = np.array([self._rel(g) for g in gold])

    def _rel(self, label: str) -> int:
        return self.rel_index.get(strip_direction(label), -1)  # -1: negative or unknown

    def per_example(self, pred: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per example: gold relation, predicted relation (counted for precision), correct."""
        p_rel = np.array([self._rel(p) for p in pred])
        correct = np.array(
            [g == p for g, p in zip(self.gold_full, pred, strict=True)], dtype=bool
        ) & (self.gold_rel >= 0)
        return self.gold_rel, p_rel, correct

    def score(self, pred: Sequence[str], counts: np.ndarray | None = None) -> np.ndarray:
        """Macro F1 (percent); ``counts`` (R, N) gives resample weights, one row per resample."""
        g, p, c = self.per_example(pred)
        n_rel = len(self.relations)
        if counts is None:
            counts = np.ones((1, len(g)), dtype=np.int64)

        # Each (R, n_rel) table: weighted counts of gold, predicted and correct per relation.
        def table(idx: np.ndarray, mask: np.ndarray) -> np.ndarray:
            onehot = np.zeros((len(idx), n_rel))
            ok = (idx >= 0) & mask
            onehot[np.nonzero(ok)[0], idx[ok]] = 1.0
            return counts @ onehot

        ones = np.ones(len(g), dtype=bool)
        gold_n, pred_n, corr_n = table(g, ones), table(p, ones), table(g, c)
        with np.errstate(divide="ignore", invalid="ignore"):
            prec = np.where(pred_n > 0, 100.0 * corr_n / pred_n, 0.0)
            rec = np.where(gold_n > 0, 100.0 * corr_n / gold_n, 0.0)
            f1 = np.where(prec + rec > 0, 2 * prec * rec / (prec + rec), 0.0)
        return f1.mean(axis=1)


def mean_std(xs: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation over seeds (std 0 for one seed, nan for none)."""
    if not xs:
        return float("nan"), float("nan")
    return statistics.mean(xs), (statistics.stdev(xs) if len(xs) > 1 else 0.0)


def paired_bootstrap(
    gold: Sequence[str],
    pred_a: Sequence[str],
    pred_b: Sequence[str],
    n: int = 1000,
    seed: int = 0,
    negative: str = "Other",
) -> dict:
    """One-sided p-value that B is not better than A, by resampling test examples."""
    f = FastOfficialF1(gold, negative)
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(len(gold), np.full(len(gold), 1.0 / len(gold)), size=n)
    a, b = f.score(pred_a, counts), f.score(pred_b, counts)
    delta = float(f.score(pred_b)[0] - f.score(pred_a)[0])
    return {"delta": delta, "p_value": float((b - a <= 0).mean()), "resamples": n}


def sign_test(deltas: Sequence[float]) -> float:
    """Two-sided exact sign test p-value over paired differences (ties dropped)."""
    wins = sum(d > 0 for d in deltas)
    losses = sum(d < 0 for d in deltas)
    k, m = min(wins, losses), wins + losses
    if m == 0:
        return 1.0
    tail = sum(math.comb(m, i) for i in range(k + 1)) / 2**m
    return min(1.0, 2 * tail)
