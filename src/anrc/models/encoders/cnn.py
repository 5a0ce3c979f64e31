"""CNN (Zeng et al. 2014, "Relation Classification via Convolutional Deep Neural Network").

sentence level: [word; PF1; PF2] per token (position features, 2 x position_dim)
    -> convolution over windows of ``kernel`` tokens (Eq. 1-2, n1 = ``filters``)
    -> max over time (Eq. 3) -> g = tanh(W2 m) (Eq. 4, n2 = ``hidden``)
lexical level (``lexical``): the embeddings of e1 and e2 (the mean of a multi-word
    span) and of the tokens left and right of each (L1-L4; WordNet's L5 is not used)
f = [lexical; g] -> dropout -> softmax head (Eq. 5)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from anrc.config import setting
from anrc.models.batch import Batch
from anrc.models.embedders import optional_positions, positions_dim, with_positions
from anrc.models.encoders.base import (
    ENCODERS,
    Encoder,
    EncoderOutput,
    Inputs,
    PositionParams,
    check_odd,
    check_positive,
    word_embedder,
)
from anrc.models.layers import MaskedConv, masked_max, span_mean


@dataclass
class ConvParams(PositionParams):
    """A convolution over windows of tokens (cnn, crcnn)."""

    filters: int = setting(230, "convolution filters")
    kernel: int = setting(3, "convolution width in tokens (odd)")

    def __post_init__(self) -> None:
        super().__post_init__()
        check_odd("kernel", self.kernel)
        check_positive(filters=self.filters)


@dataclass
class CNNParams(ConvParams):
    hidden: int = setting(100, "n2: size of the tanh layer over the pooled filters (Eq. 4)")
    lexical: bool = setting(
        True, "add Zeng et al.'s lexical features (the entity words and their neighbours)"
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        check_positive(hidden=self.hidden)


def lexical_features(w: torch.Tensor, batch: Batch) -> torch.Tensor:
    """Zeng et al.'s L1-L4, (B, 6 Dw): e1, its left and right neighbours, then the same for e2.

    A neighbour outside the sentence is a zero vector.
    """
    B, L, _ = w.shape
    padded = torch.nn.functional.pad(w, (0, 0, 1, 1))  # (B, L + 2, Dw); index i + 1 is token i
    rows = torch.arange(B, device=w.device)
    out = []
    for spans in (batch.e1, batch.e2):
        left = padded[rows, spans[:, 0]]  # token start - 1
        right = padded[rows, spans[:, 1] + 1]  # token end
        right = right * (spans[:, 1] < batch.lengths.to(w.device))[:, None].to(w.dtype)
        out += [span_mean(w, spans), left, right]
    return torch.cat(out, dim=-1)


class ConvEncoder(Encoder):
    """What cnn and crcnn share: word (+ position) embeddings and a convolution over
    windows of ``kernel`` tokens. Not registered: a base for the two below."""

    def __init__(self, params: ConvParams, featurizer, inputs: Inputs):
        super().__init__()
        self.params, self.word_dim = params, inputs.word_dim
        self.embedder = word_embedder(featurizer, inputs)
        self.position = optional_positions(params)
        in_dim = inputs.word_dim + positions_dim(self.position)
        self.conv = MaskedConv(in_dim, params.filters, params.kernel)

    def embed(self, batch: Batch) -> torch.Tensor:
        return self.embedder(batch.ids)  # (B, L, Dw)

    def convolve(self, batch: Batch, w: torch.Tensor) -> torch.Tensor:
        """(B, L, filters) from the words ``w`` (B, L, Dw) and their positions."""
        return self.conv(with_positions(self.position, batch, w), batch.mask)


@ENCODERS.register("cnn")
class CNNEncoder(ConvEncoder):
    summary = "CNN (Zeng et al. 2014): a convolution over words and position features, with lexical features"
    Params = CNNParams

    def __init__(self, params: CNNParams, featurizer, inputs: Inputs):
        super().__init__(params, featurizer, inputs)
        self.hidden = nn.Linear(params.filters, params.hidden)
        self.dropout = nn.Dropout(params.dropout)

    def get_output_dim(self) -> int:
        return self.params.hidden + (6 * self.word_dim if self.params.lexical else 0)

    def forward(self, batch: Batch, embeds: torch.Tensor | None = None) -> EncoderOutput:
        w = self.embed(batch) if embeds is None else embeds
        c = self.convolve(batch, w)  # (B, L, n1)
        g = torch.tanh(self.hidden(masked_max(c, batch.mask)))  # (B, n2)
        f = torch.cat([lexical_features(w, batch), g], dim=-1) if self.params.lexical else g
        return EncoderOutput(self.dropout(f), None)
