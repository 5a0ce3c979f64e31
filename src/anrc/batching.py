"""Turning examples into padded tensors, and length-bucketed batch order."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .data import Example
from .labels import LabelSet
from .vocab import Vocab


@dataclass
class Batch:
    """A padded batch. L is the longest sentence of the batch."""

    ids: torch.Tensor  # (B, L) word ids, 0 = padding
    pos1: torch.Tensor  # (B, L) clipped distance to e1, shifted to >= 0
    pos2: torch.Tensor  # (B, L)
    lengths: torch.Tensor  # (B,) int64, on CPU (pack_padded_sequence wants it there)
    e1: torch.Tensor  # (B, 2) [start, end) token offsets
    e2: torch.Tensor  # (B, 2)
    labels: torch.Tensor | None  # (B,)

    @property
    def mask(self) -> torch.Tensor:
        """(B, L) True on real tokens."""
        L = self.ids.shape[1]
        return torch.arange(L)[None, :] < self.lengths[:, None]

    def __len__(self) -> int:
        return int(self.ids.shape[0])


def relative_positions(n: int, span: tuple[int, int], max_distance: int) -> np.ndarray:
    """Distance of each token to the span (0 inside it), clipped, shifted to [0, 2*max]."""
    idx = np.arange(n)
    s, e = span
    d = np.where(idx < s, idx - s, np.where(idx >= e, idx - (e - 1), 0))
    return np.clip(d, -max_distance, max_distance) + max_distance


def collate(
    examples: Sequence[Example],
    vocab: Vocab,
    max_distance: int,
    labels: LabelSet | None = None,
) -> Batch:
    B = len(examples)
    L = max(len(ex.tokens) for ex in examples)
    ids = np.zeros((B, L), dtype=np.int64)
    pos1 = np.zeros((B, L), dtype=np.int64)
    pos2 = np.zeros((B, L), dtype=np.int64)
    for i, ex in enumerate(examples):
        n = len(ex.tokens)
        ids[i, :n] = vocab.encode(ex.tokens)
        pos1[i, :n] = relative_positions(n, ex.e1, max_distance)
        pos2[i, :n] = relative_positions(n, ex.e2, max_distance)
    y = None
    if labels is not None:
        y = torch.tensor([labels.index(ex.label) for ex in examples], dtype=torch.long)
    return Batch(
        ids=torch.from_numpy(ids),
        pos1=torch.from_numpy(pos1),
        pos2=torch.from_numpy(pos2),
        lengths=torch.tensor([len(ex.tokens) for ex in examples], dtype=torch.long),
        e1=torch.tensor([ex.e1 for ex in examples], dtype=torch.long),
        e2=torch.tensor([ex.e2 for ex in examples], dtype=torch.long),
        labels=y,
    )


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


def iterate(
    examples: Sequence[Example],
    vocab: Vocab,
    max_distance: int,
    batch_size: int,
    labels: LabelSet | None = None,
    rng: np.random.Generator | None = None,
    bucket: bool = True,
) -> Iterator[tuple[list[int], Batch]]:
    """(indices, batch) pairs over ``examples``."""
    for idx in batch_order([len(ex.tokens) for ex in examples], batch_size, rng, bucket):
        yield idx, collate([examples[i] for i in idx], vocab, max_distance, labels)
