"""End-to-end scoring of extraction on a tagged corpus with its tags removed.

Each labelled sentence (SemEval-2010 Task 8: one annotated pair a sentence) becomes raw
text, its tokens joined by spaces; extraction runs on it as one sentence with the
``sentence`` decoding (the single best pair, with the negative class when no relation
reaches the threshold), and its answer is scored by the official scorer against the
annotated label:

- the chosen pair is the annotated one: its label, turned to the annotated order;
- another pair: a wrong answer, always: its label if that differs from the annotated
  one, else the negative class (a miss). (A sentence whose annotated label is the
  negative class and whose wrong pair is also decoded negative answers the negative
  class, which the official macro-F1 ignores.)

Also measured: candidate recall (the share of sentences whose annotated pair is among
the candidate pairs) and the tagged-input score of the same model on the same sentences.

:func:`relation_scores` measures what a user of ``anrc extract`` meets with a decoding
(default ``pair``: every pair of mentions whose likeliest relation reaches the
threshold, at most one relation a pair; or ``threshold``, ``sentence``): relations a
sentence, and their precision and recall against the annotated relations (a relation
counts when its pair is the annotated one, in either order, with the annotated label;
the corpus annotates one pair a sentence, so a true relation between two other mentions
counts against precision, which is therefore a lower bound). :func:`cached` lets the
decodings share one classification of the candidate pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from anrc.data.examples import Example
from anrc.data.labels import LabelSet, flip_direction
from anrc.extraction.extract import DEFAULT_THRESHOLD, Classify, Options, extract_many
from anrc.extraction.mentions import make_source
from anrc.extraction.pairs import candidate_pairs
from anrc.metrics.scorer import official_f1


@dataclass(frozen=True)
class EndToEnd:
    """What the untagged run gave, next to the tagged one."""

    f1: float  # official macro-F1, untagged input
    tagged_f1: float  # the same model, the annotated pairs given
    candidate_recall: float  # share of sentences whose annotated pair was a candidate
    pair_found: float  # share whose chosen pair was the annotated one
    pairs_per_sentence: float
    answers: list[str]


def untagged(ex: Example) -> tuple[str, tuple[int, int], tuple[int, int]]:
    """(text, e1, e2): the sentence's tokens joined by spaces, and the annotated
    entities' character spans in it."""
    starts, at = [], 0
    for tok in ex.tokens:
        starts.append(at)
        at += len(tok) + 1
    text = " ".join(ex.tokens)

    def chars(span: tuple[int, int]) -> tuple[int, int]:
        return starts[span[0]], starts[span[1] - 1] + len(ex.tokens[span[1] - 1])

    return text, chars(ex.e1), chars(ex.e2)


def answer(relations: list, gold_e1, gold_e2, gold: str, labels: LabelSet) -> str:
    """The label submitted for a sentence by the rule of the module docstring."""
    if not relations:  # no candidate pair at all: a miss (or, gold negative, ignored)
        return labels.negative
    r = relations[0]
    chosen = _pair(r)
    if chosen == (gold_e1, gold_e2):
        return r.label
    if chosen == (gold_e2, gold_e1):
        return flip_direction(r.label) if r.label != labels.negative else r.label
    if r.label != gold:
        return r.label
    return labels.negative if gold != labels.negative else r.label


def _pair(r) -> tuple[tuple[int, int], tuple[int, int]]:
    return (r.e1.start, r.e1.end), (r.e2.start, r.e2.end)


def candidate_recall(examples: Sequence[Example], opts: Options, tagger=None) -> float:
    """Share of ``examples`` whose annotated pair is among the candidate pairs."""
    source, hit = make_source(opts.source, tagger, opts.mentions), 0
    every = source.scored_many([ex.tokens for ex in examples])
    for ex, scored in zip(examples, every, strict=True):
        pairs = candidate_pairs([span for span, _ in scored], opts.window)
        hit += (tuple(ex.e1), tuple(ex.e2)) in pairs
    return hit / max(1, len(examples))


def end_to_end(examples: Sequence[Example], classify: Classify, labels: LabelSet,
               opts: Options | None = None, tagger=None) -> EndToEnd:  # fmt: skip
    """Score extraction on ``examples`` (labelled, tagged) with their tags removed."""
    opts = replace(opts or Options(), decoding="sentence", with_negative=True, split=False)
    parts = [untagged(ex) for ex in examples]
    found = extract_many([text for text, _, _ in parts], classify, labels, opts, tagger=tagger)
    gold = [ex.label for ex in examples]
    answers = [answer(f.relations, e1, e2, g, labels)
               for f, (_, e1, e2), g in zip(found, parts, gold, strict=True)]  # fmt: skip
    same = [bool(f.relations) and _pair(f.relations[0]) in ((e1, e2), (e2, e1))
            for f, (_, e1, e2) in zip(found, parts, strict=True)]  # fmt: skip
    probs = classify(list(examples))
    tagged = [labels.labels[k] for k in np.asarray(probs).argmax(axis=1)]
    return EndToEnd(
        f1=official_f1(gold, answers, labels.negative),
        tagged_f1=official_f1(gold, tagged, labels.negative),
        candidate_recall=candidate_recall(examples, opts, tagger),
        pair_found=sum(same) / max(1, len(same)),
        pairs_per_sentence=sum(f.pairs for f in found) / max(1, len(found)),
        answers=answers,
    )


def cached(classify: Classify) -> Classify:
    """``classify`` answering each distinct pair once: a pair seen before (the same words
    and entity spans) gets its stored probabilities, so that several decodings of the
    same texts classify their candidates once."""
    seen: dict[tuple, np.ndarray] = {}

    def run(examples: Sequence[Example]) -> np.ndarray:
        keys = [(tuple(ex.tokens), tuple(ex.e1), tuple(ex.e2)) for ex in examples]
        todo = {k: ex for k, ex in zip(keys, examples, strict=True) if k not in seen}
        if todo:
            probs = np.asarray(classify(list(todo.values())))
            seen.update(zip(todo, probs, strict=True))
        return np.stack([seen[k] for k in keys]) if keys else np.zeros((0, 0))

    return run


@dataclass(frozen=True)
class Extracted:
    """Relations of a decoding against the annotated ones (percentages but
    ``per_sentence``)."""

    precision: float  # a lower bound: unannotated true relations count as wrong
    recall: float
    f1: float
    per_sentence: float
    threshold: float
    decoding: str = "pair"


def relation_scores(examples: Sequence[Example], classify: Classify, labels: LabelSet,
                    opts: Options | None = None, tagger=None,
                    decoding: str = "pair") -> Extracted:  # fmt: skip
    """``decoding``'s relations on ``examples`` with their tags removed (the negative
    class never a relation), scored against each sentence's annotated relation (its
    negative class: none)."""
    opts = replace(opts or Options(), decoding=decoding, with_negative=False, split=False)
    parts = [untagged(ex) for ex in examples]
    found = extract_many([text for text, _, _ in parts], classify, labels, opts, tagger=tagger)
    right = wrong = recalled = 0
    for f, (_, e1, e2), ex in zip(found, parts, examples, strict=True):
        hits = 0
        for r in f.relations:
            said = r.label if _pair(r) == (e1, e2) else flip_direction(r.label)
            hit = ex.label != labels.negative and _pair(r) in ((e1, e2), (e2, e1))
            hits += hit and said == ex.label
        right, wrong = right + hits, wrong + len(f.relations) - hits
        recalled += hits > 0  # both orders stating it (threshold decoding) find it once
    annotated = sum(ex.label != labels.negative for ex in examples)
    precision = 100.0 * right / max(1, right + wrong)
    recall = 100.0 * recalled / max(1, annotated)
    f1 = 2 * precision * recall / (precision + recall) if right else 0.0
    threshold = DEFAULT_THRESHOLD if opts.threshold is None else opts.threshold
    per_sentence = (right + wrong) / max(1, len(examples))
    return Extracted(precision, recall, f1, per_sentence, threshold, decoding)
