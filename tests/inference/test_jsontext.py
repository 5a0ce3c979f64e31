"""JSON answers: compact UTF-8, NumPy numbers as numbers, and never a NaN or an infinity
written as null (orjson's way) where the standard library refused it."""

import json
import math

import numpy as np
import pytest

from anrc.inference.jsontext import NotFinite, dumps, dumps_str, finite


def test_values_round_trip_as_compact_utf8():
    values = {"label": "Other", "score": 0.25, "words": ["Zürich", "naïve"], "spans": [[1, 2]]}
    text = dumps(values)
    assert json.loads(text) == values
    assert "Zürich".encode() in text and b", " not in text
    assert dumps_str(values) == text.decode("utf-8")


def test_numpy_numbers_are_numbers():
    values = {"p": np.float32(0.5), "a": np.array([0.25, 0.75], dtype=np.float32)}
    assert json.loads(dumps(values)) == {"p": 0.5, "a": [0.25, 0.75]}


@pytest.mark.parametrize(
    "bad",
    [
        {"score": math.nan},
        {"scores": {"Other": 0.5, "x": math.inf}},
        {"attention": [0.1, -math.inf], "roles": None},
        {"words": {"attention": [[0.5, math.nan]]}},
        {"a": np.array([0.5, np.nan])},
        {"p": np.float64("inf")},
        {"mixed": [None, "word", 0.5, math.nan]},
        {"big": [1e308, 1e308, math.inf]},
    ],
)
def test_a_number_that_is_not_finite_is_refused_not_written_as_null(bad):
    assert not finite(bad)
    with pytest.raises(NotFinite):
        dumps(bad)


def test_large_numbers_are_finite_even_where_their_sum_is_not():
    values = {"big": [1e308, 1e308, -1e308], "ids": [10**400, 1], "mixed": [10**400, 0.5]}
    assert finite(values)
    assert json.loads(dumps({"attention": None, "big": [1e308, 1e308]}))["big"] == [1e308, 1e308]


def test_a_real_null_passes():
    values = {"attention": None, "saliency": [0.5, 0.5], "ids": np.array([1, 2])}
    assert finite(values)
    assert json.loads(dumps(values)) == {"attention": None, "saliency": [0.5, 0.5], "ids": [1, 2]}
