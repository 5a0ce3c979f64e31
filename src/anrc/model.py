"""The ANRC classifier: encoder output h -> label scores (Eq. 4) and loss (Eq. 5)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .batching import Batch
from .config import ModelConfig
from .encoder import ANRCEncoder


@dataclass
class ModelOutput:
    logits: torch.Tensor  # (B, C)
    loss: torch.Tensor | None
    attention: torch.Tensor | None  # (B, L)
    anchor: torch.Tensor | None  # the tensor a perturbation is added to, grad retained


class ANRC(nn.Module):
    def __init__(
        self,
        cfg: ModelConfig,
        vocab_size: int,
        word_dim: int,
        n_labels: int,
        frequencies: torch.Tensor | None = None,
        n_trainable: int | None = None,
    ):
        super().__init__()
        self.encoder = ANRCEncoder(cfg, vocab_size, word_dim, frequencies, n_trainable)
        self.classifier = nn.Linear(self.encoder.out_dim, n_labels)

    def forward(
        self,
        batch: Batch,
        targets: torch.Tensor | None = None,
        perturb: dict[str, torch.Tensor] | None = None,
        anchor: str | None = None,
    ) -> ModelOutput:
        h, attention, held = self.encoder(batch, perturb, anchor)
        logits = self.classifier(h)  # Eq. 4 (softmax folded into the loss), (B, C)
        # Eq. 5, averaged over the batch: the negative log-likelihood of the gold labels.
        loss = F.cross_entropy(logits, targets) if targets is not None else None
        return ModelOutput(logits, loss, attention, held)
