"""Prediction and answer-key files: ``ID<TAB>LABEL`` per line (the official format)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from anrc.data import read_lines
from anrc.errors import AnrcInputError


def read_answers(path: str | Path) -> tuple[dict[str, str], dict[str, int]]:
    """Read ``ID<TAB>LABEL`` lines; return (id -> label, id -> line number).

    Blank lines are ignored; anything else that is not two tab-separated fields,
    and a repeated id, is an error naming the line.
    """
    path = Path(path)
    if not path.is_file():
        raise AnrcInputError("no such file", str(path))
    return parse_answers(read_lines(path), str(path))


def parse_answers(text_lines, where: str) -> tuple[dict[str, str], dict[str, int]]:
    """:func:`read_answers` of lines already read (``where`` names them in errors)."""
    path = where
    labels: dict[str, str] = {}
    lines: dict[str, int] = {}
    for lineno, raw in enumerate(text_lines, start=1):
        line = raw.strip()
        if not line:
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
            raise AnrcInputError(f"expected 'ID<TAB>LABEL', got {line[:60]!r}", str(path), lineno)
        sid, label = parts[0].strip(), parts[1].strip()
        if sid in labels:
            raise AnrcInputError(
                f"id {sid!r} repeated (first on line {lines[sid]})", str(path), lineno
            )
        labels[sid] = label
        lines[sid] = lineno
    return labels, lines


def write_answers(pairs: Iterable[tuple[str, str]], path: str | Path) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for sid, label in pairs:
            f.write(f"{sid}\t{label}\n")
