"""A padded batch of featurised examples, and the length-bucketed batch order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
import torch


@dataclass
class Batch:
    """A padded batch as an encoder's featuriser builds it. L is the longest sequence.

    Every featuriser fills ``ids``, ``lengths``, the entity spans and the entity
    starts; word-vector featurisers also fill the relative positions.
    """

    ids: torch.Tensor  # (B, L) token ids, 0 = padding
    lengths: torch.Tensor  # (B,) int64, on CPU (pack_padded_sequence wants it there)
    e1: torch.Tensor  # (B, 2) [start, end) of the entity's words in the sequence
    e2: torch.Tensor  # (B, 2)
    starts: (
        torch.Tensor
    )  # (B, 2) position of the <e1> and <e2> markers (the first word without markers)
    labels: torch.Tensor | None = None  # (B,)
    pos1: torch.Tensor | None = None  # (B, L) clipped distance to e1, shifted to >= 0
    pos2: torch.Tensor | None = None  # (B, L)

    @property
    def mask(self) -> torch.Tensor:
        """(B, L) True on real tokens."""
        L = self.ids.shape[1]
        return (
            torch.arange(L, device=self.ids.device)[None, :]
            < self.lengths.to(self.ids.device)[:, None]
        )

    def to(self, device: torch.device) -> Batch:
        """The batch with its tensors on ``device`` (``lengths`` stays on the CPU); itself
        when it is there already."""
        if self.ids.device == device:
            return self
        moved = {
            f.name: (v.to(device) if f.name != "lengths" and isinstance(v, torch.Tensor) else v)
            for f in fields(self)
            for v in [getattr(self, f.name)]
        }
        return Batch(**moved)

    def __len__(self) -> int:
        return int(self.ids.shape[0])


def batch_order(
    lengths: Sequence[int], batch_size: int, rng: np.random.Generator | None, bucket: bool = True
) -> list[list[int]]:
    """Indices grouped into batches.

    With ``rng`` (training): shuffle, then (if ``bucket``) sort by length inside
    pools of 50 batches so that a batch holds sentences of similar length, and
    shuffle the batches. Without ``rng`` (inference): sorted by length, so
    padding is minimal; callers restore the original order.
    """
    n = len(lengths)
    if rng is None:
        order = sorted(range(n), key=lambda i: lengths[i]) if bucket else list(range(n))
        return [order[i : i + batch_size] for i in range(0, n, batch_size)]
    perm = rng.permutation(n).tolist()
    if bucket:
        pool = batch_size * 50
        perm = [
            i
            for start in range(0, n, pool)
            for i in sorted(perm[start : start + pool], key=lambda i: lengths[i])
        ]
    batches = [perm[i : i + batch_size] for i in range(0, n, batch_size)]
    return [batches[i] for i in rng.permutation(len(batches)).tolist()]
