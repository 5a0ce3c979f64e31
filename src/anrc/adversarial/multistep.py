"""Multi-step adversarial training: PGD (Madry et al. 2018) and FreeLB (Zhu et al. 2020).

Both take K normalised-gradient ascent steps of size alpha on the perturbation r
of the embedded input, projecting r back onto the eps ball of each example
after every step (L2 over real tokens; padding stays zero):

    r_{k+1} = Proj_eps( r_k + alpha * g_k / ||g_k|| ),  g_k = dL(x + r_k) / dr

PGD trains on the last point only (``method.objective``: clean + lambda *
L(x + r_K), or L(x + r_K) alone); FreeLB back-propagates each of the K perturbed
losses as it goes, so the parameter update is the mean of the K gradients, at
the cost of the same K passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from anrc.adversarial.geometry import normalise, project, random_in_ball
from anrc.adversarial.methods import (
    METHODS,
    AdversarialMethod,
    OneStepParams,
    Step,
    StepLoss,
    embed_for_gradient,
    setting,
)

if TYPE_CHECKING:  # the methods work through the seam, whatever the model
    from anrc.models.batch import Batch


@dataclass
class AscentParams:
    steps: int = setting(3, "ascent steps K")
    step_size: float = setting(
        0.0, "ascent step alpha (a radius, scaled like eps); 0 = 2.5 * eps / steps"
    )
    random_start: bool = setting(False, "start from a random point in the eps ball")

    def __post_init__(self) -> None:
        if self.steps < 1 or self.step_size < 0:
            raise ValueError("method.steps must be >= 1, method.step_size >= 0")


@dataclass
class PGDParams(AscentParams, OneStepParams):
    """PGD's ascent, then Eq. 7's weight and objective on its last point."""

    def __post_init__(self) -> None:
        AscentParams.__post_init__(self)
        OneStepParams.__post_init__(self)


class MultiStep(AdversarialMethod):
    Params = AscentParams

    def __init__(self, cfg, params=None):
        super().__init__(cfg, params)
        self.ascents = self.params.steps
        #: the loss at each point visited on the last batch (for inspection and tests)
        self.trace: list[float] = []

    def alpha(self, eps):
        """The step size: method.step_size scaled like eps, or 2.5 eps / K (Madry)."""
        if self.params.step_size:
            return eps * (self.params.step_size / self.epsilon) if self.epsilon else 0.0
        return 2.5 * eps / self.ascents

    def start(self, x: torch.Tensor, batch: Batch, eps) -> torch.Tensor:
        if self.params.random_start:
            return random_in_ball(x.detach(), batch.mask, eps)
        return torch.zeros_like(x)

    def ascend(self, r: torch.Tensor, g: torch.Tensor, batch: Batch, eps) -> torch.Tensor:
        """One projected step along the per-example normalised gradient."""
        step = normalise(g, batch.mask, self.alpha(eps))
        return project(r.detach() + step, eps) * batch.mask[..., None]


@METHODS.register("pgd")
class PGD(MultiStep):
    """K projected steps, then train on L(x + r_K) (with the clean loss if objective = sum).

    From a zero start with objective = sum the clean pass's input gradient is the
    first step's gradient, so K = 1 with alpha >= eps is FGM.
    """

    Params = PGDParams

    def backward(self, model, step: Step) -> StepLoss:
        c, batch, loss_of = self.params, step.batch, step.loss
        x = embed_for_gradient(model, batch)
        eps = self.radius(x, batch)
        clean = loss_of(model(batch, embeds=x).logits, batch)
        r = self.start(x, batch, eps)
        g = None
        if c.objective == "sum":
            clean.backward()
            if not c.random_start:
                g = x.grad
        self.trace = [float(clean.detach())]
        x0 = x.detach()
        for k in range(self.ascents):
            if g is None or k > 0:  # from a zero start the clean pass gave the first g
                r = r.detach().requires_grad_()
                loss = loss_of(model(batch, embeds=x0 + r).logits, batch)
                (g,) = torch.autograd.grad(loss, r)
                if k > 0 or c.random_start:
                    self.trace.append(float(loss.detach()))
            r = self.ascend(r, g, batch, eps)
        self.last_r = r.detach()
        adv = loss_of(model(batch, embeds=model.embed(batch) + self.last_r).logits, batch)
        self.trace.append(float(adv.detach()))
        (c.weight * adv).backward()
        total = clean + c.weight * adv if c.objective == "sum" else c.weight * adv
        return StepLoss(total.detach(), clean.detach())


@METHODS.register("freelb")
class FreeLB(MultiStep):
    """Zhu et al. (2020), Alg. 1: the parameter gradient is the mean over the K ascent steps
    of the gradient of L(x + r_t); r starts at 0 (or at random in the ball)."""

    def backward(self, model, step: Step) -> StepLoss:
        batch = step.batch
        eps = self.radius(model.embed(batch).detach(), batch)
        r = self.start(model.embed(batch), batch, eps)
        total, first = torch.zeros((), device=batch.ids.device), None
        self.trace = []
        for t in range(self.ascents):
            r = r.detach().requires_grad_()
            loss = step.loss(model(batch, embeds=model.embed(batch) + r).logits, batch)
            (loss / self.ascents).backward()  # parameter gradients accumulate: their mean
            total = total + loss.detach() / self.ascents
            first = loss.detach() if first is None else first
            self.trace.append(float(loss.detach()))
            if t < self.ascents - 1:
                r = self.ascend(r, r.grad, batch, eps)
        self.last_r = r.detach()
        return StepLoss(total, first)
