"""The word featuriser's batch, built with slices and whole-batch array operations, is
exactly what the plain per-token, per-sentence reading gives (written out here)."""

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from anrc.data import Example
from anrc.data.vocab import Vocab
from anrc.models.featurizers import MARKER_STYLES, WordFeaturizer, mark


def reference_mark(ex, markers):
    """Markers inserted token by token: at each position the closing markers first."""
    inserts = sorted([(ex.e1[0], 1, 0), (ex.e1[1], 0, 1), (ex.e2[0], 1, 2), (ex.e2[1], 0, 3)])
    tokens, words, at, k = [], [], [0] * 4, 0
    for i in range(len(ex.tokens) + 1):
        while k < 4 and inserts[k][0] == i:
            at[inserts[k][2]] = len(tokens)
            tokens.append(markers[inserts[k][2]])
            words.append(None)
            k += 1
        if i < len(ex.tokens):
            tokens.append(ex.tokens[i])
            words.append(i)
    return tokens, words, (at[0] + 1, at[1]), (at[2] + 1, at[3]), (at[0], at[2])


def reference_positions(n, span, width, max_distance):
    s, e = span
    d = [i - s if i < s else i - (e - 1) if i >= e else 0 for i in range(n)]
    return [min(max(x, -max_distance), max_distance) + max_distance for x in d] + [0] * (width - n)


@st.composite
def examples(draw):
    n = draw(st.integers(2, 12))
    words = [f"w{draw(st.integers(0, 5))}" for _ in range(n)]
    a = sorted(draw(st.lists(st.integers(0, n), min_size=4, max_size=4)))
    spans = [(a[0], max(a[0] + 1, a[1])), (max(a[1], a[2]), max(a[2] + 1, a[3]))]
    spans = [(s, min(e, n)) for s, e in spans]
    spans = [(min(s, e - 1), e) for s, e in spans]
    if draw(st.booleans()):
        spans.reverse()
    return Example("x", words, spans[0], spans[1])


@settings(max_examples=200, deadline=None)
@given(ex=examples(), style=st.sampled_from(["tags", "punct"]))
def test_mark_is_the_per_token_insertion(ex, style):
    markers = MARKER_STYLES[style]
    got = mark(ex, markers)
    assert (got.tokens, got.words, got.e1, got.e2, got.starts) == reference_mark(ex, markers)


@settings(max_examples=60, deadline=None)
@given(batch=st.lists(examples(), min_size=1, max_size=5), style=st.sampled_from(["none", "tags"]),
       max_distance=st.integers(1, 6))  # fmt: skip
def test_a_batch_is_each_sentence_featurised_alone(batch, style, max_distance):
    feat = WordFeaturizer(Vocab([f"w{i}" for i in range(4)]), max_distance, style)
    got = feat(batch)
    width = got.ids.shape[1]
    for i, ex in enumerate(batch):
        m = feat.marked(ex)
        n = len(m.tokens)
        assert got.lengths[i].item() == n
        assert got.ids[i, :n].tolist() == feat.vocab.encode(m.tokens)
        assert not got.ids[i, n:].any()
        for pos, span in ((got.pos1, m.e1), (got.pos2, m.e2)):
            assert pos[i].tolist() == reference_positions(n, span, width, max_distance)
    assert {t.dtype for t in (got.ids, got.lengths, got.pos1, got.pos2)} == {torch.long}
