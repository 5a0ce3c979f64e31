"""Featurisers: how an encoder turns :class:`~anrc.data.Example` objects into a :class:`Batch`.

An encoder owns its featuriser, so training, prediction, serving and attacks
build batches one way. The word-vector encoders share :class:`WordFeaturizer`
(vocabulary ids, entity markers, relative positions).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from anrc.data import Example
from anrc.data.labels import LabelSet
from anrc.data.vocab import Vocab
from anrc.models.batch import Batch, batch_order

MARKERS = ("<e1>", "</e1>", "<e2>", "</e2>")
#: R-BERT's punctuation markers (Wu and He 2019): ``$ e1 $`` and ``# e2 #``
PUNCT_MARKERS = ("$", "$", "#", "#")
#: data.markers -> the four marker tokens (None: no markers)
MARKER_STYLES: dict[str, tuple[str, str, str, str] | None] = {
    "none": None,
    "tags": MARKERS,
    "punct": PUNCT_MARKERS,
}


@dataclass
class Marked:
    """An example's token sequence as the encoder sees it."""

    tokens: list[str]
    e1: tuple[int, int]  # [start, end) of the entity's words
    e2: tuple[int, int]
    starts: tuple[int, int]  # position of <e1> and <e2> (of the first entity word without markers)
    #: each token's word in the example (its index in ``Example.tokens``), None for what
    #: the encoder added (markers, [CLS], [SEP]); a word's pieces share its index
    words: list[int | None] | None = None


def mark(ex: Example, markers: tuple[str, str, str, str] | None) -> Marked:
    """Insert ``markers`` (open e1, close e1, open e2, close e2) around the entities.

    With ``None`` the tokens are unchanged and each start is the entity's first word.
    """
    if markers is None:
        words = list(range(len(ex.tokens)))
        return Marked(list(ex.tokens), ex.e1, ex.e2, (ex.e1[0], ex.e2[0]), words)
    # (position in the original tokens, order at that position, which marker); a
    # closing marker at position p stands before an opening one at p.
    inserts = sorted([(ex.e1[0], 1, 0), (ex.e1[1], 0, 1), (ex.e2[0], 1, 2), (ex.e2[1], 0, 3)])
    tokens: list[str] = []
    words: list[int | None] = []
    at = [0, 0, 0, 0]  # where each marker landed (markers may repeat a token, e.g. "$")
    done = 0  # words copied so far: the runs between markers go in as slices
    for position, _, which in inserts:
        tokens += ex.tokens[done:position]
        words += range(done, position)
        done = position
        at[which] = len(tokens)
        tokens.append(markers[which])
        words.append(None)
    tokens += ex.tokens[done:]
    words += range(done, len(ex.tokens))
    return Marked(tokens, (at[0] + 1, at[1]), (at[2] + 1, at[3]), (at[0], at[2]), words)


def relative_positions(n: int, span: tuple[int, int], max_distance: int) -> np.ndarray:
    """Distance of each token to the span (0 inside it), clipped, shifted to [0, 2*max]."""
    return batch_positions(np.array([n]), np.array([span]), n, max_distance)[0]


def batch_positions(lengths: np.ndarray, spans: np.ndarray, width: int,
                    max_distance: int) -> np.ndarray:  # fmt: skip
    """:func:`relative_positions` of B sequences at once: (B, width), 0 past each length.

    lengths: (B,); spans: (B, 2) of [start, end). One set of array operations for the
    batch, where one a sentence cost about as much as the rest of featurising it."""
    idx = np.arange(width)[None, :]  # (1, W)
    s, e = spans[:, :1], spans[:, 1:]  # (B, 1) each
    d = np.where(idx < s, idx - s, np.where(idx >= e, idx - (e - 1), 0))
    out = np.clip(d, -max_distance, max_distance) + max_distance
    out[idx >= lengths[:, None]] = 0
    return out


class Featurizer:
    """What every featuriser shares: batching by length. Subclasses define
    ``length(ex)`` and ``__call__(examples, labels) -> Batch``, which builds the batch
    on ``device`` (the model's: set where the model is placed)."""

    device: torch.device = torch.device("cpu")

    def batches(
        self,
        examples: Sequence[Example],
        batch_size: int,
        labels: LabelSet | None = None,
        rng: np.random.Generator | None = None,
        bucket: bool = True,
    ) -> Iterator[tuple[list[int], Batch]]:
        """(indices, batch) pairs over ``examples``; see :func:`batch_order`."""
        lengths = [self.length(ex) for ex in examples]
        for idx in batch_order(lengths, batch_size, rng, bucket):
            yield idx, self([examples[i] for i in idx], labels)


class WordFeaturizer(Featurizer):
    """Tokens -> vocabulary ids, with optional entity-marker tokens and relative positions."""

    def __init__(self, vocab: Vocab, max_distance: int, markers: str = "none"):
        self.vocab, self.max_distance, self.markers = vocab, max_distance, markers
        self._marker_tokens = MARKER_STYLES[markers]

    def marked(self, ex: Example) -> Marked:
        return mark(ex, self._marker_tokens)

    def length(self, ex: Example) -> int:
        return len(ex.tokens) + (4 if self._marker_tokens else 0)

    def __call__(self, examples: Sequence[Example], labels: LabelSet | None = None) -> Batch:
        marked = [self.marked(ex) for ex in examples]
        lengths = np.array([len(m.tokens) for m in marked], dtype=np.int64)
        B, L = len(examples), int(lengths.max())
        ids = np.zeros((B, L), dtype=np.int64)
        for i, m in enumerate(marked):
            ids[i, : len(m.tokens)] = self.vocab.encode(m.tokens)
        pos1 = batch_positions(lengths, np.array([m.e1 for m in marked]), L, self.max_distance)
        pos2 = batch_positions(lengths, np.array([m.e2 for m in marked]), L, self.max_distance)
        y = None
        if labels is not None:
            y = torch.tensor([labels.index(ex.label) for ex in examples], dtype=torch.long)
        return Batch(
            ids=torch.from_numpy(ids),
            lengths=torch.from_numpy(lengths),
            e1=torch.tensor([m.e1 for m in marked], dtype=torch.long),
            e2=torch.tensor([m.e2 for m in marked], dtype=torch.long),
            starts=torch.tensor([m.starts for m in marked], dtype=torch.long),
            labels=y,
            pos1=torch.from_numpy(pos1),
            pos2=torch.from_numpy(pos2),
        ).to(self.device)

    def describe(self) -> str:
        return f"vocab {len(self.vocab)}"

    # -- run directory -------------------------------------------------------------------
    def save(self, run_dir: Path, write_text) -> None:
        write_text(run_dir / "vocab.json", json.dumps(self.vocab.to_json()))

    @classmethod
    def load(cls, run_dir: Path, max_distance: int, markers: str, read_json) -> WordFeaturizer:
        vocab = Vocab.from_json(read_json(run_dir / "vocab.json"))
        return cls(vocab, max_distance, markers)
