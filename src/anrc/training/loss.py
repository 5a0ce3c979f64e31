"""What training minimises, kept outside the model.

A :class:`Loss` maps a batch's logits to the scalar minimised. An adversarial
method is handed one and calls it on every pass it makes::

    value = loss(model(batch, embeds=x + r).logits, batch)

so whatever wraps the head's loss (distillation) applies to clean and perturbed
passes alike, and no method knows which loss it minimises. ``loss.at(idx)`` is the
loss of the batch of training examples ``idx`` (a distillation target is per example).

:class:`Distillation` (Hinton et al. 2015) mixes in a teacher's distribution:

    (1 - w) * inner + w * T^2 * KL(p_T || softmax(z / T))

with ``w = train.distill_weight``, ``T = train.distill_temperature``, ``z`` the
student's logits and ``p_T`` the teachers' distribution at temperature T
(:mod:`anrc.training.distill`); the T^2 keeps the soft term's gradient on the scale
of the hard term's.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from anrc.models.batch import Batch


class Loss:
    """The head's own loss on the gold labels (Eq. 5; CR-CNN's ranking loss)."""

    def __init__(self, head):
        self.head = head

    def at(self, idx: list[int]) -> Loss:
        """The loss of the batch of training examples ``idx``."""
        return self

    def __call__(self, logits: torch.Tensor, batch: Batch) -> torch.Tensor:
        return self.head.loss(logits, batch.labels)


class Distillation(Loss):
    """``inner`` mixed with the teachers' soft targets ``soft`` (N, C) (one row a training
    example); call :meth:`at` for a batch's loss."""

    def __init__(self, inner: Loss, soft: np.ndarray, weight: float, temperature: float):
        self.inner, self.soft = inner, soft
        self.weight, self.temperature = weight, temperature
        self.targets: torch.Tensor | None = None  # (B, C), once bound to a batch

    def at(self, idx: list[int]) -> Distillation:
        bound = Distillation(self.inner.at(idx), self.soft, self.weight, self.temperature)
        bound.targets = torch.from_numpy(self.soft[idx])
        return bound

    def __call__(self, logits: torch.Tensor, batch: Batch) -> torch.Tensor:
        if self.targets is None:
            raise RuntimeError("Distillation.at(idx) gives a batch's loss")
        hard = self.inner(logits, batch)
        T = self.temperature
        log_q = F.log_softmax(logits / T, dim=-1)  # (B, C)
        kl = F.kl_div(log_q, self.targets.to(logits.device), reduction="batchmean")
        return (1 - self.weight) * hard + self.weight * T * T * kl
