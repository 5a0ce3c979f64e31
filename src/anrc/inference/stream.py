"""Streaming prediction: read lines, predict in batches, write as we go.

Memory is bounded by the batch size, not the input size. A bad line becomes an
error record naming its line number (and a message on stderr); the rest goes on.
Every non-blank input line gives exactly one output line, so an interrupted run
resumes by counting the complete lines already written (``--resume``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from anrc.data import Example
from anrc.inference.api import RelationClassifier, to_example

#: files shorter than this get no progress lines (they take well under a second)
PROGRESS_MIN_LINES = 1000


def _lines(path: str) -> Iterator[tuple[int, bytes]]:
    if path == "-":
        yield from enumerate(sys.stdin.buffer, start=1)
        return
    with open(path, "rb") as f:
        yield from enumerate(f, start=1)


def _with_progress(lines, path: str, name: str):
    """A file's lines with progress lines on stderr, when it is long enough to need them."""
    if path == "-":
        return lines
    from anrc.progress import progress

    with open(path, "rb") as f:
        total = sum(1 for _ in f)
    if total < PROGRESS_MIN_LINES:
        return lines
    return progress(lines, total=total, desc=f"predict {name}", unit="lines")


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


def predict_stream(
    clf: RelationClassifier,
    path: str,
    out: TextIO,
    as_json: bool = False,
    batch_size: int = 256,
    skip_records: int = 0,
) -> int:
    """Returns 0 if every line was predicted, 1 if some lines were bad.

    ``skip_records``: the first that many non-blank input lines were done before.
    """
    name = "<stdin>" if path == "-" else path
    pending: list[tuple[int, Example]] = []
    bad = 0
    seen = 0

    def flush() -> None:
        if not pending:
            return
        preds = clf.predict_many([ex for _, ex in pending], batch_size=batch_size)
        for (lineno, ex), p in zip(pending, preds, strict=True):
            if as_json:
                rec = {"line": lineno, "id": ex.id, **p.to_json()}
                out.write(json.dumps(rec) + "\n")
            else:
                out.write(f"{ex.id}\t{p.label}\t{p.score:.4f}\n")
        out.flush()
        pending.clear()

    for lineno, raw in _with_progress(_lines(path), path, name):
        if not raw.strip():
            continue
        seen += 1
        if seen <= skip_records:
            continue
        try:
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise ValueError("bytes that are not UTF-8") from None
            ex = _parse(line, lineno)
            clf.check(ex)  # one the model cannot take is a bad line too
            pending.append((lineno, ex))
        except ValueError as err:
            flush()  # keep output in input order
            bad += 1
            err = getattr(err, "problem", err)  # the line number names where
            msg = f"{name}:{lineno}: {err}"
            print(msg, file=sys.stderr)
            if as_json:
                out.write(json.dumps({"line": lineno, "error": str(err)}) + "\n")
            else:
                out.write(f"#error\t{lineno}\t{err}\n")
            out.flush()
            continue
        if len(pending) >= batch_size:
            flush()
    flush()
    return 1 if bad else 0
