"""Entity-aware attention BiLSTM (Lee et al. 2019, "Semantic Relation Classification via
Bidirectional LSTM Networks with Entity-aware Attention using Latent Entity Typing").

    words (data.markers = tags, as the paper) -> embedding dropout
    -> multi-head self-attention over the words (section 3.2; residual, as a Transformer
       sub-layer, with layer normalisation)
    -> BiLSTM, H = [forward; backward] (section 3.3) -> dropout
    -> latent entity types (optional, section 3.4): t_e = sum_k softmax_k(h_e^T c_k) c_k
    -> entity-aware attention (section 3.5):
           u_i = v^T tanh(W^H [h_i; p^e1_i; p^e2_i] + W^E [h_e1; t_e1; h_e2; t_e2])
           alpha = softmax(u), z = sum_i alpha_i h_i
    -> dropout -> softmax head

h_e is the mean BiLSTM state over the entity's words; p^e are relative-position
embeddings (``position_dim``) of each token to e1 and e2.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from anrc.config import check_fraction, setting
from anrc.models.batch import Batch
from anrc.models.embedders import PositionEmbedder
from anrc.models.encoders.base import (
    ENCODERS,
    Encoder,
    EncoderOutput,
    Inputs,
    PositionParams,
    check_positive,
    embed_dropout,
    lstm_hidden,
    word_embedder,
)
from anrc.models.layers import masked_softmax, run_bilstm, span_mean


@dataclass
class EntityLSTMParams(PositionParams):
    hidden: int = lstm_hidden()
    attention_heads: int = setting(4, "heads of the self-attention over the words")
    latent_types: int = setting(0, "number of latent entity types (0 = no typing)")
    embed_dropout: float = embed_dropout()

    def __post_init__(self) -> None:
        super().__post_init__()
        check_fraction("encoder.embed_dropout", self.embed_dropout)
        check_positive(hidden=self.hidden, attention_heads=self.attention_heads)
        if self.latent_types < 0:
            raise ValueError("encoder.latent_types must be >= 0")


@ENCODERS.register("entity-lstm")
class EntityLSTMEncoder(Encoder):
    summary = "Entity-aware attention BiLSTM (Lee et al. 2019): self-attention, a BiLSTM, attention with relative positions and latent entity types"
    Params = EntityLSTMParams

    def __init__(self, params: EntityLSTMParams, featurizer, inputs: Inputs):
        super().__init__()
        p, word_dim = params, inputs.word_dim
        if word_dim % p.attention_heads:
            raise ValueError(
                f"encoder.attention_heads ({p.attention_heads}) must divide the word vector "
                f"size ({word_dim})"
            )
        self.params, self.word_dim = params, word_dim
        self.embedder = word_embedder(featurizer, inputs)
        self.embed_dropout = nn.Dropout(p.embed_dropout)
        self.self_attention = nn.MultiheadAttention(word_dim, p.attention_heads, batch_first=True)
        self.norm = nn.LayerNorm(word_dim)
        self.lstm = nn.LSTM(word_dim, p.hidden, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(p.dropout)
        H = 2 * p.hidden
        self.position = PositionEmbedder(p.max_distance, p.position_dim)
        self.types = nn.Parameter(torch.randn(p.latent_types, H) * 0.1) if p.latent_types else None
        ent_dim = 2 * H * (2 if self.types is not None else 1)
        self.w_h = nn.Linear(H + self.position.get_output_dim(), H, bias=False)
        self.w_e = nn.Linear(ent_dim, H)
        self.v = nn.Linear(H, 1, bias=False)

    def get_output_dim(self) -> int:
        return 2 * self.params.hidden

    def embed(self, batch: Batch) -> torch.Tensor:
        return self.embedder(batch.ids)  # (B, L, Dw)

    def latent_type(self, h_e: torch.Tensor) -> torch.Tensor:
        """Section 3.4: a soft choice among the latent types c_k, (B, 2H)."""
        a = (h_e @ self.types.T).softmax(dim=-1)  # (B, K)
        return a @ self.types

    def forward(self, batch: Batch, embeds: torch.Tensor | None = None) -> EncoderOutput:
        x = self.embed(batch) if embeds is None else embeds
        mask = batch.mask
        x = self.embed_dropout(x)
        att, _ = self.self_attention(x, x, x, key_padding_mask=~mask, need_weights=False)
        x = self.norm(x + att)  # (B, L, Dw)
        H, _ = run_bilstm(self.lstm, x, batch.lengths)  # (B, L, 2H)
        H = self.dropout(H)  # (B, L, 2H)
        ents = []
        for spans in (batch.e1, batch.e2):
            h_e = span_mean(H, spans)  # (B, 2H)
            ents += [h_e, self.latent_type(h_e)] if self.types is not None else [h_e]
        p = self.position(batch.pos1, batch.pos2)  # (B, L, 2 Dp)
        e = self.w_e(torch.cat(ents, dim=-1))  # (B, 2H)
        u = self.v(torch.tanh(self.w_h(torch.cat([H, p], dim=-1)) + e[:, None])).squeeze(-1)
        alpha = masked_softmax(u, mask)  # (B, L)
        z = (H * alpha[..., None]).sum(1)  # (B, 2H)
        return EncoderOutput(self.dropout(z), alpha)
