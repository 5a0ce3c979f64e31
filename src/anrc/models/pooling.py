"""Pooling: encoder states (B, L, H) -> a sentence vector.

A pooling setting names one or more registered poolers joined by ``+``; their
outputs are concatenated in that order. ``entity_start+max`` gives the states
at the ``<e1>`` and ``<e2>`` markers (Baldini Soares et al. 2019) followed by the
max over the sentence. ``entity`` (kept for the runs made before the redesign)
is ``max+entity_mean``. ``final`` (the last state of each LSTM direction) is
only available to recurrent encoders, which pass their final states in.
"""

from __future__ import annotations

import torch
from torch import nn

from anrc.models.layers import gather_positions, masked_max, masked_softmax, span_mean
from anrc.registry import Registry

POOLERS: Registry[type[Pooler]] = Registry("pooling")
ALIASES = {"entity": "max+entity_mean"}


def pooling_parts(spec: str) -> list[str]:
    """``"entity_start+max"`` -> ``["entity_start", "max"]``; ValueError on an unknown part."""
    parts = ALIASES.get(spec, spec).split("+")
    for p in parts:
        POOLERS.get(p)
    return parts


def check_pooling(spec: str, recurrent: bool = True) -> None:
    """ValueError on an unknown part, or on ``final`` for an encoder that is not recurrent."""
    try:
        parts = pooling_parts(spec)
    except ValueError as err:
        raise ValueError(f"encoder.pooling: {err}") from None
    if not recurrent and "final" in parts:
        raise ValueError("encoder.pooling 'final' needs a recurrent encoder (use cls, max, ...)")


class Pooler(nn.Module):
    """One way to pool: ``forward(H, mask, batch, final) -> (B, out_dim)``."""

    multiplier = 1  # output size in units of the state size H

    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim

    def get_output_dim(self) -> int:
        return self.multiplier * self.dim


@POOLERS.register("final")
class FinalPooler(Pooler):
    """The final states of a recurrent encoder (both directions, concatenated)."""

    def forward(self, H, mask, batch, final):
        if final is None:
            raise ValueError("pooling 'final' needs a recurrent encoder")
        return final


@POOLERS.register("cls")
class ClsPooler(Pooler):
    """The state at the first position (a transformer's ``[CLS]``)."""

    def forward(self, H, mask, batch, final):
        return H[:, 0]


@POOLERS.register("max")
class MaxPooler(Pooler):
    def forward(self, H, mask, batch, final):
        return masked_max(H, mask)  # (B, H)


@POOLERS.register("mean")
class MeanPooler(Pooler):
    def forward(self, H, mask, batch, final):
        m = mask[..., None].to(H.dtype)
        return (H * m).sum(1) / m.sum(1)


@POOLERS.register("attention")
class AttentionPooler(Pooler):
    """Zhou et al. (2016), Eq. 9-11: M = tanh(H); alpha = softmax(w^T M); h* = tanh(H alpha)."""

    def __init__(self, dim: int):
        super().__init__(dim)
        self.pool_query = nn.Parameter(torch.randn(dim) * 0.1)

    def weights(self, H, mask) -> torch.Tensor:
        """alpha, (B, L): each word's weight, summing to 1 over the sentence."""
        return masked_softmax(torch.tanh(H) @ self.pool_query, mask)

    def pool(self, H, a) -> torch.Tensor:
        return torch.tanh((H * a[..., None]).sum(1))  # (B, H)

    def forward(self, H, mask, batch, final):
        return self.pool(H, self.weights(H, mask))


@POOLERS.register("entity_mean")
class EntityMeanPooler(Pooler):
    """The mean state over each entity's words, e1 then e2 (R-BERT's entity average)."""

    multiplier = 2

    def forward(self, H, mask, batch, final):
        return torch.cat([span_mean(H, batch.e1), span_mean(H, batch.e2)], dim=-1)


@POOLERS.register("entity_start")
class EntityStartPooler(Pooler):
    """The states at the ``<e1>`` and ``<e2>`` markers (the first entity word without markers)."""

    multiplier = 2

    def forward(self, H, mask, batch, final):
        return torch.cat(
            [gather_positions(H, batch.starts[:, 0]), gather_positions(H, batch.starts[:, 1])],
            dim=-1,
        )


class Pooling(nn.Module):
    """The poolers a setting names, concatenated."""

    def __init__(self, spec: str, dim: int):
        super().__init__()
        self.parts = nn.ModuleList(POOLERS.get(p)(dim) for p in pooling_parts(spec))

    def get_output_dim(self) -> int:
        return sum(p.get_output_dim() for p in self.parts)

    def forward(self, H, mask, batch, final=None) -> torch.Tensor:
        return self.pool(H, mask, batch, final)[0]

    def pool(self, H, mask, batch, final=None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(the sentence vector, the word weights of its attention pooler or None): what
        the encoder returns as its attention, for a reader to see what it looked at."""
        outs, attention = [], None
        for p in self.parts:
            if isinstance(p, AttentionPooler):
                a = p.weights(H, mask)
                attention = a if attention is None else attention
                outs.append(p.pool(H, a))
            else:
                outs.append(p(H, mask, batch, final))
        return (outs[0] if len(outs) == 1 else torch.cat(outs, dim=-1)), attention
