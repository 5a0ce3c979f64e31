"""A run's probabilities kept beside it (``RUN/probabilities.jsonl.gz``), so that the run
can still teach (``train.teacher``) or join an ensemble (``anrc ensemble``) on a machine
that no longer holds its weights: a base-size run of two CPU hours on one session's
machine, its weights too large to commit, becomes a few megabytes of probabilities that
a grid's packed archive keeps.

The file is gzipped JSON lines. The first line says what it is::

    {"anrc": "probabilities", "version": 1, "labels": [...], "form": "fp32",
     "files": {"train": PATH, "test": PATH}}

then one line a sentence: ``{"file": "train", "id": ID, "e1": WORDS, "e2": WORDS,
"p": [...]}``, ``p`` in the order of ``labels``, each the float32 probability written
in its shortest exact form (read back bit for bit). A sentence is found again by its
id and the words of its two entities, as :func:`anrc.training.distill.file_probs` finds
a teacher's; one the file lacks is an error naming it.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from anrc.config import Config
from anrc.data import Example, read
from anrc.data.formats import expand_path
from anrc.data.labels import LabelSet
from anrc.errors import AnrcInputError
from anrc.fsio import atomic_save
from anrc.inference.predict import predict_probs
from anrc.models.trained import WEIGHTS, RunLoadError, TrainedModel, read_settings

STORED = "probabilities.jsonl.gz"
KIND = "probabilities"
VERSION = 1


def sentence_key(ex: Example) -> tuple[str, str, str]:
    """A sentence as a stored file finds it: (id, e1's words, e2's words)."""
    return (ex.id, " ".join(ex.tokens[slice(*ex.e1)]), " ".join(ex.tokens[slice(*ex.e2)]))


def _exact(row: np.ndarray) -> list[float]:
    """float32 values as the shortest decimals that read back to the same float32."""
    return [float(np.format_float_positional(v, unique=True, trim="0")) for v in row]


def write_stored(
    path: Path, labels: LabelSet, parts: dict[str, tuple[str, Sequence[Example], np.ndarray]],
    form: str = "fp32",
) -> int:  # fmt: skip
    """Write ``parts`` (name -> (source file, examples, (N, C) probabilities in the
    order of ``labels``)) to ``path``; the number of sentences written."""
    head = {"anrc": KIND, "version": VERSION, "labels": list(labels.labels), "form": form}
    head["files"] = {name: src for name, (src, _, _) in parts.items()}
    count = 0

    def write(tmp: Path) -> None:
        nonlocal count
        with gzip.open(tmp, "wt", encoding="utf-8", compresslevel=9) as f:
            f.write(json.dumps(head) + "\n")
            for name, (_, examples, probs) in parts.items():
                for ex, row in zip(examples, probs.astype(np.float32), strict=True):
                    sid, e1, e2 = sentence_key(ex)
                    rec = {"file": name, "id": sid, "e1": e1, "e2": e2, "p": _exact(row)}
                    f.write(json.dumps(rec) + "\n")
                    count += 1

    atomic_save(path, write)
    return count


def _head(path: Path, line: str) -> dict:
    try:
        head = json.loads(line)
    except ValueError:
        head = None
    if not isinstance(head, dict) or head.get("anrc") != KIND:
        raise AnrcInputError(f"{path}:1: not a stored probabilities file of anrc")
    if head.get("version") != VERSION:
        raise AnrcInputError(f"{path}:1: probabilities version {head.get('version')!r}, not 1")
    return head


def _records(path: Path) -> tuple[dict, dict[tuple[str, str, str], list[float]]]:
    found: dict[tuple[str, str, str], list[float]] = {}
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            head = _head(path, f.readline())
            width = len(head["labels"])
            for lineno, line in enumerate(f, 2):
                try:
                    rec = json.loads(line)
                    key, row = (str(rec["id"]), rec["e1"], rec["e2"]), rec["p"]
                    if len(row) != width:
                        raise ValueError(f"{len(row)} probabilities for {width} labels")
                except (ValueError, KeyError, TypeError) as err:
                    raise AnrcInputError(
                        f"{path}:{lineno}: not a stored sentence ({err})"
                    ) from None
                found[key] = row
    except (OSError, EOFError, UnicodeDecodeError) as err:
        raise AnrcInputError(f"{path}: cannot be read ({err})") from None
    return head, found


def read_stored(path: str | Path, examples: Sequence[Example], labels: LabelSet) -> np.ndarray:
    """(N, C) float32 probabilities of ``examples`` from a stored file, in the order of
    ``labels`` (which must be the file's labels, in any order)."""
    path = Path(path)
    head, found = _records(path)
    if set(head["labels"]) != set(labels.labels):
        raise AnrcInputError(f"{path}: stored for other labels than these")
    order = [head["labels"].index(lab) for lab in labels.labels]
    rows = []
    for ex in examples:
        row = found.get(sentence_key(ex))
        if row is None:
            raise AnrcInputError(
                f"{path}: no stored probabilities of sentence {ex.id} (line {ex.line}); "
                "store them while the run's weights are at hand (anrc store RUN_DIR)"
            )
        rows.append(row)
    probs = np.asarray(rows, dtype=np.float32).reshape(len(rows), len(order))
    return probs[:, order]


def run_files(run: TrainedModel) -> dict[str, str]:
    """The files a run's answers are stored for by default: its training file (all of
    it, the dev split held out of it too), its dev file if it names one, its test file."""
    data = run.config.data
    files = {"train": data.train, "dev": data.dev, "test": data.test}
    return {name: expand_path(path) for name, path in files.items() if path}


def store_run(
    run_dir: str | Path, files: dict[str, str] | None = None, batch_size: int = 64,
    progress: bool = True,
) -> str:  # fmt: skip
    """Write ``RUN_DIR/probabilities.jsonl.gz``: the stored weights' own (fp32) answers
    on ``files`` (name -> path; default :func:`run_files`), then read it back and compare
    bit for bit before it counts (:class:`AnrcInputError` if it does not). A one-line
    summary."""
    run = TrainedModel.load(run_dir)
    data = run.config.data
    found = {}
    for name, path in (files or run_files(run)).items():
        exs = read(path, negative=run.labels.negative, labelled=None, fmt=data.format or None,
                   skip_invalid=data.skip_invalid).examples  # fmt: skip
        shown = f"{Path(run_dir).name} {name}" if progress else None
        probs, _ = predict_probs(run, exs, batch_size, show_progress=shown)
        found[name] = (path, exs, probs)
    target = Path(run_dir) / STORED
    count = write_stored(target, run.labels, found)
    for name, (_, exs, probs) in found.items():
        if not np.array_equal(read_stored(target, exs, run.labels), probs.astype(np.float32)):
            target.unlink()
            raise AnrcInputError(
                f"the {name} probabilities did not read back bit for bit", str(target)
            )
    sizes = ", ".join(f"{name} {len(exs)}" for name, (_, exs, _) in found.items())
    kib = target.stat().st_size / 1024
    return f"{target}: {count} sentences ({sizes}), {kib:.0f} KiB, read back bit for bit"


def stored_path(run_dir: str | Path) -> Path | None:
    """The run's stored probabilities file, when it has one."""
    path = Path(run_dir) / STORED
    return path if path.is_file() else None


@dataclass
class StoredRun:
    """A run as an ensemble member or a teacher: its weights when this machine has them,
    else its stored probabilities (:data:`STORED`)."""

    path: str
    config: Config
    labels: LabelSet
    trained: TrainedModel | None

    @classmethod
    def open(cls, run_dir: str | Path) -> StoredRun:
        """The run at ``run_dir`` (:class:`RunLoadError` when it has neither)."""
        folder = Path(run_dir)
        if (folder / WEIGHTS).is_file() or not stored_path(folder):
            trained = TrainedModel.load(folder)
            return cls(str(run_dir), trained.config, trained.labels, trained)
        cfg, labels = read_settings(folder)
        return cls(str(run_dir), cfg, labels, None)

    def probs(self, examples: Sequence[Example]) -> np.ndarray:
        """(N, C) probabilities of ``examples`` in the order of :attr:`labels`."""
        if self.trained is not None:
            return predict_probs(self.trained, examples)[0]
        path = stored_path(self.path)
        if path is None:  # removed since it was opened
            raise RunLoadError(f"{self.path}: no weights and no {STORED}")
        return read_stored(path, examples, self.labels)
