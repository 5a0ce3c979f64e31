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

import torch
import torch.nn.functional as F

from anrc.adversarial.geometry import normalise
from anrc.adversarial.methods import METHODS, AdversarialMethod, Step, StepLoss
from anrc.models.batch import Batch


def kl_to(p_logits: torch.Tensor, q_logits: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of KL(p || q) for logits (B, C); p is held fixed."""
    p = F.log_softmax(p_logits.detach(), dim=-1)
    q = F.log_softmax(q_logits, dim=-1)
    return (p.exp() * (p - q)).sum(-1).mean()


@METHODS.register("vat")
class VAT(AdversarialMethod):
    def describe(self) -> str:
        c = self.cfg
        return (
            f"vat(epsilon={c.epsilon}, scale={c.scale}, power_iterations={c.steps}, "
            f"xi={c.vat_xi}, weight={c.weight})"
        )

    def smoothness(self, model, batch: Batch, clean_logits: torch.Tensor) -> torch.Tensor:
        """KL(p(x) || p(x + r_vadv)), differentiable in the parameters."""
        x = model.embed(batch)
        x0 = x.detach()
        d = normalise(torch.randn_like(x0), batch.mask, 1.0)
        for _ in range(self.cfg.steps):
            d = d.requires_grad_()
            kl = kl_to(clean_logits, model(batch, embeds=x0 + self.cfg.vat_xi * d).logits)
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
        total = clean + self.cfg.weight * lds
        total.backward()
        return StepLoss(total.detach(), clean.detach())
