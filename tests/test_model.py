"""Shapes, masks and attention of the ANRC encoder and classifier."""

import pytest
import torch
from helpers import batch_of, tiny

from anrc.batching import relative_positions
from anrc.encoder import window_concat


@pytest.mark.parametrize("pooling", ["final", "max", "attention", "entity"])
@pytest.mark.parametrize("scale", ["paper", "scaled"])
def test_padding_never_changes_a_prediction(pooling, scale):
    model, vocab, labels, exs, cfg = tiny(pooling=pooling, attention_scale=scale)
    model.eval()
    together = model(batch_of(exs, vocab, labels, cfg)).logits  # (4, C), padded
    for i, ex in enumerate(exs):
        alone = model(batch_of([ex], vocab, labels, cfg)).logits
        torch.testing.assert_close(alone[0], together[i], rtol=1e-5, atol=1e-5)


def test_shapes_and_attention_sums_to_one():
    model, vocab, labels, exs, cfg = tiny()
    b = batch_of(exs, vocab, labels, cfg)
    out = model(b, b.labels)
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
        model, vocab, labels, exs, cfg = tiny(**kw)
        b = batch_of(exs, vocab, labels, cfg)
        assert torch.isfinite(model(b, b.labels).loss)


def test_head_and_mean_entity_differ_on_multiword():
    model, vocab, labels, exs, cfg = tiny()
    w = torch.randn(1, 5, 6)
    spans = torch.tensor([[1, 3]])
    mean = model.encoder.entity_vectors(w, spans)
    torch.testing.assert_close(mean[0], w[0, 1:3].mean(0))
    model.encoder.cfg.entity_repr = "head"
    torch.testing.assert_close(model.encoder.entity_vectors(w, spans)[0], w[0, 2])
