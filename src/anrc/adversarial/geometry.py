"""Perturbation geometry, shared by training methods and test-time attacks.

A perturbation of a sentence is a tensor shaped like its embedded input
(B, L, D). Its size is the L2 norm over the whole sentence, real tokens only
(Eq. 8 of Liu et al.: ||r||_2 <= eps per example); padding always stays zero.

The radius is eps itself (``adversarial.scale = absolute``), or eps relative to
the size of the input (``relative``): radius_i = eps * m * sqrt(n_i), with m the
mean L2 norm of a real token's vector in the batch and n_i the sentence's real
tokens. A relative eps is the perturbation's size per token as a fraction of a
typical token vector, so one value transfers across vector sizes and encoders;
an absolute eps converts to it as eps_rel = eps_abs / (m * sqrt(n)).
"""

from __future__ import annotations

import torch

Radius = float | torch.Tensor  # a number, or (B,) one per example


def per_example_norm(r: torch.Tensor) -> torch.Tensor:
    """(B, L, D) -> (B,) L2 norm of each example's perturbation."""
    return r.flatten(1).norm(dim=1)


def _per_example(eps: Radius) -> Radius:
    return eps[:, None, None] if isinstance(eps, torch.Tensor) else eps


def normalise(direction: torch.Tensor, mask: torch.Tensor, epsilon: Radius) -> torch.Tensor:
    """Scale each example's direction (B, L, D) to L2 norm epsilon over its real tokens."""
    d = direction * mask[..., None].to(direction.dtype)  # (B, L, D)
    norm = per_example_norm(d).clamp_min(1e-12)  # (B,)
    return _per_example(epsilon) * d / norm[:, None, None]


def project(r: torch.Tensor, eps: Radius) -> torch.Tensor:
    """Project each example's perturbation onto the L2 ball of radius eps."""
    norm = per_example_norm(r).clamp_min(1e-12)  # (B,)
    return r * (eps / norm).clamp(max=1.0)[:, None, None]


def radius(x: torch.Tensor, mask: torch.Tensor, epsilon: float, relative: bool) -> Radius:
    """The perturbation radius for embedded input x (B, L, D): eps, or (B,) relative radii."""
    if not relative:
        return epsilon
    with torch.no_grad():
        token_norms = x.norm(dim=-1)[mask]  # (real tokens,)
        m = token_norms.mean()
        n = mask.sum(1).to(x.dtype)  # (B,)
        return epsilon * m * n.sqrt()


def random_in_ball(x: torch.Tensor, mask: torch.Tensor, eps: Radius) -> torch.Tensor:
    """A random start inside the ball: a Gaussian direction at a uniform fraction of eps."""
    u = torch.rand(x.shape[0], dtype=x.dtype).to(x.device)  # (B,) from the CPU generator
    return normalise(torch.randn_like(x), mask, u * eps)
