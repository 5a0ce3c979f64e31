"""A relation classifier: an encoder (tokens -> h) and a head (h -> label scores, loss).

The one perturbation seam (Hugging Face's ``inputs_embeds`` pattern)::

    x = model.embed(batch)                                    # (B, L, D)
    out = model(batch, embeds=x + delta, targets=batch.labels)
    out.logits, out.loss

Adversarial training methods and test-time attacks both perturb ``embeds``. The
model knows its head's loss on gold labels (nanoGPT's ``forward(x, targets)``);
what training minimises beyond it (distillation, ...) is a loss object of
:mod:`anrc.training.loss`, outside the model. It is built by
:func:`anrc.builder.build_model` from the config's [model], [encoder] and [head].
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from anrc.models.batch import Batch
from anrc.models.encoders import Encoder


@dataclass
class ModelOutput:
    logits: torch.Tensor  # (B, C)
    loss: torch.Tensor | None  # the head's loss, mean over the batch, when targets are given
    attention: torch.Tensor | None  # (B, L) weight of each token, if the encoder has one


class RelationModel(nn.Module):
    """``head(encoder(batch))``: the head takes the encoder's output size."""

    #: arithmetic of its passes in training mode (train.precision): "bf16" runs them under
    #: bfloat16 autocast, logits handed back in fp32; passes in eval mode stay fp32
    precision = "fp32"

    def __init__(self, encoder: Encoder, head: nn.Module):
        super().__init__()
        self.encoder, self.head = encoder, head

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
        bf16 = self.training and self.precision == "bf16"
        # a quantized (int8) head has no parameters; only training in bf16 needs the device
        device = next(self.parameters()).device.type if bf16 else "cpu"
        with torch.autocast(device, dtype=torch.bfloat16, enabled=bf16):
            enc = self.encoder(batch, embeds)
            logits = self.head(enc.h)  # (B, C)
        logits = logits.float()  # the loss in fp32 (no copy when it already is)
        attention = enc.attention.float() if bf16 and enc.attention is not None else enc.attention
        loss = self.head.loss(logits, targets) if targets is not None else None
        return ModelOutput(logits, loss, attention)
