"""The ANRC encoder (Liu et al., section 3.1-3.2): tokens -> sentence vector h.

    word + position embeddings -> window of k (Eq. 1) -> entity word-level
    attention (Eq. 2-3) -> BiLSTM -> h

Adversarial perturbations are added at one named point ("word", "word_position"
or "window"); the encoder exposes that tensor (the "anchor") so the trainer can
take the loss gradient with respect to it, without the encoder knowing how the
perturbation is made.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .batching import Batch
from .config import ModelConfig

ANCHORS = ("word", "word_position", "window")


def window_concat(x: torch.Tensor, k: int) -> torch.Tensor:
    """Eq. 1: z_n = [x_{n-(k-1)/2}; ..; x_{n+(k-1)/2}], zero-padded at the edges.

    ``x`` must already be zero on padding positions, so a sentence's last window
    sees zeros past its end, exactly as it would alone.
    """
    if k == 1:
        return x
    half = (k - 1) // 2
    padded = F.pad(x, (0, 0, half, half))  # (B, L + k - 1, D)
    L = x.shape[1]
    return torch.cat([padded[:, i : i + L] for i in range(k)], dim=-1)  # (B, L, k*D)


def span_mask(spans: torch.Tensor, L: int) -> torch.Tensor:
    """(B, 2) [start, end) -> (B, L) bool."""
    idx = torch.arange(L)[None, :]
    return (idx >= spans[:, :1]) & (idx < spans[:, 1:])


class ANRCEncoder(nn.Module):
    def __init__(
        self,
        cfg: ModelConfig,
        vocab_size: int,
        word_dim: int,
        frequencies: torch.Tensor | None = None,
        n_trainable: int | None = None,
    ):
        super().__init__()
        self.cfg = cfg
        n_trainable = vocab_size if n_trainable is None else n_trainable
        self.word = nn.Embedding(n_trainable, word_dim, padding_idx=0)
        # Pretrained vectors of words never seen in training: looked up, never updated
        # (they would get no gradient anyway; as a buffer they cost no optimiser state).
        self.n_trainable = n_trainable
        if vocab_size > n_trainable:
            self.register_buffer("word_extra", torch.zeros(vocab_size - n_trainable, word_dim))
        else:
            self.word_extra = None
        n_pos = 2 * cfg.max_distance + 1
        self.use_position = cfg.position_dim > 0
        if self.use_position:
            self.pos1 = nn.Embedding(n_pos, cfg.position_dim)
            self.pos2 = nn.Embedding(n_pos, cfg.position_dim)
        in_dim = word_dim + (2 * cfg.position_dim if self.use_position else 0)
        self.lstm = nn.LSTM(in_dim * cfg.window, cfg.hidden, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(cfg.dropout)
        self.out_dim = (6 if cfg.pooling == "entity" else 2) * cfg.hidden
        if cfg.pooling == "attention":
            self.pool_query = nn.Parameter(torch.randn(self.out_dim) * 0.1)
        # Frequencies are only set when embeddings are normalised (Miyato et al. 2017).
        if frequencies is not None:
            self.register_buffer("frequencies", frequencies)
        else:
            self.frequencies = None

    def word_embeddings(self, ids: torch.Tensor) -> torch.Tensor:
        w = self.word.weight  # (V_train, Dw)
        if self.frequencies is None:
            emb = self.word(ids.clamp(max=self.n_trainable - 1))  # (B, L, Dw)
        else:
            # Miyato et al.: v' = (v - E[v]) / sqrt(Var[v]), moments weighted by word frequency,
            # so a fixed-norm perturbation cannot be made negligible by growing the embeddings.
            f = self.frequencies[:, None]
            mean = (f * w).sum(0, keepdim=True)
            std = torch.sqrt((f * (w - mean) ** 2).sum(0, keepdim=True) + 1e-6)
            emb = F.embedding(ids.clamp(max=self.n_trainable - 1), (w - mean) / std)
        if self.word_extra is None:
            return emb
        extra = F.embedding((ids - self.n_trainable).clamp(min=0), self.word_extra)
        if self.frequencies is not None:
            extra = (extra - mean) / std
        return torch.where((ids >= self.n_trainable)[..., None], extra, emb)

    def entity_vectors(self, w: torch.Tensor, spans: torch.Tensor) -> torch.Tensor:
        """(B, Dw) embedding of each entity: mean of its span, or its last word."""
        if self.cfg.entity_repr == "head":
            return w[torch.arange(w.shape[0]), spans[:, 1] - 1]
        m = span_mask(spans, w.shape[1]).to(w.dtype)  # (B, L)
        return (w * m[..., None]).sum(1) / m.sum(1, keepdim=True)

    def forward(
        self,
        batch: Batch,
        perturb: dict[str, torch.Tensor] | None = None,
        anchor: str | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """Return (h, attention, anchor tensor).

        h: (B, 2H); attention: (B, L) weights (alpha^1 + alpha^2) / 2, or None;
        anchor: the named intermediate tensor with ``retain_grad`` set, or None.
        """
        perturb = perturb or {}
        mask = batch.mask  # (B, L)
        fmask = mask[..., None].to(torch.float32)  # (B, L, 1)
        held = None

        def hook(name: str, t: torch.Tensor) -> torch.Tensor:
            nonlocal held
            if name == anchor:
                if not t.requires_grad:
                    t = t.detach().requires_grad_()
                t.retain_grad()
                held = t
            if name in perturb:
                t = t + perturb[name] * fmask
            return t

        w = hook("word", self.word_embeddings(batch.ids))  # (B, L, Dw)
        parts = [w]
        if self.use_position:
            parts += [self.pos1(batch.pos1), self.pos2(batch.pos2)]  # 2 x (B, L, Dp)
        x = hook("word_position", torch.cat(parts, dim=-1) * fmask)  # (B, L, D)
        z = hook("window", window_concat(x, self.cfg.window))  # (B, L, k*D)

        attention = None
        if self.cfg.attention:
            # Eq. 2: A^j_ii = <e_j, w_i>; alpha^j = softmax_i over the real tokens.
            scaled = self.cfg.attention_scale == "scaled"
            scores = []
            for spans in (batch.e1, batch.e2):
                ent = self.entity_vectors(w, spans)  # (B, Dw)
                a = torch.bmm(w, ent[:, :, None]).squeeze(-1)  # (B, L)
                if scaled:
                    a = a / w.shape[-1] ** 0.5
                scores.append(a.masked_fill(~mask, float("-inf")).softmax(dim=-1))
            attention = (scores[0] + scores[1]) / 2  # (B, L)
            weight = attention * batch.lengths[:, None] if scaled else attention
            r = z * weight[..., None]  # Eq. 3, (B, L, k*D)
        else:
            r = z
        r = self.dropout(r)

        packed = pack_padded_sequence(r, batch.lengths, batch_first=True, enforce_sorted=False)
        out, (h_n, _) = self.lstm(packed)
        if self.cfg.pooling == "final":
            h = torch.cat([h_n[0], h_n[1]], dim=-1)  # (B, 2H)
        else:
            H, _ = pad_packed_sequence(out, batch_first=True, total_length=mask.shape[1])
            if self.cfg.pooling in ("max", "entity"):
                h = H.masked_fill(~mask[..., None], float("-inf")).max(dim=1).values  # (B, 2H)
                if self.cfg.pooling == "entity":
                    ents = []
                    for spans in (batch.e1, batch.e2):
                        m = span_mask(spans, H.shape[1]).to(H.dtype)[..., None]  # (B, L, 1)
                        ents.append((H * m).sum(1) / m.sum(1))  # (B, 2H)
                    h = torch.cat([h, *ents], dim=-1)  # (B, 6H)
            else:  # attention pooling (Zhou et al. 2016)
                s = torch.tanh(H) @ self.pool_query  # (B, L)
                a = s.masked_fill(~mask, float("-inf")).softmax(dim=-1)
                h = torch.tanh((H * a[..., None]).sum(1))  # (B, 2H)
        return self.dropout(h), attention, held
