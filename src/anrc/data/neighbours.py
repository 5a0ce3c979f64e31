"""Word substitution by nearest neighbours in a word-vector space: the transformation and
its constraints, shared by the word attack (anrc.attacks.word) and the distillation
transfer set (anrc.training.distill).

A word may change when it is outside both entities, alphabetic and not a stop word;
it changes to one of its nearest neighbours by cosine (above a threshold), itself
alphabetic and not a stop word, in the case pattern of the word it replaces.
"""

from __future__ import annotations

import numpy as np

from anrc.data.examples import Example

_STOP = """a about above after again against all am an and any are as at be because been before
    being below between both but by can did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself
    yourselves"""
STOP_WORDS = frozenset(_STOP.split())


def _case(word: str) -> str:
    if word.isupper():
        return "upper"
    if word[:1].isupper():
        return "title"
    return "lower"


def _recase(word: str, like: str) -> str:
    c = _case(like)
    return word.upper() if c == "upper" else word.capitalize() if c == "title" else word


class Neighbours:
    """Nearest neighbours by cosine over a word list and its (N, D) vectors."""

    def __init__(self, words: list[str], matrix: np.ndarray, k: int = 15, min_cos: float = 0.6):
        self.words = words
        self.index = {w: i for i, w in enumerate(words)}
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        self.unit = matrix / np.maximum(norms, 1e-12)
        self.k, self.min_cos = k, min_cos
        self._cache: dict[str, list[str]] = {}

    def __call__(self, word: str) -> list[str]:
        key = word.lower()
        if key not in self._cache:
            i = self.index.get(key)
            out: list[str] = []
            if i is not None:
                sims = self.unit @ self.unit[i]
                top = np.argpartition(-sims, min(self.k + 1, len(sims) - 1))[: self.k + 1]
                for j in sorted(top, key=lambda j: -sims[j]):
                    w = self.words[j]
                    if j != i and sims[j] >= self.min_cos and w.isalpha() and w not in STOP_WORDS:
                        out.append(w)
            self._cache[key] = out[: self.k]
        return [_recase(w, word) for w in self._cache[key]]


def candidate_positions(ex: Example) -> list[int]:
    """Positions that may change: not inside an entity, not a stop word, alphabetic."""
    ent = set(range(*ex.e1)) | set(range(*ex.e2))
    return [
        i
        for i, t in enumerate(ex.tokens)
        if i not in ent and t.isalpha() and t.lower() not in STOP_WORDS
    ]
