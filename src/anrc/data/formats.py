"""Reading and writing relation-classification data.

Two formats:

* ``semeval``: the SemEval-2010 Task 8 layout. Each example is
  ``ID<TAB>"sentence with <e1>..</e1> and <e2>..</e2>"``, then a label line, an
  optional ``Comment:`` line, and one or more blank lines; CRLF or LF. The label
  line is absent in unlabelled files (the task's TEST_FILE.TXT).
* ``jsonl``: one JSON object a line in OpenNRE's shape,
  ``{"id": .., "token": [..], "h": {"pos": [s, e]}, "t": {"pos": [s, e]}, "relation": ..}``,
  with ``h`` = e1, ``t`` = e2 and ``pos`` end-exclusive token offsets.

Malformed input raises :class:`AnrcInputError` naming the file and line, unless
``skip_invalid`` is set, in which case bad examples are dropped and counted.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from anrc.data.examples import Example, example_from_json, example_to_json, parse_tagged  # noqa: F401
from anrc.data.labels import check_label
from anrc.errors import AnrcInputError
from anrc.registry import Registry


@dataclass(frozen=True)
class Format:
    read: object  # (path, negative=, labelled=, skip_invalid=) -> ReadResult
    write: object  # (examples, path) -> None


#: the file formats, by name (data.format, --format, --to)
FORMATS: Registry[Format] = Registry("format")
_ID_LINE = re.compile(r"^(\S+)\t(.*)$")


@dataclass
class ReadResult:
    examples: list[Example]
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


def report_skipped(res: ReadResult, path: str | Path, stream, first: int = 5) -> None:
    """With ``skip_invalid``: the first few skipped problems and the count, on ``stream``."""
    if not res.skipped:
        return
    for err in res.errors[:first]:
        print(f"skipped: {err}", file=stream)
    total = res.skipped + len(res.examples)
    print(f"{path}: skipped {res.skipped} invalid example(s) of {total}", file=stream)


def read_lines(path: Path) -> list[str]:
    """The file's lines as UTF-8 text (BOM dropped); bad bytes name their line."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise AnrcInputError(
            f"bytes that are not UTF-8 (at byte {err.start})", str(path), line
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.splitlines()


def _check_unique(ex: Example, seen: dict[str, int], path: str) -> None:
    if ex.id in seen:
        raise AnrcInputError(
            f"duplicate id {ex.id!r} (first seen on line {seen[ex.id]})", path, ex.line
        )
    seen[ex.id] = ex.line


class _Collector:
    """Turns problems into errors, or counts them when skipping invalid examples."""

    def __init__(self, path: str, skip_invalid: bool):
        self.path, self.skip_invalid = path, skip_invalid
        self.result = ReadResult([])
        self.seen: dict[str, int] = {}

    def fail(self, problem: str, line: int) -> None:
        err = AnrcInputError(problem, self.path, line)
        if not self.skip_invalid:
            raise err
        self.result.skipped += 1
        self.result.errors.append(str(err))

    def add(self, ex: Example, negative: str, need_label: bool, label_line: int = 0) -> None:
        if ex.label is None and need_label:
            return self.fail(f"sentence {ex.id!r} has no label line", ex.line)
        if ex.label is not None:
            problem = check_label(ex.label, negative)
            if problem:
                return self.fail(problem, label_line or ex.line)
        try:
            _check_unique(ex, self.seen, self.path)
        except AnrcInputError as err:
            return self.fail(err.problem, ex.line)
        self.result.examples.append(ex)


class _SemevalParser:
    """Line-by-line state of :func:`read_semeval`: the sentence being read, whether it
    was already reported as bad, and the finished (example, label line) pairs."""

    def __init__(self, col: _Collector):
        self.col = col
        self.pending: list[tuple[Example, int]] = []  # (example, line of its label)
        self.current: Example | None = None
        self.label_line = 0
        self.bad_current = False  # the sentence line failed: skip its label/comment lines

    def close(self) -> None:
        if self.current is not None:
            self.pending.append((self.current, self.label_line))
        self.current, self.label_line, self.bad_current = None, 0, False

    def sentence(self, sid: str, sent: str, lineno: int) -> None:
        """An ``ID<TAB>"sentence"`` line."""
        self.close()
        if len(sent) >= 2 and sent[0] == sent[-1] == '"':
            sent = sent[1:-1]
        try:
            tokens, e1, e2 = parse_tagged(sent)
        except ValueError as err:
            self.col.fail(str(err), lineno)
            self.bad_current = True
            return
        self.current = Example(sid, tokens, e1, e2, None, lineno)

    def other(self, line: str, lineno: int) -> None:
        """A label or comment line (stripped, not empty)."""
        if self.bad_current:
            return  # label/comment lines of a sentence already reported
        cur, fail = self.current, self.col.fail
        if line.startswith("Comment"):
            if cur is None:
                fail("comment line without a sentence before it", lineno)
            else:
                cur.comment = line.partition(":")[2].strip()
        elif cur is None:
            fail(f"unexpected line {line[:40]!r}: expected 'ID<TAB>sentence'", lineno)
        elif cur.label is not None:
            fail(f"second label line {line[:40]!r} for sentence {cur.id!r}", lineno)
        else:
            cur.label = line
            self.label_line = lineno


def read_semeval(
    path: str | Path,
    negative: str = "Other",
    labelled: bool | None = None,
    skip_invalid: bool = False,
) -> ReadResult:
    """Read a file in SemEval-2010 Task 8 format.

    ``labelled``: True requires a label for every sentence, False ignores labels,
    None (default) treats the file as labelled if any sentence has a label line.
    """
    path = Path(path)
    col = _Collector(str(path), skip_invalid)
    parser = _SemevalParser(col)
    for lineno, raw in enumerate(read_lines(path), start=1):
        line = raw.strip()
        if not line:
            parser.close()
        elif m := _ID_LINE.match(raw.strip("\r\n ")):
            parser.sentence(m.group(1), m.group(2).strip(), lineno)
        else:
            parser.other(line, lineno)
    parser.close()
    pending = parser.pending
    if labelled is None:
        labelled = bool(pending) and any(ex.label is not None for ex, _ in pending)
    for ex, lab_line in pending:
        if not labelled:
            ex.label = None
        col.add(ex, negative, need_label=labelled, label_line=lab_line)
    return col.result


def read_jsonl(
    path: str | Path,
    negative: str = "Other",
    labelled: bool | None = None,
    skip_invalid: bool = False,
) -> ReadResult:
    """Read OpenNRE-style JSON lines."""
    path = Path(path)
    lines = read_lines(path)
    col = _Collector(str(path), skip_invalid)
    parsed: list[Example] = []
    for lineno, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            parsed.append(example_from_json(json.loads(raw), default_id=str(lineno), line=lineno))
        except json.JSONDecodeError as err:
            col.fail(f"not valid JSON ({err.msg} at column {err.colno})", lineno)
        except ValueError as err:
            col.fail(str(err), lineno)
    if labelled is None:
        labelled = any(ex.label is not None for ex in parsed)
    for ex in parsed:
        if not labelled:
            ex.label = None
        col.add(ex, negative, need_label=labelled)
    return col.result


def guess_format(path: str | Path) -> str:
    """jsonl for a ``.jsonl``/``.json`` name; otherwise, for an existing file, by content
    (OpenNRE ships JSON lines as ``.txt``): jsonl if the first non-blank line is a JSON
    object, else semeval."""
    p = str(path).lower()
    if p.endswith((".jsonl", ".json")):
        return "jsonl"
    try:
        with open(path, "rb") as f:
            for raw in f:
                if raw.strip():
                    return "jsonl" if raw.lstrip(b"\xef\xbb\xbf \t").startswith(b"{") else "semeval"
    except OSError:
        pass
    return "semeval"


#: a ``$NAME`` or ``${NAME}`` reference to an environment variable in a path setting
ENV_VAR = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")


def expand_path(path: str) -> str:
    """``path`` with ``$NAME`` / ``${NAME}`` replaced from the environment (a config can
    read a corpus from wherever the user keeps it); an unset variable is an error."""
    expanded = os.path.expandvars(path)
    unset = ENV_VAR.search(expanded)
    if unset:
        raise AnrcInputError(
            f"environment variable {unset.group(1)} is not set (export it as the folder "
            "that holds the data, or give the file with --set)",
            path,
        )
    return expanded


def read(
    path: str | Path,
    fmt: str | None = None,
    negative: str = "Other",
    labelled: bool | None = None,
    skip_invalid: bool = False,
) -> ReadResult:
    """Read ``path`` (``$NAME`` expanded, :func:`expand_path`) in ``fmt`` (guessed from
    the suffix when None)."""
    path = expand_path(str(path))
    reader = FORMATS.get(fmt or guess_format(path)).read
    if not Path(path).is_file():
        raise AnrcInputError("no such file", str(path))
    return reader(path, negative=negative, labelled=labelled, skip_invalid=skip_invalid)


def load_examples(path: str | Path, **kw) -> list[Example]:
    """Read and return the examples (errors raise)."""
    return read(path, **kw).examples


def write_semeval(examples: Iterable[Example], path: str | Path) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for ex in examples:
            f.write(f'{ex.id}\t"{ex.tagged_text()}"\n')
            if ex.label is not None:
                f.write(f"{ex.label}\nComment:{' ' + ex.comment if ex.comment else ''}\n")
            f.write("\n")


def write_jsonl(examples: Iterable[Example], path: str | Path) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for ex in examples:
            f.write(json.dumps(example_to_json(ex), ensure_ascii=False) + "\n")


def write(examples: Iterable[Example], path: str | Path, fmt: str | None = None) -> None:
    FORMATS.get(fmt or guess_format(path)).write(examples, path)


FORMATS.register("semeval")(Format(read_semeval, write_semeval))
FORMATS.register("jsonl")(Format(read_jsonl, write_jsonl))


def iter_labels(examples: Iterable[Example]) -> Iterator[str]:
    for ex in examples:
        if ex.label is not None:
            yield ex.label
