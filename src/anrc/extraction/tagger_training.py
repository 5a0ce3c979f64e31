"""Training the mention tagger (:mod:`anrc.extraction.tagger`) on a corpus's marked pairs.

    for each epoch:                   (sentences shuffled by the seed)
        for each batch: loss = cross-entropy of the BIO tags of e1 and e2; Adam step
        dev: span F1 (a predicted span counts when it is one of the two marked spans)
    keep the epoch with the best dev span F1
    top = the fewest mentions a sentence whose dev pair recall (both marked spans among
          them) is within tagger.recall_gap points of the best; every count's is stored

Only the training sentences teach it and only dev chooses; the test split is not read.
"""

from __future__ import annotations

import copy
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TextIO

import numpy as np
import torch

from anrc.data.examples import Example
from anrc.data.vectors import Vectors
from anrc.data.vocab import Vocab, initial_embeddings
from anrc.extraction.context import BodyFeatures
from anrc.extraction.tagger import (
    BEGIN,
    INSIDE,
    Tagger,
    TaggerNetwork,
    TaggerParams,
    encode,
    pad_context,
)  # fmt: skip

COUNTS = range(2, 11)  # mentions a sentence at which dev pair recall is measured


def bio_tags(ex: Example) -> list[int]:
    """The O/B/I tag of each word: B on the first word of e1 and of e2, I on the rest."""
    tags = [0] * len(ex.tokens)
    for start, end in (ex.e1, ex.e2):
        tags[start] = BEGIN
        for i in range(start + 1, end):
            tags[i] = INSIDE
    return tags


@dataclass
class DevFigures:
    """What dev measured of one epoch."""

    span_f1: float
    pair_recall: dict[int, float] = field(default_factory=dict)  # mentions -> %


def measure(tagger: Tagger, examples: Sequence[Example], context=None) -> DevFigures:
    """Span F1 of the spans tagged B (one a B word, over its I words) and, for each count
    k, the share of sentences whose two marked spans are both among the k likeliest
    (``context``: the examples' body vectors when already computed)."""
    probs = tagger.probs([ex.tokens for ex in examples], context=context)
    tp = fp = fn = 0
    hits = dict.fromkeys(COUNTS, 0)
    for ex, p in zip(examples, probs, strict=True):
        gold = {tuple(ex.e1), tuple(ex.e2)}
        tagged = {s for s, _ in _tagged_spans(p)}
        tp, fp, fn = tp + len(gold & tagged), fp + len(tagged - gold), fn + len(gold - tagged)
        found = tagger.decode(p, max(COUNTS))
        order = [s for s, _ in sorted(found, key=lambda m: -m[1])]
        for k in COUNTS:  # tagger.decode(p, k) keeps the first k of this order
            hits[k] += gold <= set(order[:k])
    f1 = 200.0 * tp / max(1, 2 * tp + fp + fn)
    n = max(1, len(examples))
    return DevFigures(f1, {k: 100.0 * hits[k] / n for k in COUNTS})


def _tagged_spans(probs: np.ndarray) -> list[tuple[tuple[int, int], float]]:
    """Spans whose first word's likeliest tag is B."""
    tags = probs.argmax(-1)
    out = []
    for start in np.flatnonzero(tags == BEGIN):
        end = start + 1
        while end < len(tags) and tags[end] == INSIDE:
            end += 1
        out.append(((int(start), int(end)), float(probs[start, BEGIN])))
    return out


def choose_top(recall: dict[int, float], gap: float) -> int:
    """The fewest mentions whose dev pair recall is within ``gap`` points of the best."""
    best = max(recall.values())
    return min(k for k, r in recall.items() if r >= best - gap)


#: the settings a trained tagger may change without training again (anrc train-tagger --from)
DECODING_SETTINGS = ("decoding", "max_span", "floor", "top", "recall_gap")


def redecode(tagger: Tagger, changes: dict, dev: Sequence[Example]) -> Tagger:
    """``tagger`` with new decoding settings (:data:`DECODING_SETTINGS` only): its
    weights unchanged, its dev pair recall measured anew and ``top`` chosen again on
    ``dev`` by the same rule; what it was decoded with before is kept in its info."""
    wrong = sorted(set(changes) - set(DECODING_SETTINGS))
    if wrong:
        raise ValueError(f"tagger.{wrong[0]} changes what the tagger learned: train it again "
                         f"(--from changes only {', '.join(DECODING_SETTINGS)})")  # fmt: skip
    params = replace(tagger.params, **changes)
    again = tagger.with_params(params)
    figures = measure(again, dev)
    before = {k: tagger.info.get(k) for k in ("top", "dev_pair_recall")}
    before["params"] = {k: getattr(tagger.params, k) for k in DECODING_SETTINGS}
    again.info.update(dev_pair_recall=figures.pair_recall, top=choose_top(
        figures.pair_recall, params.recall_gap), dev_sentences=len(dev))  # fmt: skip
    again.info.setdefault("decoded_before", []).append(before)
    return again


def build_vocab(train: Sequence[Example], vectors: Vectors | None, params: TaggerParams) -> Vocab:
    """Training words, then the most frequent pretrained ones (kept frozen)."""
    return Vocab.build([ex.tokens for ex in train], vectors=vectors,
                       vectors_vocab=params.vectors_vocab if vectors is not None else 0)  # fmt: skip


def _network(vocab: Vocab, vectors: Vectors | None, params: TaggerParams,
             context_dim: int) -> TaggerNetwork:  # fmt: skip
    torch.manual_seed(params.seed)
    emb, _ = initial_embeddings(vocab, vectors, vectors.dim if vectors else 50, params.seed)
    network = TaggerNetwork(len(vocab), emb.shape[1], params, context_dim)
    with torch.no_grad():
        network.words.weight.copy_(torch.from_numpy(emb))
    return network


def _epoch(network: TaggerNetwork, vocab: Vocab, train, opt, params, rng, context) -> float:
    """One pass over ``train`` in a seeded order (``context``: each sentence's body
    vectors, or None); the mean loss."""
    network.train()
    order = list(range(len(train)))
    rng.shuffle(order)
    total = 0.0
    for at in range(0, len(order), params.batch_size):
        part = [train[i] for i in order[at : at + params.batch_size]]
        ids, cases, mask = encode(vocab, [ex.tokens for ex in part])
        targets = torch.zeros_like(ids)
        for i, ex in enumerate(part):
            targets[i, : len(ex.tokens)] = torch.tensor(bio_tags(ex))
        extra = None
        if context is not None:
            extra = pad_context(
                [context[i] for i in order[at : at + params.batch_size]], ids.shape[1]
            )
        _, loss = network(ids, cases, mask, targets, extra)
        opt.zero_grad()
        loss.backward()
        frozen = vocab.n_trainable  # pretrained-only rows stay as they came
        network.words.weight.grad[frozen:] = 0.0
        opt.step()
        total += loss.item() * len(part)
    return total / max(1, len(train))


def train_tagger(params: TaggerParams, train: Sequence[Example], dev: Sequence[Example],
                 vectors: Vectors | None, log: TextIO = sys.stderr) -> Tagger:  # fmt: skip
    """A tagger trained on ``train``; the epoch and ``top`` chosen on ``dev``."""
    if params.threads:
        torch.set_num_threads(params.threads)
    vocab = build_vocab(train, vectors, params)
    body, train_ctx, dev_ctx = _contexts(params, train, dev, log)
    network = _network(vocab, vectors, params, body.dim if body else 0)
    opt = torch.optim.Adam(network.parameters(), lr=params.lr)
    rng = random.Random(params.seed)
    best: tuple[float, int, dict] | None = None
    history = []
    for epoch in range(1, params.epochs + 1):
        loss = _epoch(network, vocab, train, opt, params, rng, train_ctx)
        figures = measure(Tagger(network, vocab, params, {}, body), dev, dev_ctx)
        network.train()
        history.append({"epoch": epoch, "train_loss": loss, "dev_span_f1": figures.span_f1,
                        "dev_pair_recall": figures.pair_recall})  # fmt: skip
        print(f"epoch {epoch}: loss {loss:.4f}  dev span F1 {figures.span_f1:.2f}  pair recall "
              + " ".join(f"@{k} {r:.1f}" for k, r in figures.pair_recall.items()), file=log, flush=True)  # fmt: skip
        if best is None or figures.span_f1 > best[0]:
            best = (figures.span_f1, epoch, copy.deepcopy(network.state_dict()))
    assert best is not None
    network.load_state_dict(best[2])
    chosen = history[best[1] - 1]
    recall = chosen["dev_pair_recall"]
    info = {"epoch": best[1], "dev_span_f1": best[0], "dev_pair_recall": recall,
            "top": choose_top(recall, params.recall_gap), "train_sentences": len(train),
            "dev_sentences": len(dev), "history": history}  # fmt: skip
    return Tagger(network, vocab, params, info, body)


def _contexts(params: TaggerParams, train, dev, log):
    """(the body, its vectors of the training and of the dev sentences, float16 to halve
    their memory), computed once; (None, None, None) without tagger.body."""
    if not params.body:
        return None, None, None
    body = BodyFeatures(params.body)
    print(f"tagger.body {params.body}: {body.dim} a word, frozen", file=log, flush=True)

    def vectors(examples):
        return [v.astype(np.float16) for v in body([ex.tokens for ex in examples])]

    return body, vectors(train), vectors(dev)
