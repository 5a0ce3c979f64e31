"""Adversarial training methods (Liu et al., section 3.3, and what followed).

A method owns its inner loop: :meth:`AdversarialMethod.backward` computes the
training objective for one optimiser step and back-propagates it, so parameter
gradients are in place when it returns; the training step only zeroes, clips and
steps. The loss it minimises on each pass is handed to it (``step.loss(logits,
batch)``, :mod:`anrc.training.loss`): a method knows how to perturb, not what is
minimised. Every method perturbs the model's input through the one seam
(``model(batch, embeds=model.embed(batch) + r)``), so it works with every encoder.

One hook, :meth:`AdversarialMethod.steps`, says what the optimiser steps of a
minibatch work on: one step by default; free AT replays the minibatch m times;
VAT adds a batch of unlabelled sentences.

Methods register by name in :data:`METHODS`; ``adversarial.method`` picks one. Each
declares its own settings as a ``Params`` dataclass beside its code (the config's
``[method]`` section); ``[adversarial]`` holds what they share: the name, eps and how eps
is measured.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING

import torch

from anrc.adversarial.geometry import normalise, radius
from anrc.registry import Registry

if TYPE_CHECKING:  # the methods work through the seam, whatever the model
    from anrc.models.batch import Batch

METHODS: Registry[type[AdversarialMethod]] = Registry("adversarial method")


#: loss(logits (B, C), batch) -> the scalar minimised (anrc.training.loss.Loss)
LossFn = Callable[[torch.Tensor, "Batch"], torch.Tensor]


@dataclass
class Step:
    """What one optimiser step trains on."""

    batch: Batch
    loss: LossFn
    extra: Batch | None = None  # unlabelled sentences (vat), when the run has any


@dataclass
class StepLoss:
    objective: torch.Tensor  # the value minimised (detached)
    clean: torch.Tensor  # the loss on the unperturbed batch (detached)


def setting(default, help: str):
    """A method setting with its help text (``anrc train --show-config`` prints it)."""
    return field(default=default, metadata={"help": help})


@dataclass
class NoParams:
    """A method without settings of its own."""


@dataclass
class OneStepParams:
    weight: float = setting(1.0, "lambda: loss = clean + lambda * adversarial (Eq. 7)")
    objective: str = setting("sum", "sum (clean + lambda * adv) or adv_only (Eq. 7 replaces Eq. 5)")

    def __post_init__(self) -> None:
        if self.objective not in ("sum", "adv_only"):
            raise ValueError(f"method.objective must be sum or adv_only; got {self.objective!r}")
        if self.weight < 0:
            raise ValueError("method.weight must be >= 0")


class AdversarialMethod:
    """Base: plain training, ``loss = L(x)`` (also the ``none`` method).

    ``cfg`` is the ``[adversarial]`` section (name, eps, scale), ``params`` the method's
    own ``Params`` (the ``[method]`` section; its defaults when None)."""

    needs_gradient = False  # whether the perturbation uses the loss gradient
    Params: type = NoParams

    def __init__(self, cfg, params=None):
        self.cfg = cfg  # the AdversarialConfig
        self.params = params if params is not None else self.Params()
        self.epsilon = cfg.epsilon

    def describe(self) -> str:
        """The method's hyper-parameters, printed at the start of a run."""
        c = self.cfg
        own = ", ".join(f"{k}={v}" for k, v in asdict(self.params).items())
        return f"{self.registered_name}(epsilon={c.epsilon}, scale={c.scale}, {own})"

    def __repr__(self) -> str:
        return self.describe()

    #: the perturbation of the last batch (None: the method adds none)
    last_r: torch.Tensor | None = None

    def radius(self, x: torch.Tensor, batch: Batch):
        """eps as a radius for this batch (a number, or (B,) with ``scale = relative``)."""
        return radius(x, batch.mask, self.epsilon, self.cfg.scale == "relative")

    def steps(
        self, batch: Batch, loss: LossFn, unlabelled: Callable[[int], Batch | None]
    ) -> list[Step]:
        """Hook: the optimiser steps of one minibatch. ``unlabelled(n)`` draws n unlabelled
        sentences for this minibatch (None when the run has none). One step here."""
        return [Step(batch, loss)]

    def backward(self, model, step: Step) -> StepLoss:
        """Objective and gradients for one optimiser step."""
        value = step.loss(model(step.batch).logits, step.batch)
        value.backward()
        d = value.detach()
        return StepLoss(d, d)


@METHODS.register("none")
class NoPerturbation(AdversarialMethod):
    """Plain training: one forward and one backward pass."""

    def describe(self) -> str:
        return "none"


def embed_for_gradient(model, batch: Batch) -> torch.Tensor:
    """model.embed(batch), with its gradient kept after backward (x.grad)."""
    x = model.embed(batch)  # (B, L, D)
    if x.requires_grad:
        x.retain_grad()
        return x
    return x.detach().requires_grad_()  # embeddings without trainable weights


class OneStepPerturbation(AdversarialMethod):
    """Eq. 7: L(x) + lambda * L(x + r), r of norm eps per example (Eq. 8 for FGM).

    Pass 1 computes the clean loss and, through the same backward, the gradient g
    with respect to the embedded input; pass 2 adds r (a constant: no gradient
    flows through it) and back-propagates lambda * L_adv. With ``objective =
    adv_only`` Eq. 7 replaces Eq. 5: only lambda * L_adv is minimised.
    """

    Params = OneStepParams

    def direction(self, x: torch.Tensor, grad: torch.Tensor | None) -> torch.Tensor:
        raise NotImplementedError

    def backward(self, model, step: Step) -> StepLoss:
        c, batch = self.params, step.batch
        x = embed_for_gradient(model, batch)  # (B, L, D)
        clean = step.loss(model(batch, embeds=x).logits, batch)
        grad = None
        if c.objective == "sum":
            clean.backward()
            grad = x.grad
        elif self.needs_gradient:  # adv_only: g still comes from the clean loss
            (grad,) = torch.autograd.grad(clean, x)
        with torch.no_grad():  # theta-hat: no gradient flows through r
            r = normalise(self.direction(x.detach(), grad), batch.mask, self.radius(x, batch))
        self.last_r = r
        adv = step.loss(model(batch, embeds=model.embed(batch) + r).logits, batch)
        weighted = c.weight * adv
        weighted.backward()
        total = clean + weighted if c.objective == "sum" else weighted
        return StepLoss(total.detach(), clean.detach())


@METHODS.register("random")
class RandomPerturbation(OneStepPerturbation):
    """Random-noise control: an isotropic Gaussian direction, same norm eps."""

    def direction(self, x, grad):
        return torch.randn_like(x)


@METHODS.register("fgm")
class FGM(OneStepPerturbation):
    """Eq. 8: r_adv = eps * g / ||g||_2 with g = the loss gradient w.r.t. the embedded input."""

    needs_gradient = True

    def direction(self, x, grad):
        if grad is None:
            raise ValueError("FGM needs the loss gradient")
        return grad


def make_method(cfg, params=None) -> AdversarialMethod:
    """The method ``cfg.method`` names (cfg: the AdversarialConfig; params: its ``[method]``
    section, the method's defaults when None)."""
    return METHODS.get(cfg.method)(cfg, params)


def method_params(name: str, **given):
    """Method ``name``'s ``Params`` from those of ``given`` it declares (the others are
    left out: for a grid of methods with one set of settings, as in benchmarks)."""
    klass = METHODS.get(name).Params
    own = {f.name for f in fields(klass)}
    return klass(**{k: v for k, v in given.items() if k in own})
