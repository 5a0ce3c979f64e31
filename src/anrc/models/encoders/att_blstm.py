"""Att-BLSTM (Zhou et al. 2016, "Attention-Based Bidirectional Long Short-Term Memory
Networks for Relation Classification").

    words (with the position indicators <e1> </e1> <e2> </e2>: data.markers = tags)
    -> embedding dropout -> BiLSTM, h_i = forward_i + backward_i (element-wise sum, Eq. 8)
    -> attention pooling: M = tanh(H), alpha = softmax(w^T M), r = H alpha^T,
       h* = tanh(r) (Eq. 9-12) -> dropout -> softmax head

``model.pooling`` may name other poolers (e.g. ``entity_start+attention``).
"""

from __future__ import annotations

import torch
from torch import nn

from anrc.models.batch import Batch
from anrc.models.encoders.base import ENCODERS, Encoder, EncoderOutput, word_embedder
from anrc.models.layers import run_bilstm
from anrc.models.pooling import Pooling


@ENCODERS.register("att-blstm")
class AttBLSTMEncoder(Encoder):
    def __init__(self, cfg, featurizer, word_dim: int):
        super().__init__()
        m = cfg.model
        self.cfg, self.word_dim = m, word_dim
        self.embedder = word_embedder(cfg, featurizer, word_dim)
        self.embed_dropout = nn.Dropout(m.embed_dropout)
        self.lstm = nn.LSTM(word_dim, m.hidden, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(m.dropout)
        self.pooling = Pooling(m.pooling, m.hidden)

    def get_output_dim(self) -> int:
        return self.pooling.get_output_dim()

    def embed(self, batch: Batch) -> torch.Tensor:
        return self.embedder(batch.ids)  # (B, L, Dw)

    def forward(self, batch: Batch, embeds: torch.Tensor | None = None) -> EncoderOutput:
        x = self.embed(batch) if embeds is None else embeds
        x = self.embed_dropout(x)
        H2, h_n = run_bilstm(self.lstm, x, batch.lengths)  # (B, L, 2H), (2, B, H)
        hid = self.cfg.hidden
        H = self.dropout(H2[..., :hid] + H2[..., hid:])  # Eq. 8: forward + backward, (B, L, H)
        h = self.pooling(H, batch.mask, batch, h_n[0] + h_n[1])
        return EncoderOutput(self.dropout(h), None)
