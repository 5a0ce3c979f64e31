"""Embedding-space white-box attacks at test time: FGM and PGD on the embedded input.

They perturb what the model's ``embed(batch)`` returns (the word embeddings, or
word-piece embeddings for a transformer), through the same seam as training, and
reuse the training geometry (:mod:`anrc.adversarial.geometry`): an attack of
radius eps moves each sentence's embeddings by at most eps in L2 norm over the
whole sentence, exactly the ball adversarial training defends. With
``relative=True`` eps is relative to the size of the input, as
``adversarial.scale = relative`` in training: radius eps * m * sqrt(n) (m the mean
token-vector norm of the batch, n the sentence's tokens), so one eps grid compares
encoders whose vectors differ in size (50-d GloVe vs word pieces).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from anrc.adversarial.geometry import Radius, normalise, project, radius
from anrc.data import Example
from anrc.metrics.scorer import accuracy, official_f1
from anrc.models.batch import Batch
from anrc.models.classifier import RelationModel
from anrc.models.trained import TrainedModel
from anrc.progress import progress
from anrc.registry import Registry

EMBEDDING_ATTACKS: Registry = Registry("embedding attack")
#: the radii ``anrc attack`` sweeps when none are given (0: the clean score)
DEFAULT_RADII = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0)


def _loss_and_grad(
    model: RelationModel, batch: Batch, x: torch.Tensor, r: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-example loss at embeds x + r, and its gradient w.r.t. r."""
    r = r.detach().requires_grad_()
    out = model(batch, embeds=x + r)
    losses = F.cross_entropy(out.logits, batch.labels, reduction="none")  # (B,)
    (grad,) = torch.autograd.grad(losses.sum(), r)
    return losses.detach(), grad


@EMBEDDING_ATTACKS.register("fgm")
def fgm_attack(model: RelationModel, batch: Batch, eps: Radius) -> torch.Tensor:
    """One step of size eps along the loss gradient (Eq. 8 at test time)."""
    x = model.embed(batch).detach()
    _, grad = _loss_and_grad(model, batch, x, torch.zeros_like(x))
    return normalise(grad, batch.mask, eps)


@EMBEDDING_ATTACKS.register("pgd")
def pgd_attack(
    model: RelationModel, batch: Batch, eps: Radius, steps: int = 10, step_size: float | None = None
) -> torch.Tensor:
    """k normalised-gradient steps, each projected to the eps ball; returns, per example,
    the iterate with the highest loss seen, so the result never has a lower loss than
    the starting point r = 0."""
    alpha = step_size if step_size is not None else 2.5 * eps / steps
    x = model.embed(batch).detach()
    r = torch.zeros_like(x)
    best_r = r.clone()
    best_loss, grad = _loss_and_grad(model, batch, x, r)
    for _ in range(steps):
        r = project(r + normalise(grad, batch.mask, alpha), eps)
        loss, grad = _loss_and_grad(model, batch, x, r)
        better = loss > best_loss
        best_r[better] = r[better]
        best_loss = torch.maximum(best_loss, loss)
    return best_r


def evaluate_under_attack(
    trained: TrainedModel,
    examples: Sequence[Example],
    method: str,
    eps: float,
    batch_size: int = 128,
    relative: bool = False,
    **kw,
) -> dict:
    """Official F1 and accuracy of the model on examples attacked with ``method`` at ``eps``
    (relative: eps scaled per sentence by the size of its embedded input)."""
    model, labels = trained.network, trained.labels
    model.eval()  # attacks are on the deployed model: no dropout
    preds = [""] * len(examples)
    n = -(-len(examples) // batch_size)
    batches = trained.featurizer.batches(examples, batch_size, labels)
    for idx, batch in progress(batches, total=n, desc=f"attack eps {eps:g}", unit="batches"):
        with torch.no_grad():
            x = model.embed(batch)  # (B, L, D)
        r = None
        if eps > 0:
            ball = radius(x, batch.mask, eps, relative)  # float or (B,)
            r = EMBEDDING_ATTACKS.get(method)(model, batch, ball, **kw)
        with torch.no_grad():
            logits = model(batch, embeds=x + r if r is not None else None).logits
        for i, k in zip(idx, logits.argmax(dim=1).tolist(), strict=True):
            preds[i] = labels.labels[k]
    gold = [ex.label for ex in examples]
    return {
        "method": method,
        "epsilon": eps,
        "f1": official_f1(gold, preds, labels.negative),
        "accuracy": accuracy(gold, preds),
        "predictions": preds,
    }


__all__ = [
    "EMBEDDING_ATTACKS",
    "fgm_attack",
    "pgd_attack",
    "project",
    "evaluate_under_attack",
    "DEFAULT_RADII",
]
