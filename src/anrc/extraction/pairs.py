"""Candidate pairs: two mentions of one sentence, in both orders, within a window."""

from __future__ import annotations

Span = tuple[int, int]


def candidate_pairs(mentions: list[Span], window: int) -> list[tuple[Span, Span]]:
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
