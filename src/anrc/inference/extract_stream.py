"""Streaming extraction: raw text in, one JSON line per input line out, as we go.

An input line is a text (plain) or a JSON object ``{"text": ..., "id": ...}``. Its
output line holds the line number, the id, the sentences and candidate mentions as
character spans, the number of pairs classified and the relations (mentions by character
offsets into that line's text, the label, the label read as a sentence, the score). Lines
are extracted in windows, all their pairs classified together; a bad line becomes an
error record ``{"line": N, "error": ...}`` in its place (and a message on stderr) and the
rest goes on. Every non-blank line gives one output line, so a run resumes by counting.
"""

from __future__ import annotations

import json
import sys
from typing import TextIO

from anrc.inference.api import RelationClassifier
from anrc.inference.stream import fresh_lines, json_line

#: input lines extracted together (their pairs classified in one batch)
WINDOW = 64


def parse_text(raw: bytes, lineno: int) -> tuple[str, str]:
    """(id, text) of one input line; ValueError naming the problem."""
    try:
        line = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise ValueError("bytes that are not UTF-8") from None
    ident, text = str(lineno), line
    if line.startswith("{"):
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            raise ValueError(f"not valid JSON ({err.msg})") from None
        text, ident = obj.get("text"), str(obj.get("id", lineno))
        if not isinstance(text, str) or not text.strip():
            raise ValueError('a JSON line needs "text": a non-empty string')
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise ValueError(f"the text holds U+{ord(text[err.start]):04X}, not a character") from None
    return ident, text


class _Out:
    """Records in input order; errors in place."""

    def __init__(self, clf, out: TextIO, name: str, options: dict):
        self.clf, self.out, self.name, self.options = clf, out, name, options
        self.pending: list[tuple[int, str, str]] = []
        self.bad = 0

    def error(self, lineno: int, err) -> None:
        self.bad += 1
        print(f"{self.name}:{lineno}: {err}", file=sys.stderr)
        self.out.write(json_line({"line": lineno, "error": str(err)}))

    def flush(self) -> None:
        """Extract what is pending; if the window fails as a whole, each line alone."""
        if not self.pending:
            return
        texts = [text for _, _, text in self.pending]
        try:
            found = self.clf.extract_many(texts, **self.options)
        except Exception:  # noqa: BLE001  (isolated below, line by line)
            found = None
        for k, (lineno, ident, text) in enumerate(self.pending):
            try:
                got = found[k] if found is not None else self.clf.extract(text, **self.options)
                record = {"line": lineno, "id": ident, **got.to_json()}
                self.out.write(json_line(record))
            except Exception as err:  # noqa: BLE001  (one bad line, not the stream)
                self.error(lineno, err)
        self.out.flush()
        self.pending.clear()


def extract_stream(clf: RelationClassifier, path: str, out: TextIO, options: dict,
                   skip_records: int = 0) -> int:  # fmt: skip
    """Returns 0 if every line was extracted, 1 if some lines were bad; ``skip_records``:
    the first that many non-blank lines were done before (``--resume``)."""
    name = "<stdin>" if path == "-" else path
    window = 1 if path == "-" and sys.stdin.isatty() else WINDOW
    stream = _Out(clf, out, name, options)
    for lineno, raw in fresh_lines(path, name, skip_records, "extract"):
        try:
            ident, text = parse_text(raw, lineno)
        except ValueError as err:
            stream.flush()  # keep output in input order
            stream.error(lineno, err)
            continue
        stream.pending.append((lineno, ident, text))
        if len(stream.pending) >= window:
            stream.flush()
    stream.flush()
    return 1 if stream.bad else 0
