"""Att-BLSTM (Zhou et al. 2016, "Attention-Based Bidirectional Long Short-Term Memory
Networks for Relation Classification").

    words (with the position indicators <e1> </e1> <e2> </e2>: data.markers = tags)
    -> embedding dropout -> BiLSTM, h_i = forward_i + backward_i (element-wise sum, Eq. 8)
    -> attention pooling: M = tanh(H), alpha = softmax(w^T M), r = H alpha^T,
       h* = tanh(r) (Eq. 9-12) -> dropout -> softmax head

``encoder.pooling`` may name other poolers (e.g. ``entity_start+attention``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from anrc.config import check_fraction, setting
from anrc.models.batch import Batch
from anrc.models.encoders.base import (
    ENCODERS,
    Encoder,
    EncoderOutput,
    Inputs,
    WordParams,
    check_positive,
    embed_dropout,
    lstm_hidden,
    word_embedder,
)
from anrc.models.layers import run_bilstm
from anrc.models.pooling import Pooling, check_pooling


@dataclass
class AttBLSTMParams(WordParams):
    hidden: int = lstm_hidden()
    pooling: str = setting(
        "final",
        "registered poolers joined by '+': attention (Zhou et al.'s Eq. 9-12), final (the "
        "last states of both directions, summed), max, mean, entity_mean, entity_start",
    )
    embed_dropout: float = embed_dropout()

    def __post_init__(self) -> None:
        super().__post_init__()
        check_fraction("encoder.embed_dropout", self.embed_dropout)
        check_pooling(self.pooling)
        check_positive(hidden=self.hidden)


@ENCODERS.register("att-blstm")
class AttBLSTMEncoder(Encoder):
    summary = "Att-BLSTM (Zhou et al. 2016): a BiLSTM over the words with word-level attention"
    Params = AttBLSTMParams

    def __init__(self, params: AttBLSTMParams, featurizer, inputs: Inputs):
        super().__init__()
        p = self.params = params
        self.word_dim = inputs.word_dim
        self.embedder = word_embedder(featurizer, inputs)
        self.embed_dropout = nn.Dropout(p.embed_dropout)
        self.lstm = nn.LSTM(inputs.word_dim, p.hidden, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(p.dropout)
        self.pooling = Pooling(p.pooling, p.hidden)

    def get_output_dim(self) -> int:
        return self.pooling.get_output_dim()

    def embed(self, batch: Batch) -> torch.Tensor:
        return self.embedder(batch.ids)  # (B, L, Dw)

    def forward(self, batch: Batch, embeds: torch.Tensor | None = None) -> EncoderOutput:
        x = self.embed(batch) if embeds is None else embeds
        x = self.embed_dropout(x)
        H2, h_n = run_bilstm(self.lstm, x, batch.lengths)  # (B, L, 2H), (2, B, H)
        hid = self.params.hidden
        H = self.dropout(H2[..., :hid] + H2[..., hid:])  # Eq. 8: forward + backward, (B, L, H)
        h, attention = self.pooling.pool(H, batch.mask, batch, h_n[0] + h_n[1])
        return EncoderOutput(self.dropout(h), attention)  # alpha of Eq. 10, (B, L)
