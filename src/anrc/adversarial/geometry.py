"""Perturbation geometry, shared by training methods and test-time attacks.

A perturbation of a sentence is a tensor shaped like its embedded input
(B, L, D). Its size is the L2 norm over the whole sentence, real tokens only
(Eq. 8 of Liu et al.: ||r||_2 <= eps per example); padding always stays zero.
"""

from __future__ import annotations

import torch


def per_example_norm(r: torch.Tensor) -> torch.Tensor:
    """(B, L, D) -> (B,) L2 norm of each example's perturbation."""
    return r.flatten(1).norm(dim=1)


def normalise(direction: torch.Tensor, mask: torch.Tensor, epsilon: float) -> torch.Tensor:
    """Scale each example's direction (B, L, D) to L2 norm epsilon over its real tokens."""
    d = direction * mask[..., None].to(direction.dtype)  # (B, L, D)
    norm = per_example_norm(d).clamp_min(1e-12)  # (B,)
    return epsilon * d / norm[:, None, None]


def project(r: torch.Tensor, eps: float) -> torch.Tensor:
    """Project each example's perturbation onto the L2 ball of radius eps."""
    norm = per_example_norm(r).clamp_min(1e-12)  # (B,)
    return r * (eps / norm).clamp(max=1.0)[:, None, None]
