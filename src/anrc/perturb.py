"""Training-time perturbations of the embedded input (Liu et al., section 3.3).

A perturbation turns the anchor tensor (e.g. the word embeddings, (B, L, D)) and,
if it needs one, the loss gradient with respect to it into a perturbation r with
||r||_2 = epsilon per example, the norm taken over the whole sentence (real
tokens only). The trainer calls it at one point of the step; the model never
branches on it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch


def normalise(direction: torch.Tensor, mask: torch.Tensor, epsilon: float) -> torch.Tensor:
    """Scale each example's direction (B, L, D) to L2 norm epsilon over its real tokens."""
    d = direction * mask[..., None].to(direction.dtype)  # (B, L, D)
    norm = d.flatten(1).norm(dim=1).clamp_min(1e-12)  # (B,)
    return epsilon * d / norm[:, None, None]


class Perturbation(ABC):
    """One hook: :meth:`direction`. ``needs_gradient`` says whether it uses g."""

    name = "base"
    needs_gradient = False

    def __init__(self, epsilon: float):
        self.epsilon = epsilon

    @abstractmethod
    def direction(self, anchor: torch.Tensor, grad: torch.Tensor | None) -> torch.Tensor:
        """An unnormalised direction shaped like ``anchor``."""

    def __call__(
        self, anchor: torch.Tensor, grad: torch.Tensor | None, mask: torch.Tensor
    ) -> torch.Tensor:
        with torch.no_grad():  # theta-hat: no gradient flows through r
            return normalise(self.direction(anchor, grad), mask, self.epsilon)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(epsilon={self.epsilon})"


class NoPerturbation(Perturbation):
    """Plain training: the trainer skips the second pass entirely."""

    name = "none"

    def direction(self, anchor, grad):
        return torch.zeros_like(anchor)


class RandomPerturbation(Perturbation):
    """Random-noise baseline: an isotropic Gaussian direction, same norm epsilon."""

    name = "random"

    def direction(self, anchor, grad):
        return torch.randn_like(anchor)


class FGM(Perturbation):
    """Eq. 8: r_adv = epsilon * g / ||g||_2 with g = grad of the loss w.r.t. the anchor."""

    name = "fgm"
    needs_gradient = True

    def direction(self, anchor, grad):
        if grad is None:
            raise ValueError("FGM needs the loss gradient")
        return grad


PERTURBATIONS: dict[str, type[Perturbation]] = {
    "none": NoPerturbation,
    "random": RandomPerturbation,
    "fgm": FGM,
}


def make_perturbation(name: str, epsilon: float) -> Perturbation:
    if name not in PERTURBATIONS:
        raise ValueError(f"unknown perturbation {name!r}; choose from {sorted(PERTURBATIONS)}")
    return PERTURBATIONS[name](epsilon)
