"""Small tensor functions shared by the encoders."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


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


def run_bilstm(
    lstm: torch.nn.LSTM, x: torch.Tensor, lengths: torch.Tensor, padded: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """A one-layer bidirectional ``batch_first`` LSTM over padded sequences.

    Returns H (B, L, 2H), zero on padding, and the final states (2, B, H): the
    forward direction's at each sentence's last token, the backward one's at its
    first. Training and inference pack the sequences; under ``torch.export`` (ONNX)
    or with ``padded`` the same values come from running each direction over the
    padded batch, the backward one on each sentence reversed within its length.
    """
    L = x.shape[1]
    if not (padded or torch.compiler.is_exporting()):
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, (h_n, _) = lstm(packed)
        H, _ = pad_packed_sequence(out, batch_first=True, total_length=L)
        return H, h_n
    B = x.shape[0]
    idx = torch.arange(L, device=x.device)[None, :]  # (1, L), broadcast against (B, 1)
    inside = idx < lengths[:, None]  # (B, L)
    rev = torch.where(inside, lengths[:, None] - 1 - idx, idx)  # reverse within the length
    params = dict(lstm.named_parameters())

    def direction(inp: torch.Tensor, suffix: str) -> torch.Tensor:
        ws = [params[f"{k}_l0{suffix}"] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        h0 = inp.new_zeros(1, B, lstm.hidden_size)
        out, _, _ = torch.lstm(inp, (h0, h0), ws, True, 1, 0.0, False, False, True)
        return out  # (B, L, H)

    def flip(t: torch.Tensor) -> torch.Tensor:
        return t.gather(1, rev.unsqueeze(-1).repeat(1, 1, t.shape[-1]))

    fwd = direction(x, "")
    bwd_rev = direction(flip(x), "_reverse")
    H = torch.cat([fwd, flip(bwd_rev)], dim=-1) * inside[..., None].to(x.dtype)
    last = (lengths - 1).clamp_min(0)
    rows = torch.arange(B, device=x.device)
    h_n = torch.stack([fwd[rows, last], bwd_rev[rows, last]])  # (2, B, H)
    return H, h_n
