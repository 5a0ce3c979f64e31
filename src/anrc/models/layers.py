"""Small tensor functions shared by the encoders."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def window_concat(x: torch.Tensor, k: int) -> torch.Tensor:
    """Eq. 1 of Liu et al.: z_n = [x_{n-(k-1)/2}; ..; x_{n+(k-1)/2}], zero-padded at the edges.

    ``x`` must already be zero on padding positions, so a sentence's last window
    sees zeros past its end, exactly as it would alone.
    """
    if k == 1:
        return x
    half = (k - 1) // 2
    padded = F.pad(x, (0, 0, half, half))  # (B, L + k - 1, D)
    L = x.shape[1]
    return torch.cat([padded[:, i : i + L] for i in range(k)], dim=-1)  # (B, L, k*D)


def span_mask(spans: torch.Tensor, L: int) -> torch.Tensor:
    """(B, 2) [start, end) -> (B, L) bool."""
    idx = torch.arange(L, device=spans.device)[None, :]
    return (idx >= spans[:, :1]) & (idx < spans[:, 1:])


def span_mean(x: torch.Tensor, spans: torch.Tensor) -> torch.Tensor:
    """(B, L, D), (B, 2) -> (B, D): the mean of x over each example's span."""
    m = span_mask(spans, x.shape[1]).to(x.dtype)[..., None]  # (B, L, 1)
    return (x * m).sum(1) / m.sum(1)


def gather_positions(x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """(B, L, D), (B,) -> (B, D): x at one position per example."""
    return x[torch.arange(x.shape[0], device=x.device), positions]


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Softmax over the last axis (B, L), padding positions getting weight 0."""
    return scores.masked_fill(~mask, float("-inf")).softmax(dim=-1)


def masked_max(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(B, L, D) -> (B, D): max over real positions."""
    return x.masked_fill(~mask[..., None], float("-inf")).max(dim=1).values


def zero_padding(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """x with padding positions set to zero, (B, L, D)."""
    return x * mask[..., None].to(x.dtype)


class MaskedConv(torch.nn.Module):
    """A 1-d convolution over tokens that sees zeros past each sentence's ends.

    (B, L, D) -> (B, L, filters); the input is zeroed on padding first, so a
    sentence's windows are the same in a padded batch as alone.
    """

    def __init__(self, in_dim: int, filters: int, kernel: int):
        super().__init__()
        self.conv = torch.nn.Conv1d(in_dim, filters, kernel, padding=kernel // 2)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = zero_padding(x, mask)
        return self.conv(x.transpose(1, 2)).transpose(1, 2)
