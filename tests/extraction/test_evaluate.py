"""End-to-end scoring: untagged text, the answer rule, candidate recall, on fakes whose
right answers are known."""

import numpy as np
import pytest

from anrc.data.examples import Example
from anrc.data.labels import LabelSet
from anrc.extraction.evaluate import answer, cached, end_to_end, relation_scores, untagged
from anrc.extraction.extract import Mention, Relation

LABELS = LabelSet(("Other", "Cause-Effect(e1,e2)", "Cause-Effect(e2,e1)"))


def _rel(e1, e2, label):
    return Relation(0, Mention("", *e1), Mention("", *e2), label, "", 0.9)


def test_untagged_text_keeps_the_annotated_spans():
    ex = Example(
        "1", ["The", "singer", "'s", "song", "caused", "a", "commotion", "."], (1, 2), (6, 7)
    )
    text, e1, e2 = untagged(ex)
    assert text[slice(*e1)] == "singer" and text[slice(*e2)] == "commotion"


@pytest.mark.parametrize(
    ("chosen", "label", "gold", "want"),
    [
        (((0, 6), (10, 19)), "Cause-Effect(e1,e2)", "Cause-Effect(e1,e2)", "Cause-Effect(e1,e2)"),
        (((10, 19), (0, 6)), "Cause-Effect(e2,e1)", "Cause-Effect(e1,e2)", "Cause-Effect(e1,e2)"),
        (((10, 19), (0, 6)), "Other", "Other", "Other"),
        # another pair: always a wrong answer
        (((0, 6), (30, 35)), "Cause-Effect(e1,e2)", "Cause-Effect(e1,e2)", "Other"),
        (((0, 6), (30, 35)), "Cause-Effect(e2,e1)", "Cause-Effect(e1,e2)", "Cause-Effect(e2,e1)"),
        (((0, 6), (30, 35)), "Cause-Effect(e1,e2)", "Other", "Cause-Effect(e1,e2)"),
    ],
)
def test_the_answer_rule(chosen, label, gold, want):
    assert answer([_rel(*chosen, label)], (0, 6), (10, 19), gold, LABELS) == want


def test_no_candidate_pair_is_a_miss():
    assert answer([], (0, 6), (10, 19), "Cause-Effect(e1,e2)", LABELS) == "Other"


def _oracle(examples):
    """Right on the annotated pair of 'A causes B' sentences; 'Other' elsewhere."""
    out = np.tile([0.8, 0.1, 0.1], (len(examples), 1))
    for i, ex in enumerate(examples):
        pair = ex.tokens[ex.e1[0]], ex.tokens[ex.e2[0]]
        if pair == ("rain", "flood"):
            out[i] = [0.05, 0.9, 0.05]
        elif pair == ("flood", "rain"):
            out[i] = [0.05, 0.05, 0.9]
    return out


THREE = [
    Example("1", ["rain", "caused", "the", "flood"], (0, 1), (3, 4), "Cause-Effect(e1,e2)"),
    Example("2", ["the", "flood", "followed", "rain"], (1, 2), (3, 4), "Cause-Effect(e2,e1)"),
    Example("3", ["a", "cat", "sat", "here"], (1, 2), (2, 3), "Other"),
]


def test_end_to_end_equals_tagged_when_the_pair_is_always_found():
    exs = THREE
    got = end_to_end(exs, _oracle, LABELS)
    assert got.candidate_recall == 1.0 and got.f1 == got.tagged_f1 == 100.0
    assert got.answers == ["Cause-Effect(e1,e2)", "Cause-Effect(e2,e1)", "Other"]
    assert got.pairs_per_sentence == pytest.approx((6 + 6 + 2) / 3)


def test_a_pair_the_candidates_miss_costs_the_end_to_end_score():
    exs = [Example("1", ["rain", "caused", "the", "flood"], (0, 1), (2, 4), "Cause-Effect(e1,e2)")]
    got = end_to_end(exs, _oracle, LABELS)
    assert got.candidate_recall == 0.0 and got.pair_found == 0.0
    assert got.f1 == 0.0 and got.answers == ["Other"]


def test_relation_scores_count_the_annotated_relation_in_either_order():
    exs = THREE
    got = relation_scores(exs, _oracle, LABELS)
    assert (got.precision, got.recall, got.f1) == (100.0, 100.0, 100.0)
    assert got.per_sentence == pytest.approx(2 / 3) and got.threshold == 0.5

    def noisy(examples):  # also calls cat -> sat a relation: a wrong one
        out = _oracle(examples)
        for i, ex in enumerate(examples):
            if ex.tokens[ex.e1[0]] == "cat":
                out[i] = [0.1, 0.8, 0.1]
        return out

    got = relation_scores(exs, noisy, LABELS)
    assert got.precision == pytest.approx(200 / 3) and got.recall == 100.0
    wrong_way = [Example("1", ["rain", "caused", "the", "flood"], (0, 1), (3, 4),
                         "Cause-Effect(e2,e1)")]  # fmt: skip
    assert relation_scores(wrong_way, _oracle, LABELS).recall == 0.0  # the direction counts


def test_each_decoding_is_scored_and_they_share_one_classification():
    """A weak wrong relation (rain -> caused, 0.6) is kept by the per-pair decodings and
    dropped by the sentence's single best pair; the three decodings classify the
    candidates once between them (``cached``)."""
    calls = []

    def weak(examples):
        calls.append(len(examples))
        out = _oracle(examples)
        for i, ex in enumerate(examples):
            if (ex.tokens[ex.e1[0]], ex.tokens[ex.e2[0]]) == ("rain", "caused"):
                out[i] = [0.3, 0.6, 0.1]
        return out

    classify, exs = cached(weak), THREE[:1]
    got = {d: relation_scores(exs, classify, LABELS, decoding=d)
           for d in ("threshold", "pair", "sentence")}  # fmt: skip
    assert len(calls) == 1 and calls[0] == 6  # 3 content words, 6 ordered pairs
    assert (got["sentence"].per_sentence, got["sentence"].precision) == (1.0, 100.0)
    assert (got["pair"].per_sentence, got["pair"].precision) == (2.0, 50.0)
    # both orders of the annotated pair, each right, and the weak one
    assert got["threshold"].per_sentence == 3.0
    assert got["threshold"].precision == pytest.approx(200 / 3)
    assert all(g.recall == 100.0 and g.decoding == d for d, g in got.items())


def test_the_cache_answers_repeated_pairs_in_order():
    calls = []

    def count(examples):
        calls.append([ex.id for ex in examples])
        return np.array([[float(len(ex.id))] for ex in examples])

    classify = cached(count)
    a, b = Example("a", ["x", "y"], (0, 1), (1, 2)), Example("bb", ["x", "y"], (1, 2), (0, 1))
    assert classify([a, b, a]).tolist() == [[1.0], [2.0], [1.0]]
    assert classify([b, a]).tolist() == [[2.0], [1.0]] and calls == [["a", "bb"]]
