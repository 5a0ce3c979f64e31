"""Adversarial training for free (Shafahi et al. 2019), L2 version on the embedded input.

Each minibatch is replayed m times (``method.replays``): the :meth:`steps`
hook gives the training loop m optimiser steps on it. The single backward pass of a
replay gives both the parameter gradient and the gradient g with respect to the
perturbation, which moves r for the next replay:

    loss = L(x + r);   r <- Proj_eps( r + eps * g / ||g|| )

so an epoch costs m plain epochs, not m + 1 per step as PGD: divide
``train.max_epochs`` by m to keep the cost of plain training. r starts at zero for
every minibatch (the paper carries it over between minibatches of images of
one shape; sentences differ in length), so m = 1 is plain training.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from anrc.adversarial.geometry import normalise, project
from anrc.adversarial.methods import METHODS, AdversarialMethod, Step, StepLoss, setting


@dataclass
class FreeParams:
    replays: int = setting(4, "times each minibatch is replayed (m); divide max_epochs by m")

    def __post_init__(self) -> None:
        if self.replays < 1:
            raise ValueError("method.replays must be >= 1")


@METHODS.register("free")
class FreeAT(AdversarialMethod):
    Params = FreeParams

    def __init__(self, cfg, params=None):
        super().__init__(cfg, params)
        self._r: torch.Tensor | None = None  # carried from replay to replay of a minibatch

    def steps(self, batch, loss, unlabelled) -> list[Step]:
        """m replays of the minibatch; r starts at zero for each minibatch."""
        self._r = None
        return [Step(batch, loss)] * self.params.replays

    def backward(self, model, step: Step) -> StepLoss:
        batch = step.batch
        x = model.embed(batch)  # (B, L, D)
        if self._r is None:
            self._r = torch.zeros_like(x.detach())
        r = self._r.requires_grad_()
        self.last_r = self._r.detach()  # the perturbation this replay trains on
        loss = step.loss(model(batch, embeds=x + r).logits, batch)
        loss.backward()
        with torch.no_grad():
            eps = self.radius(x, batch)
            step = normalise(r.grad, batch.mask, eps)
            self._r = project(r.detach() + step, eps) * batch.mask[..., None]
        d = loss.detach()
        return StepLoss(d, d)
