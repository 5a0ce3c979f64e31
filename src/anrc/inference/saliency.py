"""Token saliency through the perturbation seam, for encoders without attention.

    x = model.embed(batch); s_i = || d logit_y / d x_i ||_2, normalised to sum 1

(the gradient-norm saliency of Li et al. 2016, "Visualizing and Understanding
Neural Models in NLP"), y the predicted label. It uses only ``embed`` and
``forward(embeds=...)``, so it works for every registered encoder.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from anrc.data import Example
from anrc.models.trained import TrainedModel


def saliency(trained: TrainedModel, examples: Sequence[Example]) -> list[np.ndarray]:
    """Each example's weight per featurised token (sums to 1), for its predicted label."""
    model = trained.network
    was_training = model.training
    model.eval()
    out: list[np.ndarray] = []
    for ex in examples:  # one at a time: no padding, exact per-sentence gradients
        batch = trained.featurizer([ex])
        x = model.embed(batch).detach().requires_grad_()
        logits = model(batch, embeds=x).logits  # (1, C)
        (g,) = torch.autograd.grad(logits[0, int(logits[0].argmax())], x)
        s = g[0].norm(dim=-1)  # (L,)
        total = float(s.sum())
        out.append((s / total if total > 0 else torch.full_like(s, 1 / len(s))).cpu().numpy())
    model.train(was_training)
    return out
