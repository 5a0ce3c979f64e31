"""Token vocabulary and the embedding matrix it starts from."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from itertools import repeat

import numpy as np

from anrc.data.vectors import Vectors

PAD, UNK = "<pad>", "<unk>"


class Vocab:
    """Token -> id. Id 0 pads, id 1 stands for unknown words."""

    def __init__(
        self,
        tokens: Iterable[str],
        lowercase: bool = True,
        counts: dict | None = None,
        n_trainable: int | None = None,
    ):
        self.lowercase = lowercase
        self.itos = [PAD, UNK]
        for t in tokens:
            if t not in (PAD, UNK):
                self.itos.append(t)
        self.stoi = {t: i for i, t in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            raise ValueError("duplicate tokens in vocabulary")
        self.counts = counts or {}
        # Ids below n_trainable are fine-tuned; the rest are extra pretrained words kept frozen.
        self.n_trainable = len(self.itos) if n_trainable is None else n_trainable
        if not 2 <= self.n_trainable <= len(self.itos):
            raise ValueError(
                f"vocabulary of {len(self.itos)} words cannot have {self.n_trainable} trainable ones"
            )

    def norm(self, token: str) -> str:
        return token.lower() if self.lowercase else token

    def encode(self, tokens: Iterable[str]) -> list[int]:
        """Each token's id (1 for an unknown word), in one C-level pass: a comprehension
        calling ``norm`` per token was a visible part of featurising under a profiler."""
        words = map(str.lower, tokens) if self.lowercase else tokens
        return list(map(self.stoi.get, words, repeat(1)))

    def __len__(self) -> int:
        return len(self.itos)

    @classmethod
    def build(
        cls,
        sentences: Iterable[list[str]],
        lowercase: bool = True,
        vectors: Vectors | None = None,
        vectors_vocab: int = 0,
    ) -> Vocab:
        """Training words (by frequency), then optionally the top pretrained words."""
        counts = Counter(t.lower() if lowercase else t for s in sentences for t in s)
        tokens = [t for t, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
        n_trainable = len(tokens) + 2
        if vectors is not None and vectors_vocab:
            seen = set(tokens) | {PAD, UNK}
            extra = vectors.words if vectors_vocab < 0 else vectors.words[:vectors_vocab]
            tokens += [w for w in dict.fromkeys(extra) if w not in seen]
        return cls(tokens, lowercase, dict(counts), n_trainable)

    def frequencies(self) -> np.ndarray:
        """Relative training frequency of every id (for embedding normalisation)."""
        f = np.array([self.counts.get(t, 0) for t in self.itos[: self.n_trainable]], np.float64)
        f[1] = max(f[1], 1.0)
        return (f / f.sum()).astype(np.float32)

    def to_json(self) -> dict:
        return {
            "itos": self.itos,
            "lowercase": self.lowercase,
            "counts": self.counts,
            "n_trainable": self.n_trainable,
        }

    @classmethod
    def from_json(cls, obj: dict) -> Vocab:
        itos = obj["itos"]
        if itos[:2] != [PAD, UNK]:
            raise ValueError("vocabulary must start with <pad>, <unk>")
        return cls(itos[2:], obj["lowercase"], obj.get("counts"), obj.get("n_trainable"))


def initial_embeddings(
    vocab: Vocab, vectors: Vectors | None, dim: int, seed: int
) -> tuple[np.ndarray, int]:
    """(|V|, D) start matrix: pretrained rows where known, seeded random ones elsewhere.

    Random rows are drawn with the pretrained vectors' own per-dimension spread, so
    unknown words do not stand out by scale. Returns the matrix and how many rows
    were found in the vectors.
    """
    rng = np.random.default_rng(seed)
    if vectors is None:
        emb = rng.normal(0.0, 0.1, (len(vocab), dim)).astype(np.float32)
        emb[0] = 0.0
        return emb, 0
    std = vectors.matrix.std(axis=0)
    emb = (rng.standard_normal((len(vocab), vectors.dim)) * std).astype(np.float32)
    rows, known = vectors.lookup(vocab.itos)
    if not vocab.lowercase and not known.all():  # a cased vocabulary: try lower case too
        miss = np.flatnonzero(~known)
        lower, known_lower = vectors.lookup([vocab.itos[i].lower() for i in miss])
        rows[miss[known_lower]], known[miss[known_lower]] = lower[known_lower], True
    emb[known] = rows[known]
    found = int(known.sum())
    emb[0] = 0.0
    return emb, found
