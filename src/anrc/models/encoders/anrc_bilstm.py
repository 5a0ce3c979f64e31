"""ANRC (Liu et al., section 3.1-3.2): tokens -> sentence vector h.

    word + position embeddings -> window of k (Eq. 1) -> entity word-level
    attention (Eq. 2-3) -> BiLSTM -> h (pooling)

``embed`` returns the tensor at the perturbation site ``model.target``:
the word embeddings (``word``, the paper's reading), the word and position
embeddings (``word_position``), or the window vectors z (``window``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from anrc.config import check_choice, check_fraction, setting
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
    embed_dropout,
    lstm_hidden,
    word_embedder,
)
from anrc.models.layers import masked_softmax, run_bilstm, span_mean, window_concat, zero_padding
from anrc.models.pooling import Pooling, check_pooling


@dataclass
class ANRCParams(PositionParams):
    window: int = setting(
        3, "k: z_n concatenates the k inputs centred on token n (Eq. 1); 1 = none"
    )
    attention: bool = setting(True, "entity word-level attention (Eq. 2-3)")
    attention_scale: str = setting(
        "paper",
        "paper: r_i = z_i * alpha_i (Eq. 3); scaled: scores / sqrt(Dw) and r_i = n * z_i * "
        "alpha_i (weights average 1, so the LSTM input keeps its scale)",
    )
    entity_repr: str = setting(
        "mean", "multi-word entity embedding: mean of the span, or head (last word)"
    )
    hidden: int = lstm_hidden()
    pooling: str = setting(
        "final",
        "h of Eq. 4, registered poolers joined by '+': final (last states of both LSTM "
        "directions), max, mean, attention, entity_mean, entity_start",
    )
    embed_dropout: float = embed_dropout()

    def __post_init__(self) -> None:
        super().__post_init__()
        check_odd("window", self.window)
        check_choice("encoder.attention_scale", self.attention_scale, ("paper", "scaled"))
        check_choice("encoder.entity_repr", self.entity_repr, ("mean", "head"))
        check_fraction("encoder.embed_dropout", self.embed_dropout)
        check_pooling(self.pooling)
        check_positive(hidden=self.hidden)


@ENCODERS.register("anrc")
class ANRCEncoder(Encoder):
    summary = "ANRC (Liu et al. 2018): word and position embeddings, a window of words, entity word-level attention, a BiLSTM"
    Params = ANRCParams
    sites = ("word", "word_position", "window")

    def __init__(self, params: ANRCParams, featurizer, inputs: Inputs):
        super().__init__()
        p = self.params = params
        self.site, self.word_dim = inputs.site, inputs.word_dim
        self.embedder = word_embedder(featurizer, inputs)
        self.position = optional_positions(p)
        in_dim = inputs.word_dim + positions_dim(self.position)
        self.lstm = nn.LSTM(in_dim * p.window, p.hidden, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(p.dropout)
        self.embed_dropout = nn.Dropout(p.embed_dropout) if p.embed_dropout else nn.Identity()
        self.pooling = Pooling(p.pooling, 2 * p.hidden)

    def get_output_dim(self) -> int:
        return self.pooling.get_output_dim()

    def _inputs(self, batch: Batch, w: torch.Tensor) -> torch.Tensor:
        """x: word (+ position) embeddings, zero on padding, (B, L, D)."""
        return zero_padding(with_positions(self.position, batch, w), batch.mask)

    def embed(self, batch: Batch) -> torch.Tensor:
        w = self.embedder(batch.ids)  # (B, L, Dw)
        if self.site == "word":
            return w
        x = self._inputs(batch, w)
        return x if self.site == "word_position" else window_concat(x, self.params.window)

    def entity_attention(self, w: torch.Tensor, batch: Batch) -> torch.Tensor:
        """Eq. 2: A^j_ii = <e_j, w_i>; alpha^j = softmax_i over the real tokens.

        Returns (alpha^1 + alpha^2) / 2, (B, L).
        """
        scaled = self.params.attention_scale == "scaled"
        alphas = []
        for spans in (batch.e1, batch.e2):
            if self.params.entity_repr == "head":
                ent = w[torch.arange(w.shape[0], device=w.device), spans[:, 1] - 1]  # (B, Dw)
            else:
                ent = span_mean(w, spans)  # (B, Dw)
            a = torch.bmm(w, ent[:, :, None]).squeeze(-1)  # (B, L)
            if scaled:
                a = a / w.shape[-1] ** 0.5
            alphas.append(masked_softmax(a, batch.mask))
        return (alphas[0] + alphas[1]) / 2

    def forward(self, batch: Batch, embeds: torch.Tensor | None = None) -> EncoderOutput:
        if embeds is None:
            embeds = self.embed(batch)
        mask = batch.mask  # (B, L)
        if self.site == "word":
            w = embeds  # the attention sees the perturbed words too
            z = window_concat(self._inputs(batch, w), self.params.window)  # (B, L, k*D)
        else:
            w = self.embedder(batch.ids)
            z = embeds if self.site == "window" else window_concat(embeds, self.params.window)
        attention = None
        r = z
        if self.params.attention:
            attention = self.entity_attention(w, batch)  # (B, L)
            weight = attention
            if self.params.attention_scale == "scaled":
                weight = attention * batch.lengths[:, None]
            r = z * weight[..., None]  # Eq. 3, (B, L, k*D)
        r = self.dropout(self.embed_dropout(r))
        H, h_n = run_bilstm(self.lstm, r, batch.lengths)  # (B, L, 2H), (2, B, H)
        final = torch.cat([h_n[0], h_n[1]], dim=-1)  # (B, 2H)
        h = self.pooling(H, mask, batch, final)
        return EncoderOutput(self.dropout(h), attention)
