"""Heads: a sentence vector h -> label scores (logits) and the training loss.

``softmax`` is Eq. 4-5 of Liu et al. (a linear layer, cross-entropy). ``ranking``
is the pairwise ranking loss of CR-CNN (dos Santos et al. 2015, Eq. 5-6): the
negative class has no class vector, its score is fixed at 0, so it is predicted
exactly when every relation scores below 0. Both return logits over every label,
so prediction (argmax) and probabilities (softmax) are the same for both.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from anrc.config import setting
from anrc.registry import Registry

HEADS: Registry[type[Head]] = Registry("head")


@dataclass
class HeadParams:
    """A head's own settings (the ``[head]`` section); softmax has none."""


class Head(nn.Module):
    Params: type[HeadParams] = HeadParams

    def __init__(self, in_dim: int, n_labels: int, negative_index: int, params: HeadParams):
        super().__init__()
        self.n_labels = n_labels

    def loss(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


@HEADS.register("softmax")
class SoftmaxHead(Head):
    def __init__(self, in_dim, n_labels, negative_index, params):
        super().__init__(in_dim, n_labels, negative_index, params)
        self.linear = nn.Linear(in_dim, n_labels)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.linear(h)  # Eq. 4 (softmax folded into the loss), (B, C)

    def loss(self, logits, targets):
        # Eq. 5, averaged over the batch: the negative log-likelihood of the gold labels.
        return F.cross_entropy(logits, targets)


@dataclass
class RankingParams(HeadParams):
    margin_pos: float = setting(2.5, "m+: the margin a gold relation's score must reach (CR-CNN)")
    margin_neg: float = setting(0.5, "m-: the margin under which wrong relations must stay")
    gamma: float = setting(2.0, "gamma: the scale of the margins")


@HEADS.register("ranking")
class RankingHead(Head):
    """CR-CNN: s_c = r^T [W^classes]_c (Eq. 4); for gold y+ and the best-scoring wrong class c-,

        L = log(1 + exp(gamma (m+ - s_y+))) + log(1 + exp(gamma (m- + s_c-)))   (Eq. 5)

    where the first term is dropped when y+ is the negative class ("Other" has no
    class vector: it is learnt only as 'no relation scores above 0').
    """

    Params = RankingParams

    def __init__(self, in_dim, n_labels, negative_index, params: RankingParams):
        super().__init__(in_dim, n_labels, negative_index, params)
        self.negative = negative_index
        self.margin_pos, self.margin_neg = params.margin_pos, params.margin_neg
        self.gamma = params.gamma
        self.linear = nn.Linear(in_dim, n_labels, bias=False)  # the row of the negative is unused

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        s = self.linear(h)  # (B, C)
        if self.negative < 0:
            return s
        keep = torch.ones(self.n_labels, dtype=s.dtype, device=s.device)
        keep[self.negative] = 0.0
        return s * keep  # the negative class scores 0

    def loss(self, logits, targets):
        B = logits.shape[0]
        gold = logits.gather(1, targets[:, None]).squeeze(1)  # (B,)
        wrong = logits.clone()
        wrong[torch.arange(B, device=logits.device), targets] = float("-inf")
        if self.negative >= 0:
            wrong[:, self.negative] = float("-inf")  # Other is never the competing class
        competitor = wrong.max(dim=1).values  # (B,)
        pos = F.softplus(self.gamma * (self.margin_pos - gold))
        if self.negative >= 0:
            pos = pos * (targets != self.negative).to(pos.dtype)
        neg = F.softplus(self.gamma * (self.margin_neg + competitor))
        return (pos + neg).mean()
