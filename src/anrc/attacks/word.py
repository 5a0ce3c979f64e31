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
from anrc.data.neighbours import Neighbours, candidate_positions
from anrc.registry import Registry

WORD_ATTACKS: Registry = Registry("word attack")


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
