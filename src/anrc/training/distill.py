"""Knowledge distillation (Hinton et al. 2015): the teachers' targets for the training
sentences, and the transfer set.

``train.teacher`` names one or more run directories (comma-separated): each is loaded
as a run (safetensors and JSON, no code), predicts the training sentences once
before training, and their probabilities are averaged; a run directory without its
weights teaches through its stored probabilities (:mod:`anrc.inference.stored`). An entry may also be a
predictions file, the output of ``anrc predict RUN --json`` on the training sentences
(``.jsonl``, or ``.jsonl.gz``; ``--form fp32`` for the stored weights' own answers): a teacher whose weights are elsewhere (a lent GPU
machine cannot send a base-size model back, but its predictions fit); each training
sentence is found in it by its words and entity spans, and one it lacks is an error; ``p_T`` is that distribution
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
import gzip
import hashlib
import json
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
from anrc.inference.stored import StoredRun
from anrc.models.trained import WEIGHTS, RunLoadError


def teacher_dirs(teachers: str) -> list[str]:
    """The run directories of a ``train.teacher`` value (comma-separated)."""
    return [d.strip() for d in teachers.split(",") if d.strip()]


def answers_only(teacher: str) -> bool:
    """Whether a ``train.teacher`` entry answers from what was stored of given sentences
    (a predictions file, or a run folder whose weights are not here) rather than from a
    model that can label new ones (a transfer set's)."""
    return teacher.endswith((".jsonl", ".jsonl.gz")) or not (Path(teacher) / WEIGHTS).is_file()


def _cached(run_dir: str, examples: list[Example], compute) -> np.ndarray:
    """A teacher's probabilities on ``examples``, kept in ``$ANRC_CACHE`` (default
    ``~/.cache/anrc``) under a key of the run's weights file (path, size, mtime) and the
    examples, so the runs of a grid predict the training sentences once."""
    weights = Path(run_dir).resolve() / WEIGHTS
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


def _sentence_key(ex_id: str, e1: str, e2: str) -> tuple[str, str, str]:
    return (ex_id, e1, e2)


def _example_key(ex: Example) -> tuple[str, str, str]:
    return _sentence_key(
        ex.id, " ".join(ex.tokens[slice(*ex.e1)]), " ".join(ex.tokens[slice(*ex.e2)])
    )


def _prediction_key(rec: dict) -> tuple[str, str, str]:
    """A prediction record's sentence: its id (a SemEval line's number when the input
    lines were ``ID<TAB>"sentence"``) and its two entities' words."""
    return _sentence_key(str(rec["id"]), rec["entities"]["e1"], rec["entities"]["e2"])


def _record(path: str, lineno: int, line: str) -> dict:
    try:
        rec = json.loads(line)
        if "scores" in rec:
            _prediction_key(rec)  # the fields a prediction needs are there
        return rec
    except (ValueError, KeyError, TypeError) as err:
        what = "not valid JSON" if isinstance(err, ValueError) else f"no field {err}"
        raise AnrcInputError(
            f"{path}:{lineno}: not a prediction record of anrc predict --json ({what})"
        ) from None


def file_probs(path: str, examples: list[Example], labels: LabelSet) -> np.ndarray:
    """(N, C) probabilities of ``examples`` from a predictions file (``anrc predict
    --json``), in the order of ``labels``."""
    opener = gzip.open if path.endswith(".gz") else open
    found: dict[str, list[float]] = {}
    try:
        with opener(path, "rt", encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                rec = _record(path, lineno, line)
                if "scores" not in rec:
                    continue  # an error record: a sentence the teacher could not take
                if set(rec["scores"]) != set(labels.labels):
                    raise AnrcInputError(f"{path}:{lineno}: other labels than this training data's")
                found[_prediction_key(rec)] = [rec["scores"][lab] for lab in labels.labels]
    except OSError as err:
        raise AnrcInputError(f"train.teacher: {path}: {err.strerror or err}") from None
    rows = []
    for ex in examples:
        key = _example_key(ex)
        if key not in found:
            raise AnrcInputError(
                f"train.teacher: {path} has no prediction of training sentence {ex.id} "
                f"(line {ex.line}); predict the training file's ID<TAB>sentence lines with "
                "anrc predict --json"
            )
        rows.append(found[key])
    return np.asarray(rows, dtype=np.float64)


def _one_teacher(d: str, examples: list[Example], labels: LabelSet) -> np.ndarray:
    """(N, C) probabilities of one ``train.teacher`` entry, in the order of ``labels``."""
    if d.endswith((".jsonl", ".jsonl.gz")):
        return file_probs(d, examples, labels)
    try:
        run = StoredRun.open(d)
    except RunLoadError as err:
        raise AnrcInputError(f"train.teacher: {err}") from None
    if set(run.labels.labels) != set(labels.labels):
        raise AnrcInputError(
            f"train.teacher: {d} predicts other labels than this training data's", d
        )
    if run.trained is None:  # the run's stored probabilities: its weights are elsewhere
        probs = run.probs(examples)
    else:
        probs = _cached(d, examples, lambda r=run.trained: predict_probs(r, examples)[0])
    order = [run.labels.labels.index(lab) for lab in labels.labels]
    return probs[:, order]


def teacher_probs(
    teachers: str, examples: list[Example], labels: LabelSet, temperature: float,
    log: TextIO | None = None,
) -> np.ndarray:  # fmt: skip
    """(N, C) the teachers' mean distribution over ``labels`` at ``temperature``."""
    total = np.zeros((len(examples), len(labels)), dtype=np.float64)
    dirs = teacher_dirs(teachers)
    for d in dirs:
        total += _one_teacher(d, examples, labels)
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
