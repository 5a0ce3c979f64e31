"""The scorer against the organisers' own test vectors, line by line."""

import re

import pytest

from anrc.data.answers import read_answers
from anrc.metrics.report import format_report
from anrc.metrics.scorer import ScorerError, accuracy, evaluate, official_f1, score

FIGURE = re.compile(r"\d+\.\d\d")


def _vectors(data_dir, n):
    v = data_dir / "scorer_vectors"
    key, _ = read_answers(v / f"answer_key{n}.txt")
    prop, _ = read_answers(v / f"proposed_answer{n}.txt")
    expected = (v / f"result_scores{n}.txt").read_text().replace("\r\n", "\n")
    return key, prop, expected


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_every_figure_matches_official_output(data_dir, n):
    key, prop, expected = _vectors(data_dir, n)
    ours = format_report(score(key, prop)).splitlines()
    theirs = expected.splitlines()
    assert len(ours) == len(theirs)
    figure_lines = 0
    for mine, official in zip(ours, theirs, strict=True):
        if FIGURE.search(official) or re.search(r"\d", official):
            figure_lines += 1
            assert FIGURE.findall(mine) == FIGURE.findall(official), official
            assert re.findall(r"\d+", mine) == re.findall(r"\d+", official), official
    assert figure_lines > 20


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_layout_is_identical(data_dir, n):
    key, prop, expected = _vectors(data_dir, n)
    assert format_report(score(key, prop)) == expected


@pytest.mark.parametrize("n,f1", [(1, 64.09), (2, 6.35), (3, 11.11), (5, 44.44)])
def test_official_score(data_dir, n, f1):
    key, prop, _ = _vectors(data_dir, n)
    assert round(score(key, prop).official_f1, 2) == f1


def test_wrong_direction_is_wrong_but_counts_in_precision():
    key = {"1": "Cause-Effect(e1,e2)", "2": "Cause-Effect(e1,e2)", "3": "Other"}
    prop = {"1": "Cause-Effect(e2,e1)", "2": "Cause-Effect(e1,e2)", "3": "Other"}
    ev = evaluate(key, prop, "official")
    ce = ev.relations[0]
    assert (ce.correct, ce.proposed, ce.wrong_direction, ce.actual) == (1, 1, 1, 2)
    assert ce.precision == pytest.approx(50.0)
    assert evaluate(key, prop, "undirected").relations[0].precision == pytest.approx(100.0)


def test_skipped_and_unknown_labels():
    key = {"1": "A-B(e1,e2)", "2": "Other", "3": "A-B(e1,e2)"}
    prop = {"1": "C-D(e1,e2)", "2": "A-B(e1,e2)"}
    rep = score(key, prop)
    assert rep.warnings == [("C-D(e1,e2)", 1)]
    ev = rep.official
    assert ev.extra_columns == ["C-D"]
    assert ev.skipped == {"A-B": 1, "Other": 0}
    # The unknown prediction counts as the negative class in the averages.
    assert ev.micro_proposed == 1
    assert ev.covered == 2 and ev.total == 3


def test_prediction_not_in_key_is_an_error():
    with pytest.raises(ScorerError, match="'9'"):
        evaluate({"1": "Other"}, {"9": "Other"})


def test_other_negative_class_name():
    gold = ["per:boss(e1,e2)", "no_relation", "per:boss(e1,e2)"]
    pred = ["per:boss(e1,e2)", "no_relation", "no_relation"]
    assert official_f1(gold, pred, negative="no_relation") == pytest.approx(200 / 3)
    assert accuracy(gold, pred) == pytest.approx(200 / 3)


def test_perfect_and_empty():
    gold = ["A-B(e1,e2)", "Other", "C-D(e2,e1)"]
    assert official_f1(gold, gold) == pytest.approx(100.0)
    assert official_f1(gold, ["Other"] * 3) == 0.0
