"""How far a model's probabilities can be trusted, and temperature scaling to fix them.

Temperature scaling (Guo et al. 2017, "On Calibration of Modern Neural Networks"): one
scalar T divides the logits, ``softmax(z / T)``; T is fitted on held-out data (the dev
split) by minimising the negative log-likelihood, so the argmax, and with it every
official score, is unchanged. Log-probabilities serve as logits (softmax is unchanged
by a constant per row). The expected calibration error (ECE) bins predictions by their
confidence (the top probability) and averages |accuracy - confidence| over the bins,
weighted by their share of the predictions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: the range searched for T, on a log scale
T_RANGE = (0.05, 20.0)


def scaled(log_probs: np.ndarray, temperature: float) -> np.ndarray:
    """(N, C) probabilities ``softmax(log_probs / T)``."""
    z = log_probs / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def nll(log_probs: np.ndarray, gold: np.ndarray, temperature: float) -> float:
    """Mean negative log-likelihood of the ``gold`` label indices at temperature T."""
    p = scaled(log_probs, temperature)[np.arange(len(gold)), gold]
    return float(-np.log(np.clip(p, 1e-12, 1.0)).mean())


def fit_temperature(log_probs: np.ndarray, gold: np.ndarray, steps: int = 60) -> float:
    """The T of least NLL on (``log_probs``, ``gold``): golden-section search on log T
    over :data:`T_RANGE` (the NLL is convex in 1/T, so unimodal here)."""
    lo, hi = math.log(T_RANGE[0]), math.log(T_RANGE[1])
    ratio = (math.sqrt(5) - 1) / 2
    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = nll(log_probs, gold, math.exp(a)), nll(log_probs, gold, math.exp(b))
    for _ in range(steps):
        if fa <= fb:
            hi, b, fb = b, a, fa
            a = hi - ratio * (hi - lo)
            fa = nll(log_probs, gold, math.exp(a))
        else:
            lo, a, fa = a, b, fb
            b = lo + ratio * (hi - lo)
            fb = nll(log_probs, gold, math.exp(b))
    return math.exp((lo + hi) / 2)


@dataclass(frozen=True)
class Bin:
    """Predictions whose confidence falls in [lo, hi): how many, how confident on
    average, how often right."""

    lo: float
    hi: float
    count: int
    confidence: float
    accuracy: float


def reliability(probs: np.ndarray, gold: np.ndarray, bins: int = 10) -> list[Bin]:
    """The reliability diagram's bins (equal width over [0, 1]; empty ones left out)."""
    conf, pred = probs.max(axis=1), probs.argmax(axis=1)
    right = pred == gold
    edges = np.linspace(0.0, 1.0, bins + 1)
    out = []
    for k in range(bins):
        inside = (conf >= edges[k]) & ((conf < edges[k + 1]) | (k == bins - 1))
        if inside.any():
            out.append(Bin(float(edges[k]), float(edges[k + 1]), int(inside.sum()),
                           float(conf[inside].mean()), float(right[inside].mean())))  # fmt: skip
    return out


def expected_calibration_error(probs: np.ndarray, gold: np.ndarray, bins: int = 10) -> float:
    """ECE over ``bins`` equal-width confidence bins, as a fraction (0: calibrated)."""
    n = len(gold)
    return sum(b.count / n * abs(b.accuracy - b.confidence) for b in reliability(probs, gold, bins))
