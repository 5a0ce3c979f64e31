"""Knowledge distillation (Hinton et al. 2015): the teachers' targets for the training
sentences, and the transfer set.

``train.teacher`` names one or more run directories (comma-separated): each is loaded
as a run (safetensors and JSON, no code), predicts the training sentences once
before training, and their probabilities are averaged; ``p_T`` is that distribution
at temperature T (``softmax(log p / T)``, the same as dividing the teacher's logits
by T). The student's loss mixes it in (:class:`anrc.training.loss.Distillation`);
adversarial methods need no change, since every pass they make goes through that
loss. The teacher predicts training sentences only, never dev or test.

``train.transfer_copies`` adds a transfer set (Tang et al. 2019, "Distilling
Task-Specific Knowledge from BERT into Simple Neural Networks", section 3.2): copies of
the training sentences with some words swapped for nearest neighbours in the word
vectors (their masking and POS-guided replacement, without a tagger), entities never
touched. A teacher predicts sentences it was trained on almost one-hot; on the copies,
which it never saw, its distribution carries what it knows of the other classes. A
copy's target is the teacher's alone: its label is the teacher's most probable class.
"""

from __future__ import annotations

import contextlib
import hashlib
import sys
from pathlib import Path
from typing import TextIO

import numpy as np

from anrc.data import Example
from anrc.data.labels import LabelSet
from anrc.data.neighbours import Neighbours, candidate_positions
from anrc.data.vectors import Vectors
from anrc.errors import AnrcInputError
from anrc.fsio import atomic_save, cache_dir
from anrc.inference.predict import predict_probs
from anrc.rundir import RunLoadError, load_run


def teacher_dirs(teachers: str) -> list[str]:
    """The run directories of a ``train.teacher`` value (comma-separated)."""
    return [d.strip() for d in teachers.split(",") if d.strip()]


def _cached(run_dir: str, examples: list[Example], compute) -> np.ndarray:
    """A teacher's probabilities on ``examples``, kept in ``$ANRC_CACHE`` (default
    ``~/.cache/anrc``) under a key of the run's weights file (path, size, mtime) and the
    examples, so the runs of a grid predict the training sentences once."""
    weights = Path(run_dir).resolve() / "model.safetensors"
    st = weights.stat()
    h = hashlib.sha256(f"{weights}|{st.st_size}|{st.st_mtime_ns}".encode())
    for ex in examples:
        h.update(f"{ex.id}|{' '.join(ex.tokens)}|{ex.e1}|{ex.e2}\n".encode())
    folder = cache_dir()
    path = folder / f"teacher-{h.hexdigest()[:32]}.npy"
    if path.is_file():
        return np.load(path, allow_pickle=False)
    probs = compute()
    with contextlib.suppress(OSError):  # a cache that cannot be written only costs time
        folder.mkdir(parents=True, exist_ok=True)

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as f:
                np.save(f, probs, allow_pickle=False)

        atomic_save(path, write)  # its own temporary name: runs of a grid write at once
    return probs


def teacher_probs(
    teachers: str, examples: list[Example], labels: LabelSet, temperature: float,
    log: TextIO | None = None,
) -> np.ndarray:  # fmt: skip
    """(N, C) the teachers' mean distribution over ``labels`` at ``temperature``."""
    total = np.zeros((len(examples), len(labels)), dtype=np.float64)
    dirs = teacher_dirs(teachers)
    for d in dirs:
        try:
            run = load_run(d)
        except RunLoadError as err:
            raise AnrcInputError(f"train.teacher: {err}") from None
        if set(run.labels.labels) != set(labels.labels):
            raise AnrcInputError(
                f"train.teacher: {d} predicts other labels than this training data's", d
            )
        probs = _cached(
            d, examples, lambda r=run: predict_probs(r.model, r.featurizer, examples)[0]
        )
        order = [run.labels.labels.index(lab) for lab in labels.labels]
        total += probs[:, order]
        print(f"teacher {d}: predicted {len(examples)} training sentences", file=log or sys.stderr)
    mean = total / len(dirs)
    tempered = np.exp(np.log(np.clip(mean, 1e-12, None)) / temperature)
    return (tempered / tempered.sum(axis=1, keepdims=True)).astype(np.float32)


def transfer_set(
    examples: list[Example], vectors: Vectors, copies: int, swap: float, top: int = 50_000
) -> list[Example]:
    """``copies`` copies of each example, ``swap`` of its words (at least one) each swapped
    for a random one of its nearest neighbours among the ``top`` most frequent words of
    ``vectors`` (cosine >= 0.6; words the word attack may change: not in an entity, not a
    stop word, alphabetic). Unlabelled. The same set for every seed (a fixed generator),
    so the runs of a grid share the teacher's predictions of it."""

    neighbours = Neighbours(vectors.words[:top], vectors.matrix[:top])
    rng = np.random.default_rng(0)
    out = []
    for ex in examples:
        positions = [i for i in candidate_positions(ex) if neighbours(ex.tokens[i])]
        n = max(1, round(swap * len(ex.tokens)))
        for k in range(copies if positions else 0):
            tokens = list(ex.tokens)
            for i in rng.permutation(positions)[:n].tolist():
                cands = neighbours(ex.tokens[i])
                tokens[i] = cands[int(rng.integers(len(cands)))]
            out.append(Example(f"{ex.id}~{k + 1}", tokens, ex.e1, ex.e2, None, ex.line))
    return out
