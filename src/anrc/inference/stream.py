"""Streaming prediction: read lines, predict in batches, write as we go.

Lines are read in windows of :data:`WINDOW` lines and predicted together, so that
the featuriser sorts a window's sentences by length and each forward pass pads little
(as ``predict_labels`` does over a whole list); output keeps the input's order. Memory
is bounded by the window, not the input size; from a terminal every line is answered
at once. A bad line becomes an error record naming its line number (and a message on
stderr); the rest goes on.
Every non-blank input line gives exactly one output line, so an interrupted run
resumes by counting the complete lines already written (``--resume``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple, TextIO

import numpy as np

from anrc.data import Example, to_example
from anrc.inference.api import NOT_NUMBERS, RelationClassifier
from anrc.inference.jsontext import NotFinite, dumps_str
from anrc.progress import progress

#: files shorter than this get no progress lines (they take well under a second)
PROGRESS_MIN_LINES = 1000
#: lines read before predicting (at least; 8 batches if more): the length sort's reach
WINDOW = 1024


def input_lines(path: str) -> Iterator[tuple[int, bytes]]:
    if path == "-":
        yield from enumerate(sys.stdin.buffer, start=1)
        return
    with open(path, "rb") as f:
        yield from enumerate(f, start=1)


def with_progress(lines, path: str, name: str, verb: str = "predict"):
    """A file's lines with progress lines on stderr, when it is long enough to need them."""
    if path == "-":
        return lines

    with open(path, "rb") as f:
        total = sum(1 for _ in f)
    if total < PROGRESS_MIN_LINES:
        return lines
    return progress(lines, total=total, desc=f"{verb} {name}", unit="lines")


def fresh_lines(path: str, name: str, skip_records: int, verb: str) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes) of each non-blank input line after the first
    ``skip_records`` of them (done by an earlier run), with progress on long files."""
    seen = 0
    for lineno, raw in with_progress(input_lines(path), path, name, verb):
        if raw.strip():
            seen += 1
            if seen > skip_records:
                yield lineno, raw


def completed_records(path: Path) -> int:
    """Complete lines of an earlier output; a torn last line is cut off."""
    if not path.exists():
        return 0
    data = path.read_bytes()
    keep = data[: data.rfind(b"\n") + 1]
    if len(keep) != len(data):
        with open(path, "r+b") as f:
            f.truncate(len(keep))
    return keep.count(b"\n")


def _parse(line: str, lineno: int) -> Example:
    text = line.strip()
    if text.startswith("{"):
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as err:
            raise ValueError(f"not valid JSON ({err.msg})") from None
        return to_example(obj, str(lineno))
    if "\t" in text:  # "ID<TAB>sentence", as in the task's test file
        sid, _, sent = text.partition("\t")
        sent = sent.strip()
        if len(sent) >= 2 and sent[0] == sent[-1] == '"':
            sent = sent[1:-1]
        ex = to_example(sent, sid.strip())
        return ex
    return to_example(text, str(lineno))


def json_line(record: dict) -> str:
    """One JSON output line (anrc.inference.jsontext); ValueError(NOT_NUMBERS) where the
    model's numbers in it are NaN or infinite (never valid JSON), so that the line becomes
    an error record."""
    try:
        return dumps_str(record) + "\n"
    except NotFinite:
        raise ValueError(NOT_NUMBERS) from None


class _Top(NamedTuple):
    """What a text output line needs of a prediction: no per-token views."""

    label: str
    score: float
    finite: bool


def _answer(lineno: int, ex: Example, p, as_json: bool) -> str:
    """One output line; ValueError for scores that are not numbers (never written)."""
    if as_json:
        return json_line({"line": lineno, "id": ex.id, **p.to_json()})
    if not p.finite:
        raise ValueError(NOT_NUMBERS)
    return f"{ex.id}\t{p.label}\t{p.score:.4f}\n"


class _Stream:
    """The output side: answers in input order, errors as records in place."""

    def __init__(self, clf, out: TextIO, name: str, as_json: bool, batch_size: int):
        self.clf, self.out, self.name, self.as_json = clf, out, name, as_json
        self.batch_size = batch_size
        self.pending: list[tuple[int, Example]] = []
        self.bad = 0

    def error(self, lineno: int, err) -> None:
        self.bad += 1
        err = getattr(err, "problem", err)  # the line number names where
        print(f"{self.name}:{lineno}: {err}", file=sys.stderr)
        if self.as_json:
            self.out.write(json_line({"line": lineno, "error": str(err)}))
        else:
            self.out.write(f"#error\t{lineno}\t{err}\n")

    def predict(self, examples: list[Example]) -> list:
        """A window's answers: full Predictions for JSON lines; for text lines the label
        and score alone, straight from the probabilities (building the token views cost
        semeval-fast's text stream 16% over predict_labels: results/benchmarks/paths-*)."""
        if self.as_json:
            return self.clf.predict_many(examples, self.batch_size)
        probs, _ = self.clf.probs(examples, self.batch_size)
        labels = self.clf.labels.labels
        finite = np.isfinite(probs).all(axis=1)
        top = probs.argmax(axis=1)
        return [
            _Top(labels[k], float(row[k]), bool(ok))
            for row, k, ok in zip(probs, top, finite, strict=True)
        ]

    def flush(self) -> None:
        """Predict what is pending; if the window fails as a whole (a sentence no check
        foresaw), each sentence alone, so the good ones are still answered."""
        if not self.pending:
            return
        try:
            preds = self.predict([ex for _, ex in self.pending])
        except Exception:  # noqa: BLE001  (isolated below, line by line)
            preds = None
        for k, (lineno, ex) in enumerate(self.pending):
            try:
                p = preds[k] if preds is not None else self.predict([ex])[0]
                self.out.write(_answer(lineno, ex, p, self.as_json))
            except Exception as err:  # noqa: BLE001  (one bad sentence, not the stream)
                self.error(lineno, err)
        self.out.flush()
        self.pending.clear()


def predict_stream(
    clf: RelationClassifier,
    path: str,
    out: TextIO,
    as_json: bool = False,
    batch_size: int | None = None,
    skip_records: int = 0,
) -> int:
    """Returns 0 if every line was predicted, 1 if some lines were bad.

    ``skip_records``: the first that many non-blank input lines were done before.
    """
    name = "<stdin>" if path == "-" else path
    batch_size = batch_size or clf.trained.network.encoder.inference_batch_size
    window = 1 if path == "-" and sys.stdin.isatty() else max(WINDOW, batch_size * 8)
    stream = _Stream(clf, out, name, as_json, batch_size)
    for lineno, raw in fresh_lines(path, name, skip_records, "predict"):
        try:
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise ValueError("bytes that are not UTF-8") from None
            ex = _parse(line, lineno)
            clf.check(ex)  # one the model cannot take is a bad line too
        except ValueError as err:
            stream.flush()  # keep output in input order
            stream.error(lineno, err)
            out.flush()
            continue
        stream.pending.append((lineno, ex))
        if len(stream.pending) >= window:
            stream.flush()
    stream.flush()
    return 1 if stream.bad else 0
