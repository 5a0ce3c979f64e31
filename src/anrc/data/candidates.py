"""Candidate mentions and pairs of a tokenised sentence, and negatives drawn from them.

What ``anrc extract`` classifies in raw text (the ``words`` source of
:mod:`anrc.extraction.mentions`), here at the data layer so that training can draw its
negatives from the same candidates: every content word is a one-word mention, and every
two non-overlapping mentions within a window form a pair, in both orders.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Sequence
from dataclasses import replace

from anrc.data.examples import Example
from anrc.data.neighbours import STOP_WORDS

Span = tuple[int, int]


def content_word(token: str) -> bool:
    """Letters (inner hyphens and apostrophes allowed), more than one, not a stop word."""
    bare = token.replace("-", "").replace("'", "")
    return len(bare) > 1 and bare.isalpha() and token.lower() not in STOP_WORDS


def word_mentions(tokens: Sequence[str]) -> list[Span]:
    """Every content word as a one-word mention span."""
    return [(i, i + 1) for i, t in enumerate(tokens) if content_word(t)]


def candidate_pairs(mentions: Sequence[Span], window: int) -> list[tuple[Span, Span]]:
    """Every ordered pair (e1, e2) of non-overlapping ``mentions`` whose gap is at most
    ``window`` tokens (0: no limit); (a, b) and (b, a) both appear, a first."""
    pairs = []
    for i, a in enumerate(mentions):
        for b in mentions[i + 1 :]:
            if a[0] < b[1] and b[0] < a[1]:
                continue  # overlapping spans are one mention, not a pair
            gap = max(a[0], b[0]) - min(a[1], b[1])
            if window and gap > window:
                continue
            pairs += [(a, b), (b, a)]
    return pairs


#: what a drawn negative's id carries after its sentence's id (``ID~neg0``, ``ID~neg1``, ...)
NEGATIVE_MARK = "~neg"


def drawn_negative(ex: Example) -> bool:
    """Whether ``ex`` is a negative drawn by :func:`negatives`, not an annotated pair."""
    return NEGATIVE_MARK in ex.id


def negatives(examples: Sequence[Example], per_sentence: int, window: int, negative: str,
              seed: int) -> list[Example]:  # fmt: skip
    """Up to ``per_sentence`` unannotated candidate pairs of each example, labelled
    ``negative``: pairs whose mentions are not both the annotated entities (in either
    order). Drawn with a generator seeded by ``seed`` and the example's id, so the same
    settings give the same negatives whatever else changes."""
    out = []
    for ex in examples:
        gold = {(tuple(ex.e1), tuple(ex.e2)), (tuple(ex.e2), tuple(ex.e1))}
        pool = [p for p in candidate_pairs(word_mentions(ex.tokens), window) if p not in gold]
        rng = random.Random(zlib.crc32(f"{seed}:{ex.id}".encode()))
        for k, (a, b) in enumerate(rng.sample(pool, min(per_sentence, len(pool)))):
            out.append(replace(ex, id=f"{ex.id}{NEGATIVE_MARK}{k}", e1=a, e2=b, label=negative))
    return out
