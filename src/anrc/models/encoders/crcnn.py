"""CR-CNN (dos Santos et al. 2015, "Classifying Relations by Ranking with Convolutional
Neural Networks").

    [word; WPE1; WPE2] per token (word position embeddings, 2 x position_dim)
    -> convolution over windows of ``kernel`` tokens, tanh -> max over time: r_x (Eq. 2-3)
    -> dropout -> head

The paper's head is the pairwise ranking loss (``model.head = "ranking"``, in
:mod:`anrc.models.heads`): class scores s_c = r_x^T [W^classes]_c, the negative
class has no class vector and is predicted when every score is below 0.
"""

from __future__ import annotations

import torch
from torch import nn

from anrc.models.batch import Batch
from anrc.models.embedders import optional_positions, positions_dim, with_positions
from anrc.models.encoders.base import ENCODERS, Encoder, EncoderOutput, Inputs, word_embedder
from anrc.models.encoders.cnn import ConvParams
from anrc.models.layers import MaskedConv, masked_max


@ENCODERS.register("crcnn")
class CRCNNEncoder(Encoder):
    summary = "CR-CNN (dos Santos et al. 2015): a convolution over words and position embeddings, max-pooled"
    Params = ConvParams

    def __init__(self, params: ConvParams, featurizer, inputs: Inputs):
        super().__init__()
        m = params
        self.cfg, self.word_dim = m, inputs.word_dim
        word_dim = inputs.word_dim
        self.embedder = word_embedder(featurizer, inputs)
        self.position = optional_positions(m)
        in_dim = word_dim + positions_dim(self.position)
        self.conv = MaskedConv(in_dim, m.filters, m.kernel)
        self.dropout = nn.Dropout(m.dropout)

    def get_output_dim(self) -> int:
        return self.cfg.filters

    def embed(self, batch: Batch) -> torch.Tensor:
        return self.embedder(batch.ids)  # (B, L, Dw)

    def forward(self, batch: Batch, embeds: torch.Tensor | None = None) -> EncoderOutput:
        w = self.embed(batch) if embeds is None else embeds
        c = torch.tanh(
            self.conv(with_positions(self.position, batch, w), batch.mask)
        )  # (B, L, filters)
        return EncoderOutput(self.dropout(masked_max(c, batch.mask)), None)
