"""A relation classifier: an encoder (tokens -> h) and a head (h -> label scores, loss).

The one perturbation seam (Hugging Face's ``inputs_embeds`` pattern)::

    x = model.embed(batch)                                    # (B, L, D)
    out = model(batch, embeds=x + delta, targets=batch.labels)
    out.logits, out.loss

Adversarial training methods and test-time attacks both perturb ``embeds``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import nn

from anrc.data.labels import LabelSet
from anrc.models.batch import Batch
from anrc.models.encoders import ENCODERS, Encoder
from anrc.models.heads import HEADS

if TYPE_CHECKING:
    from anrc.training.distill import Distillation


@dataclass
class ModelOutput:
    logits: torch.Tensor  # (B, C)
    loss: torch.Tensor | None  # mean over the batch, when targets are given
    attention: torch.Tensor | None  # (B, L) weight of each token, if the encoder has one


class RelationModel(nn.Module):
    def __init__(self, encoder: Encoder, head: nn.Module):
        super().__init__()
        self.encoder, self.head = encoder, head
        # Training only, never saved: with a teacher (train.teacher) the loss of a batch
        # that carries soft targets mixes them in (anrc.training.distill).
        self.distill: Distillation | None = None

    @property
    def n_labels(self) -> int:
        return self.head.n_labels

    def embed(self, batch: Batch) -> torch.Tensor:
        """The input vectors a perturbation is added to, (B, L, D)."""
        return self.encoder.embed(batch)

    def forward(
        self,
        batch: Batch,
        embeds: torch.Tensor | None = None,
        targets: torch.Tensor | None = None,
    ) -> ModelOutput:
        enc = self.encoder(batch, embeds)
        logits = self.head(enc.h)  # (B, C)
        loss = self.head.loss(logits, targets) if targets is not None else None
        if loss is not None and batch.soft is not None and self.distill is not None:
            loss = self.distill.mix(loss, logits, batch.soft)
        return ModelOutput(logits, loss, enc.attention)


def build_model(cfg, featurizer, labels: LabelSet, word_dim: int) -> RelationModel:
    """A freshly initialised model for the config (its encoder and head looked up by name)."""
    encoder = ENCODERS.get(cfg.model.encoder).create(cfg, featurizer, word_dim)
    negative = labels.index(labels.negative) if labels.negative in labels else -1
    head = HEADS.get(cfg.model.head)(encoder.get_output_dim(), len(labels), negative, cfg.model)
    return RelationModel(encoder, head)
