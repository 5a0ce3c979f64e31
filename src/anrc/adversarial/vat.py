"""Virtual adversarial training (Miyato et al. 2016/2017, "Adversarial Training Methods
for Semi-Supervised Text Classification").

The direction is the one that most changes the model's prediction, found by
power iteration on the KL divergence, with no label needed:

    d ~ N(0, I);  d <- normalise( d KL(p(.|x) || p(.|x + xi d)) / dd )  (K times)
    r_vadv = eps * d
    loss = CE(x, y) + lambda * KL(p(.|x) || p(.|x + r_vadv))     (p(.|x) held fixed)

With ``data.unlabelled`` the KL term also covers a batch of unlabelled
sentences drawn for each step (the term is the mean over both batches).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from anrc.adversarial.geometry import normalise
from anrc.adversarial.methods import METHODS, AdversarialMethod, Step, StepLoss, setting

if TYPE_CHECKING:  # the methods work through the seam, whatever the model
    from anrc.models.batch import Batch


def kl_to(p_logits: torch.Tensor, q_logits: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of KL(p || q) for logits (B, C); p is held fixed."""
    p = F.log_softmax(p_logits.detach(), dim=-1)
    q = F.log_softmax(q_logits, dim=-1)
    return (p.exp() * (p - q)).sum(-1).mean()


@dataclass
class VATParams:
    steps: int = setting(3, "power iterations")
    xi: float = setting(
        0.1, "finite-difference radius of the power iteration (per sentence, absolute)"
    )
    weight: float = setting(1.0, "lambda: loss = clean + lambda * KL")

    def __post_init__(self) -> None:
        if self.steps < 1 or self.xi <= 0 or self.weight < 0:
            raise ValueError("method.steps must be >= 1, method.xi > 0, method.weight >= 0")


@METHODS.register("vat")
class VAT(AdversarialMethod):
    Params = VATParams

    def smoothness(self, model, batch: Batch, clean_logits: torch.Tensor) -> torch.Tensor:
        """KL(p(x) || p(x + r_vadv)), differentiable in the parameters."""
        x = model.embed(batch)
        x0 = x.detach()
        d = normalise(torch.randn_like(x0), batch.mask, 1.0)
        for _ in range(self.params.steps):
            d = d.requires_grad_()
            kl = kl_to(clean_logits, model(batch, embeds=x0 + self.params.xi * d).logits)
            (g,) = torch.autograd.grad(kl, d)
            d = normalise(g.detach(), batch.mask, 1.0)
        r = normalise(d, batch.mask, self.radius(x0, batch))
        self.last_r = r
        return kl_to(clean_logits, model(batch, embeds=x + r).logits)

    def steps(self, batch, loss, unlabelled) -> list[Step]:
        """One step, with as many unlabelled sentences as the batch has (data.unlabelled)."""
        return [Step(batch, loss, unlabelled(len(batch)))]

    def backward(self, model, step: Step) -> StepLoss:
        batch = step.batch
        logits = model(batch).logits
        clean = step.loss(logits, batch)
        lds = self.smoothness(model, batch, logits)
        if step.extra is not None:
            with torch.no_grad():
                u_logits = model(step.extra).logits
            lds = (lds + self.smoothness(model, step.extra, u_logits)) / 2
        total = clean + self.params.weight * lds
        total.backward()
        return StepLoss(total.detach(), clean.detach())
