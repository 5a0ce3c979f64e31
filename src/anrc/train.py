"""Training pieces: set-up from a config, one optimisation step, scoring a split.

The loop that uses them is in :mod:`anrc.trainer`."""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import TextIO

import numpy as np
import torch

from .batching import Batch
from .config import Config
from .data import Example
from .inference import predict_labels
from .labels import LabelSet
from .model import ANRC
from .perturb import NoPerturbation, Perturbation
from .runio import build_model
from .scorer import accuracy, score
from .splits import load_training_data
from .vectors import load_vectors
from .vocab import Vocab, initial_embeddings


class NonFiniteLoss(RuntimeError):
    pass


@dataclass
class StepResult:
    loss: float  # the objective that was minimised
    clean_loss: float
    finite: bool


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed % (2**32))


def train_step(
    model: ANRC,
    batch: Batch,
    optimizer: torch.optim.Optimizer,
    perturbation: Perturbation,
    cfg: Config,
) -> StepResult:
    """One optimisation step. With a perturbation: two forward and two backward passes.

    Pass 1 computes the clean loss and, through the same backward, the gradient g
    with respect to the anchor (Eq. 8 needs it); pass 2 adds r (a constant: no
    gradient flows through it) and back-propagates lambda * L_adv (Eq. 7).
    """
    adv = cfg.adversarial
    model.train()
    optimizer.zero_grad(set_to_none=True)
    plain = isinstance(perturbation, NoPerturbation)
    anchor = None if plain else adv.target
    out = model(batch, batch.labels, anchor=anchor)
    clean = out.loss
    if plain:
        total = clean
        clean.backward()
    else:
        if adv.objective == "sum":
            clean.backward()
            grad = out.anchor.grad
        else:  # adv_only: Eq. 7 replaces Eq. 5; g still comes from the clean loss
            grad = None
            if perturbation.needs_gradient:
                (grad,) = torch.autograd.grad(clean, out.anchor)
        r = perturbation(out.anchor.detach(), grad, batch.mask)  # (B, L, D)
        adv_loss = model(batch, batch.labels, perturb={adv.target: r}).loss
        weighted = adv.weight * adv_loss
        weighted.backward()
        total = (clean + weighted) if adv.objective == "sum" else weighted
    value = float(total.detach())
    if not math.isfinite(value):
        optimizer.zero_grad(set_to_none=True)
        return StepResult(value, float(clean.detach()), False)
    if cfg.train.grad_clip > 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.train.grad_clip)
    optimizer.step()
    return StepResult(value, float(clean.detach()), True)


def evaluate_split(
    model: ANRC, vocab: Vocab, labels: LabelSet, examples, cfg: Config
) -> tuple[list[str], dict]:
    """Predictions and official figures for labelled examples."""
    preds = predict_labels(model, vocab, labels, examples, cfg.model.max_distance)
    gold = [ex.label for ex in examples]
    key = {ex.id: ex.label for ex in examples}
    report = score(key, {ex.id: p for ex, p in zip(examples, preds, strict=True)}, labels.negative)
    return preds, {"f1": report.official_f1, "accuracy": accuracy(gold, preds), "report": report}


@dataclass
class Setup:
    train: list[Example]
    dev: list[Example]
    test: list[Example]
    labels: LabelSet
    vocab: Vocab
    model: ANRC
    word_dim: int
    pretrained: int  # vocabulary rows initialised from the vectors


def prepare(cfg: Config, log: TextIO | None = None) -> Setup:
    """Data, label set, vocabulary and a freshly initialised model, as the config says."""
    log = log or sys.stderr
    seed_everything(cfg.train.seed)
    train_ex, dev_ex, test_ex = load_training_data(cfg.data)
    labels = LabelSet.from_labels([ex.label for ex in train_ex], cfg.data.negative)
    for name, split in (("dev", dev_ex), ("test", test_ex)):
        unknown = sorted({ex.label for ex in split} - set(labels.labels))
        if unknown:
            print(f"warning: {name} labels never seen in training: {unknown}", file=log)
    dev_ex = [ex for ex in dev_ex if ex.label in labels]
    vectors = load_vectors(cfg.data.embeddings)
    vocab = Vocab.build(
        (ex.tokens for ex in train_ex), cfg.data.lowercase, vectors, cfg.data.vectors_vocab
    )
    word_dim = vectors.dim if vectors is not None else cfg.model.word_dim
    emb, found = initial_embeddings(vocab, vectors, word_dim, cfg.train.seed)
    model = build_model(cfg, vocab, labels, word_dim)
    n = vocab.n_trainable
    with torch.no_grad():
        model.encoder.word.weight.copy_(torch.from_numpy(emb[:n]))
        if model.encoder.word_extra is not None:
            model.encoder.word_extra.copy_(torch.from_numpy(emb[n:]))
    return Setup(train_ex, dev_ex, test_ex, labels, vocab, model, word_dim, found)
