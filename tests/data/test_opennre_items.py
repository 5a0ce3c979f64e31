"""OpenNRE's item shapes: ``text`` + character offsets (its README's infer input), tuples."""

import pytest

from anrc.data.examples import example_from_json

README_TEXT = (
    "He was the son of Máel Dúin mac Máele Fithrich, and grandson of the high king "
    "Áed Uaridnach (died 612)."
)


def test_opennre_readme_item():
    item = {"text": README_TEXT, "h": {"pos": (18, 46)}, "t": {"pos": (78, 91)}}
    ex = example_from_json(item, "0")
    assert ex.tokens[ex.e1[0] : ex.e1[1]] == ["Máel", "Dúin", "mac", "Máele", "Fithrich"]
    assert ex.tokens[ex.e2[0] : ex.e2[1]] == ["Áed", "Uaridnach"]


def test_entity_inside_a_word_is_cut_out_whole():
    ex = example_from_json(
        {"text": "xyzabc and def", "h": {"pos": [3, 6]}, "t": {"pos": [11, 14]}}, "0"
    )
    assert ex.tokens[ex.e1[0] : ex.e1[1]] == ["abc"] and ex.tokens[: ex.e1[0]] == ["xyz"]


def test_token_items_accept_tuples_and_tail_before_head():
    ex = example_from_json(
        {"token": ["a", "b", "c"], "h": {"pos": (2, 3)}, "t": {"pos": (0, 1)}}, "0"
    )
    assert ex.e1 == (2, 3) and ex.e2 == (0, 1)


@pytest.mark.parametrize(
    "item, message",
    [
        ({"text": "ab cd", "h": {"pos": [0, 2]}, "t": {"pos": [3, 9]}}, "outside the 5 characters"),
        ({"text": "ab cd", "h": {"pos": [0, 2]}, "t": {"pos": [1, 4]}}, "overlap"),
        ({"text": "ab  cd", "h": {"pos": [2, 4]}, "t": {"pos": [4, 6]}}, "empty"),
        ({"text": 5, "h": {"pos": [0, 1]}, "t": {"pos": [1, 2]}}, '"text" must be'),
    ],
)
def test_bad_character_spans_are_named(item, message):
    with pytest.raises(ValueError, match=message):
        example_from_json(item, "0")
