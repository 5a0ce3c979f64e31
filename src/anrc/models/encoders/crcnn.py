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
from anrc.models.encoders.base import ENCODERS, EncoderOutput, Inputs
from anrc.models.encoders.cnn import ConvEncoder, ConvParams
from anrc.models.layers import masked_max


@ENCODERS.register("crcnn")
class CRCNNEncoder(ConvEncoder):
    summary = "CR-CNN (dos Santos et al. 2015): a convolution over words and position embeddings, max-pooled"
    Params = ConvParams

    def __init__(self, params: ConvParams, featurizer, inputs: Inputs):
        super().__init__(params, featurizer, inputs)
        self.dropout = nn.Dropout(params.dropout)

    def get_output_dim(self) -> int:
        return self.params.filters

    def forward(self, batch: Batch, embeds: torch.Tensor | None = None) -> EncoderOutput:
        w = self.embed(batch) if embeds is None else embeds
        c = torch.tanh(self.convolve(batch, w))  # (B, L, filters)
        return EncoderOutput(self.dropout(masked_max(c, batch.mask)), None)
