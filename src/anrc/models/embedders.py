"""Embedders: token ids -> vectors (word vectors, relative-position embeddings)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class WordEmbedder(nn.Module):
    """Word vectors: fine-tuned rows for the training vocabulary, frozen rows for the rest.

    Pretrained vectors of words never seen in training are looked up, never updated
    (they would get no gradient anyway; as a buffer they cost no optimiser state).
    With ``frequencies`` the vectors are normalised by their frequency-weighted mean
    and standard deviation (Miyato et al. 2017), so a fixed-norm perturbation cannot
    be made negligible by growing the embeddings.
    """

    frozen_tables = ("word_extra",)  # vector rows beside get_input_embeddings() (models.weights)

    def __init__(
        self,
        vocab_size: int,
        dim: int,
        n_trainable: int,
        frequencies: torch.Tensor | None = None,
    ):
        super().__init__()
        self.n_trainable, self.dim = n_trainable, dim
        self.word = nn.Embedding(n_trainable, dim, padding_idx=0)
        if vocab_size > n_trainable:
            self.register_buffer("word_extra", torch.zeros(vocab_size - n_trainable, dim))
        else:
            self.word_extra = None
        if frequencies is not None:
            self.register_buffer("frequencies", frequencies)
        else:
            self.frequencies = None

    @torch.no_grad()
    def load_vectors(self, matrix: torch.Tensor) -> None:
        """Set every row, trainable and frozen, from a (V, D) matrix."""
        n = self.n_trainable
        self.word.weight.copy_(matrix[:n])
        if self.word_extra is not None:
            self.word_extra.copy_(matrix[n:])

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """(B, L) ids -> (B, L, D)."""
        clamped = ids.clamp(max=self.n_trainable - 1)
        if self.frequencies is None:
            emb = self.word(clamped)
        else:
            w = self.word.weight  # (V_train, D)
            f = self.frequencies[:, None]
            mean = (f * w).sum(0, keepdim=True)
            std = torch.sqrt((f * (w - mean) ** 2).sum(0, keepdim=True) + 1e-6)
            emb = F.embedding(clamped, (w - mean) / std)
        if self.word_extra is None:
            return emb
        extra = F.embedding((ids - self.n_trainable).clamp(min=0), self.word_extra)
        if self.frequencies is not None:
            extra = (extra - mean) / std
        return torch.where((ids >= self.n_trainable)[..., None], extra, emb)


class PositionEmbedder(nn.Module):
    """Two relative-position embeddings (to e1, to e2), concatenated: (B, L, 2 * dim)."""

    def __init__(self, max_distance: int, dim: int):
        super().__init__()
        n = 2 * max_distance + 1
        self.dim = dim
        self.pos1 = nn.Embedding(n, dim)
        self.pos2 = nn.Embedding(n, dim)

    def get_output_dim(self) -> int:
        return 2 * self.dim

    def forward(self, pos1: torch.Tensor, pos2: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.pos1(pos1), self.pos2(pos2)], dim=-1)


def optional_positions(cfg) -> PositionEmbedder | None:
    """The position embedder a word-vector encoder uses, or None when position_dim is 0."""
    return PositionEmbedder(cfg.max_distance, cfg.position_dim) if cfg.position_dim else None


def positions_dim(position: PositionEmbedder | None) -> int:
    return position.get_output_dim() if position is not None else 0


def with_positions(position: PositionEmbedder | None, batch, w: torch.Tensor) -> torch.Tensor:
    """[w; PF1; PF2] per token, (B, L, Dw + 2 Dp); w alone without position embeddings."""
    if position is None:
        return w
    return torch.cat([w, position(batch.pos1, batch.pos2)], dim=-1)
