"""Batched inference over examples, shared by training, evaluation and prediction."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .batching import iterate
from .data import Example
from .labels import LabelSet
from .model import ANRC
from .vocab import Vocab


@torch.no_grad()
def predict_probs(
    model: ANRC,
    vocab: Vocab,
    examples: Sequence[Example],
    max_distance: int,
    batch_size: int = 256,
    with_attention: bool = False,
) -> tuple[np.ndarray, list[np.ndarray] | None]:
    """(N, C) label probabilities in the order of ``examples`` (and attention per example)."""
    was_training = model.training
    model.eval()
    probs = np.zeros((len(examples), model.classifier.out_features), dtype=np.float32)
    attn: list[np.ndarray] | None = [np.zeros(0)] * len(examples) if with_attention else None
    for idx, batch in iterate(examples, vocab, max_distance, batch_size):
        out = model(batch)
        probs[idx] = out.logits.softmax(dim=-1).numpy()
        if attn is not None and out.attention is not None:
            a = out.attention.numpy()
            for row, i in enumerate(idx):
                attn[i] = a[row, : len(examples[i].tokens)]
    model.train(was_training)
    return probs, attn


def predict_labels(
    model: ANRC,
    vocab: Vocab,
    labels: LabelSet,
    examples: Sequence[Example],
    max_distance: int,
    batch_size: int = 256,
) -> list[str]:
    probs, _ = predict_probs(model, vocab, examples, max_distance, batch_size)
    return [labels.labels[i] for i in probs.argmax(axis=1)]
