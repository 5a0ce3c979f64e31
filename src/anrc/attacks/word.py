"""Word-substitution attacks (black-box): greedy, TextFooler-style, and a random control.

Greedy attack (in the spirit of Jin et al. 2020): rank the words by importance
(drop in the gold label's probability when the word is deleted), then, most
important first, replace a word by the nearest neighbour in the word-vector space
(cosine above a threshold, same case pattern, no stop words) that lowers the gold
probability most, until the prediction is wrong or the budget (a fraction of the
sentence's words) is spent. The two entity mentions are never touched, so the
tags stay exact. The random control changes as many words, at random positions,
to random neighbours: it separates what is adversarial from what is noise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from anrc.data import Example
from anrc.registry import Registry

WORD_ATTACKS: Registry = Registry("word attack")

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


@dataclass
class AttackResult:
    original: Example
    perturbed: Example
    gold: str
    before: str
    after: str
    changed: list[int] = field(default_factory=list)  # token positions replaced
    queries: int = 0

    def to_json(self) -> dict:
        return {
            "id": self.original.id,
            "original": self.original.tagged_text(),
            "perturbed": self.perturbed.tagged_text(),
            "gold": self.gold,
            "before": self.before,
            "after": self.after,
            "words_changed": [
                {"position": i, "from": self.original.tokens[i], "to": self.perturbed.tokens[i]}
                for i in self.changed
            ],
            "queries": self.queries,
        }


def candidate_positions(ex: Example) -> list[int]:
    """Positions that may change: not inside an entity, not a stop word, alphabetic."""
    ent = set(range(*ex.e1)) | set(range(*ex.e2))
    return [
        i
        for i, t in enumerate(ex.tokens)
        if i not in ent and t.isalpha() and t.lower() not in STOP_WORDS
    ]


def _replace(ex: Example, i: int, word: str) -> Example:
    tokens = list(ex.tokens)
    tokens[i] = word
    return Example(ex.id, tokens, ex.e1, ex.e2, ex.label, ex.line)


def _delete(ex: Example, i: int) -> Example:
    tokens = ex.tokens[:i] + ex.tokens[i + 1 :]
    shift = lambda s: (s[0] - (s[0] > i), s[1] - (s[1] > i))  # noqa: E731
    return Example(ex.id, tokens, shift(ex.e1), shift(ex.e2), ex.label, ex.line)


def budget(ex: Example, max_fraction: float) -> int:
    return max(1, int(max_fraction * len(ex.tokens)))


@WORD_ATTACKS.register("word")
def greedy_attack(
    clf, ex: Example, neighbours: Neighbours, max_fraction: float = 0.2
) -> AttackResult:
    """Attack one labelled example against ``clf`` (a RelationClassifier)."""
    gold = ex.label
    first = clf.predict_many([ex])[0]
    queries = 1
    result = AttackResult(ex, ex, gold, first.label, first.label, [], queries)
    if first.label != gold:
        return result  # already wrong: nothing to attack
    positions = candidate_positions(ex)
    if not positions:
        return result
    base = first.scores[gold]
    deleted = clf.predict_many([_delete(ex, i) for i in positions])
    queries += len(positions)
    order = sorted(positions, key=lambda i: -(base - deleted[positions.index(i)].scores[gold]))
    current, changed, current_p, after = ex, [], base, first.label
    for i in order:
        if len(changed) >= budget(ex, max_fraction):
            break
        cands = neighbours(ex.tokens[i])
        if not cands:
            continue
        trials = [_replace(current, i, w) for w in cands]
        preds = clf.predict_many(trials)
        queries += len(trials)
        best = min(range(len(trials)), key=lambda j: preds[j].scores[gold])
        if preds[best].scores[gold] >= current_p:
            continue  # no neighbour lowers the gold probability here
        current, changed = trials[best], [*changed, i]
        current_p, after = preds[best].scores[gold], preds[best].label
        if after != gold:
            break
    return AttackResult(ex, current, gold, first.label, after, changed, queries)


@WORD_ATTACKS.register("random-word")
def random_attack(
    clf, ex: Example, neighbours: Neighbours, n_words: int, rng: np.random.Generator
) -> AttackResult:
    """The control: ``n_words`` random allowed positions, each to a random neighbour."""
    first = clf.predict_many([ex])[0]
    positions = [i for i in candidate_positions(ex) if neighbours(ex.tokens[i])]
    chosen = sorted(rng.permutation(positions)[: min(n_words, len(positions))].tolist())
    current = ex
    for i in chosen:
        cands = neighbours(ex.tokens[i])
        current = _replace(current, i, cands[int(rng.integers(len(cands)))])
    after = clf.predict_many([current])[0].label if chosen else first.label
    return AttackResult(ex, current, ex.label, first.label, after, chosen, 2 if chosen else 1)


def summarise(results: list[AttackResult]) -> dict:
    n = len(results)
    correct_before = [r for r in results if r.before == r.gold]
    flipped = [r for r in correct_before if r.after != r.gold]
    return {
        "examples": n,
        "accuracy_before": 100.0 * len(correct_before) / n if n else 0.0,
        "accuracy_after": 100.0 * sum(r.after == r.gold for r in results) / n if n else 0.0,
        "success_rate": 100.0 * len(flipped) / len(correct_before) if correct_before else 0.0,
        "mean_fraction_changed": float(
            np.mean([len(r.changed) / len(r.original.tokens) for r in correct_before])
        )
        if correct_before
        else 0.0,
        "mean_queries": float(np.mean([r.queries for r in results])) if results else 0.0,
    }
