"""Batched inference over examples, shared by training, evaluation, prediction and attacks."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from anrc.data import Example
from anrc.models.trained import TrainedModel
from anrc.progress import progress


@torch.no_grad()
def predict_probs(
    trained: TrainedModel,
    examples: Sequence[Example],
    batch_size: int = 256,
    with_attention: bool = False,
    show_progress: str | None = None,
) -> tuple[np.ndarray, list[np.ndarray] | None]:
    """(N, C) label probabilities in the order of ``examples``, and, with
    ``with_attention``, each example's token weights over the featurised tokens.
    ``show_progress``: a label for a progress bar on stderr (None: quiet)."""
    model = trained.network
    was_training = model.training
    model.eval()
    probs = np.zeros((len(examples), model.n_labels), dtype=np.float32)
    attn: list[np.ndarray] | None = [np.zeros(0)] * len(examples) if with_attention else None
    batches = trained.featurizer.batches(examples, batch_size)
    if show_progress:
        n = -(-len(examples) // batch_size)
        batches = progress(batches, total=n, desc=show_progress, unit="batches")
    for idx, batch in batches:
        out = model(batch)
        probs[idx] = out.logits.float().softmax(dim=-1).cpu().numpy()
        if attn is not None and out.attention is not None:
            a = out.attention.float().cpu().numpy()
            lengths = batch.lengths.tolist()
            for row, i in enumerate(idx):
                attn[i] = a[row, : lengths[row]]
    model.train(was_training)
    return probs, attn


def predict_labels(
    trained: TrainedModel,
    examples: Sequence[Example],
    batch_size: int = 256,
    show_progress: str | None = None,
) -> list[str]:
    """The most probable label of each example."""
    probs, _ = predict_probs(trained, examples, batch_size, show_progress=show_progress)
    return [trained.labels.labels[i] for i in probs.argmax(axis=1)]
