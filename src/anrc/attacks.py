"""Embedding-space white-box attacks at test time: FGM and PGD on the word embeddings.

They reuse the training perturbations' normalisation (:func:`anrc.perturb.normalise`):
an attack of radius eps moves each sentence's word embeddings by at most eps in L2
norm over the whole sentence, exactly the ball adversarial training defends.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from .batching import Batch, iterate
from .data import Example
from .labels import LabelSet
from .model import ANRC
from .perturb import normalise
from .scorer import accuracy, official_f1
from .vocab import Vocab


def _loss_and_grad(model: ANRC, batch: Batch, r: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-example loss at word-embedding offset r, and its gradient w.r.t. r."""
    r = r.detach().requires_grad_()
    out = model(batch, perturb={"word": r})
    losses = F.cross_entropy(out.logits, batch.labels, reduction="none")  # (B,)
    (grad,) = torch.autograd.grad(losses.sum(), r)
    return losses.detach(), grad


def fgm_attack(model: ANRC, batch: Batch, eps: float) -> torch.Tensor:
    """One step of size eps along the loss gradient (Eq. 8 at test time)."""
    word = model.encoder.word_embeddings(batch.ids).detach()
    _, grad = _loss_and_grad(model, batch, torch.zeros_like(word))
    return normalise(grad, batch.mask, eps)


def project(r: torch.Tensor, eps: float) -> torch.Tensor:
    """Project each example's offset onto the L2 ball of radius eps."""
    norm = r.flatten(1).norm(dim=1).clamp_min(1e-12)  # (B,)
    return r * (eps / norm).clamp(max=1.0)[:, None, None]


def pgd_attack(
    model: ANRC, batch: Batch, eps: float, steps: int = 10, step_size: float | None = None
) -> torch.Tensor:
    """k normalised-gradient steps, each projected to the eps ball; returns, per example,
    the iterate with the highest loss seen, so the result never has a lower loss than
    the starting point r = 0."""
    alpha = step_size if step_size is not None else 2.5 * eps / steps
    word = model.encoder.word_embeddings(batch.ids).detach()
    r = torch.zeros_like(word)
    best_r = r.clone()
    best_loss, grad = _loss_and_grad(model, batch, r)
    for _ in range(steps):
        r = project(r + normalise(grad, batch.mask, alpha), eps)
        loss, grad = _loss_and_grad(model, batch, r)
        better = loss > best_loss
        best_r[better] = r[better]
        best_loss = torch.maximum(best_loss, loss)
    return best_r


ATTACKS = {"fgm": fgm_attack, "pgd": pgd_attack}


def evaluate_under_attack(
    model: ANRC,
    vocab: Vocab,
    labels: LabelSet,
    examples: Sequence[Example],
    max_distance: int,
    method: str,
    eps: float,
    batch_size: int = 128,
    **kw,
) -> dict:
    """Official F1 and accuracy of the model on examples attacked with ``method`` at ``eps``."""
    model.eval()  # attacks are on the deployed model: no dropout
    preds = [""] * len(examples)
    for idx, batch in iterate(examples, vocab, max_distance, batch_size, labels):
        r = ATTACKS[method](model, batch, eps, **kw) if eps > 0 else None
        with torch.no_grad():
            logits = model(batch, perturb={"word": r} if r is not None else None).logits
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


def epsilon_grid() -> list[float]:
    return [0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0]


__all__ = ["fgm_attack", "pgd_attack", "project", "evaluate_under_attack", "epsilon_grid"]
