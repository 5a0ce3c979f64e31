"""The words view (a reply's token weights over the user's own words) merges a word's
pieces by summing, leaves out what the encoder added and scales to 1: checked against
the plain per-token loop (written out here) on generated token-to-word maps, and on a
transformer-like example by hand."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anrc.data import Example
from anrc.inference.api import words_view
from anrc.models.featurizers import Marked


def reference_merged(owner, weights, n):
    out = [0.0] * n
    for w, value in zip(owner, weights, strict=False):
        if w is not None:
            out[w] += float(value)
    total = sum(out)
    return [v / total for v in out] if total > 0 else out


@st.composite
def maps(draw):
    n = draw(st.integers(2, 10))
    owner = [
        draw(st.one_of(st.none(), st.integers(0, n - 1))) for _ in range(draw(st.integers(1, 20)))
    ]
    weights = [
        draw(st.floats(0, 1)) for _ in range(draw(st.integers(len(owner) - 1, len(owner) + 2)))
    ]
    return n, owner, weights


@settings(max_examples=200, deadline=None)
@given(case=maps(), with_saliency=st.booleans())
def test_merged_weights_are_the_per_token_sums(case, with_saliency):
    n, owner, weights = case
    ex = Example("x", [f"w{i}" for i in range(n)], (0, 1), (n - 1, n))
    marked = Marked([f"t{i}" for i in range(len(owner))], (0, 1), (1, 2), (0, 1), owner)
    view = words_view(ex, marked, weights, weights if with_saliency else None)
    expected = reference_merged(owner, weights, n)
    assert view["attention"] == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert ("saliency" in view) is with_saliency
    assert view["words"] == ex.tokens and view["roles"][0] == "e1" and view["roles"][-1] == "e2"


def test_pieces_of_a_word_are_summed_and_markers_left_out():
    ex = Example("x", ["The", "burglar", "ran"], (1, 2), (2, 3))
    # [CLS] The <e1> burg ##lar </e1> <e2> ran </e2> [SEP]
    owner = [None, 0, None, 1, 1, None, None, 2, None, None]
    attention = [0.1, 0.1, 0.05, 0.2, 0.2, 0.05, 0.05, 0.1, 0.05, 0.1]
    marked = Marked(["t"] * len(owner), (3, 5), (7, 8), (2, 6), owner)
    view = words_view(ex, marked, attention, None)
    assert view["attention"] == pytest.approx([0.1 / 0.6, 0.4 / 0.6, 0.1 / 0.6])
    assert view["roles"] == ["", "e1", "e2"] and view["attention"] is not attention


def test_no_weights_no_view_values():
    ex = Example("x", ["a", "b"], (0, 1), (1, 2))
    view = words_view(ex, Marked(["a", "b"], (0, 1), (1, 2), (0, 1), [0, 1]), None, None)
    assert view["attention"] is None and "saliency" not in view
