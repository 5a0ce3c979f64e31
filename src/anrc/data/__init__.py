"""Data: examples, the formats they are read from and written to, labels, vocabulary, vectors.

The reading and writing functions are re-exported here: ``from anrc.data import read``.
"""

from anrc.data.examples import (
    Example,
    example_from_json,
    example_to_json,
    parse_tagged,
    to_example,
)
from anrc.data.formats import (
    FORMATS,
    ReadResult,
    guess_format,
    iter_labels,
    load_examples,
    read,
    read_jsonl,
    read_lines,
    read_semeval,
    write,
    write_jsonl,
    write_semeval,
)

__all__ = [
    "FORMATS",
    "Example",
    "ReadResult",
    "example_from_json",
    "example_to_json",
    "guess_format",
    "iter_labels",
    "load_examples",
    "parse_tagged",
    "read",
    "read_jsonl",
    "read_lines",
    "read_semeval",
    "write",
    "write_jsonl",
    "to_example",
    "write_semeval",
]
