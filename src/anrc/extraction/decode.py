"""From the label probabilities of a sentence's ordered pairs to its relations.

Each decoding registers under a name (``DECODINGS``) and returns decisions ``(pair,
label, score)``: indices into the sentence's pairs and the label set. A label other than
the negative class counts when its probability reaches ``threshold``.

- ``threshold``: every ordered pair on its own;
- ``pair``: at most one relation per pair of mentions, the better of its two orders;
- ``sentence``: the single best pair of the sentence (SemEval-2010 Task 8 annotates one
  pair a sentence), best by P(label) x ``prior`` (the two mentions' scores, when the
  tagger gave them); when its label does not reach the threshold, that pair with the
  negative class, so that the sentence still names its pair.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from anrc.data.labels import LabelSet
from anrc.registry import Registry

Decision = tuple[int, int, float]
#: (probs (P, C), pairs, labels, threshold, prior (P,)) -> decisions
Decoding = Callable[[np.ndarray, list, LabelSet, float, np.ndarray], list[Decision]]
DECODINGS: Registry[Decoding] = Registry("decoding")


def best_relation(probs: np.ndarray, labels: LabelSet) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``probs`` (P, C): the most probable label that is not the negative
    class, and its probability."""
    masked = probs.copy()
    if labels.has_negative:
        masked[:, labels.index(labels.negative)] = -1.0
    best = masked.argmax(axis=1)
    return best, masked[np.arange(len(probs)), best]


@DECODINGS.register("threshold")
def each_pair(probs: np.ndarray, pairs: list, labels: LabelSet, threshold: float,
              prior: np.ndarray | None = None) -> list[Decision]:  # fmt: skip
    best, score = best_relation(probs, labels)
    return [(i, int(best[i]), float(score[i])) for i in range(len(pairs)) if score[i] >= threshold]


@DECODINGS.register("pair")
def one_per_pair(
    probs: np.ndarray,
    pairs: list,
    labels: LabelSet,
    threshold: float,
    prior: np.ndarray | None = None,
) -> list[Decision]:
    best, score = best_relation(probs, labels)
    kept: dict[frozenset, int] = {}
    for i, (a, b) in enumerate(pairs):
        key = frozenset((a, b))
        if key not in kept or score[i] > score[kept[key]]:
            kept[key] = i
    return [(i, int(best[i]), float(score[i])) for i in sorted(kept.values())
            if score[i] >= threshold]  # fmt: skip


@DECODINGS.register("sentence")
def best_of_sentence(
    probs: np.ndarray,
    pairs: list,
    labels: LabelSet,
    threshold: float,
    prior: np.ndarray | None = None,
) -> list[Decision]:
    if not len(pairs):
        return []
    best, score = best_relation(probs, labels)
    i = int((score if prior is None else score * prior).argmax())
    if score[i] >= threshold or not labels.has_negative:
        return [(i, int(best[i]), float(score[i]))]
    k = labels.index(labels.negative)
    return [(i, k, float(probs[i, k]))]
