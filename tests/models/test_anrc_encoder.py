"""Shapes, masks and attention of the ANRC encoder and classifier."""

import pytest
import torch
from helpers import batch_of, tiny

from anrc.models.featurizers import relative_positions
from anrc.models.layers import window_concat


@pytest.mark.parametrize("pooling", ["final", "max", "attention", "entity"])
@pytest.mark.parametrize("scale", ["paper", "scaled"])
def test_padding_never_changes_a_prediction(pooling, scale):
    model, feat, labels, exs, cfg = tiny(pooling=pooling, attention_scale=scale)
    model.eval()
    together = model(batch_of(exs, feat, labels)).logits  # (4, C), padded
    for i, ex in enumerate(exs):
        alone = model(batch_of([ex], feat, labels)).logits
        torch.testing.assert_close(alone[0], together[i], rtol=1e-5, atol=1e-5)


def test_shapes_and_attention_sums_to_one():
    model, feat, labels, exs, cfg = tiny()
    b = batch_of(exs, feat, labels)
    out = model(b, targets=b.labels)
    B, L = b.ids.shape
    assert out.logits.shape == (B, len(labels))
    assert out.loss.ndim == 0 and torch.isfinite(out.loss)
    att = out.attention
    assert att.shape == (B, L)
    torch.testing.assert_close(att.sum(1), torch.ones(B))
    assert (att[~b.mask] == 0).all()


def test_window_concat_is_eq1():
    x = torch.arange(1.0, 5.0).reshape(1, 4, 1)  # tokens 1..4, D = 1
    z = window_concat(x, 3)
    assert z.shape == (1, 4, 3)
    assert z[0].tolist() == [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 0]]
    assert window_concat(x, 1) is x


def test_relative_positions_clip_and_span():
    pos = relative_positions(8, (2, 4), max_distance=2) - 2
    assert pos.tolist() == [-2, -1, 0, 0, 1, 2, 2, 2]


def test_ablations_build_and_run():
    for kw in (
        {"attention": False},
        {"window": 1},
        {"position_dim": 0},
        {"dropout": 0.0},
        {"entity_repr": "head"},
    ):
        model, feat, labels, exs, cfg = tiny(**kw)
        b = batch_of(exs, feat, labels)
        assert torch.isfinite(model(b, targets=b.labels).loss)


def test_head_and_mean_entity_differ_on_multiword():
    """Eq. 2's entity vector: the mean of a multi-word span, or its last word (head)."""
    model, feat, labels, exs, cfg = tiny()
    b = batch_of(exs[:1], feat, labels)
    b.e1 = torch.tensor([[1, 3]])
    w = torch.randn(1, b.ids.shape[1], 6)
    mean = model.encoder.entity_attention(w, b)
    model.encoder.params.entity_repr = "head"
    head = model.encoder.entity_attention(w, b)
    assert not torch.allclose(mean, head)
    b.e1 = torch.tensor([[2, 3]])  # a one-word span: head and mean agree
    model.encoder.params.entity_repr = "mean"
    torch.testing.assert_close(model.encoder.entity_attention(w, b), head)
