"""Sentences and tokens of raw text, with character offsets.

Tokens follow the training data's rule (:mod:`anrc.data.tokens`), so a candidate pair is
featurised exactly as a tagged sentence would be. Sentences end at ``.``, ``!`` or ``?``
(with any closing quotes or brackets) followed by white space and an upper-case letter,
a digit or an opening quote or bracket, unless the word before the period is a known
abbreviation or a single letter (an initial); a blank line always ends one.
"""

from __future__ import annotations

import re

from anrc.data.tokens import TOKEN_RE

#: words whose period does not end a sentence (lower case, without the period)
ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "st",
        "vs",
        "etc",
        "inc",
        "ltd",
        "co",
        "corp",
        "jr",
        "sr",
        "no",
        "fig",
        "figs",
        "approx",
        "dept",
        "est",
        "gen",
        "gov",
        "lt",
        "col",
        "sgt",
        "rev",
        "e.g",
        "i.e",
        "cf",
        "al",
        "u.s",
        "u.k",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
    ]
)
_END = re.compile(r"[.!?]+[\"'\u201d\u2019)\]]*(?=\s+[\"'\u201c\u2018(\[A-Z0-9])")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def _abbreviation(text: str, period: int) -> bool:
    """Whether the period at ``period`` closes an abbreviation or an initial."""
    if text[period] != ".":
        return False
    word = re.search(r"([\w.]+)$", text[:period])
    if word is None:
        return False
    w = word.group(1).lower()
    return w in ABBREVIATIONS or (len(w) == 1 and w.isalpha())


def _cuts(text: str) -> list[int]:
    """Offsets where a sentence ends (exclusive)."""
    cuts = [m.end() for m in _END.finditer(text) if not _abbreviation(text, m.start())]
    cuts += [m.start() for m in _BLANK_LINE.finditer(text)]
    return sorted(set(cuts))


def sentences(text: str) -> list[tuple[int, int]]:
    """Character spans (start, end) of the sentences of ``text``, surrounding white space
    left out; none for blank text."""
    spans, start = [], 0
    for end in [*_cuts(text), len(text)]:
        piece = text[start:end]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            spans.append((start + lead, start + len(piece.rstrip())))
        start = end
    return spans


def tokens(text: str, start: int = 0, end: int | None = None) -> list[tuple[str, int, int]]:
    """(token, start, end) of each token of ``text[start:end]``, offsets into ``text``."""
    end = len(text) if end is None else end
    return [(m.group(), start + m.start(), start + m.end())
            for m in TOKEN_RE.finditer(text[start:end])]  # fmt: skip
