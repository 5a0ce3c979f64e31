"""Candidate mentions: which token spans of a sentence may be an entity.

Each source registers under a name (``MENTION_SOURCES``) and maps a sentence's tokens to
token spans ``(start, end)``, end exclusive. ``words`` needs nothing: every content word
(letters, not a stop word) is a one-word mention, which suits SemEval-2010 Task 8, whose
entities are nominals marked on their head word ("the <e1>singer</e1>").
"""

from __future__ import annotations

from anrc.data.candidates import word_mentions
from anrc.registry import Registry

MENTION_SOURCES: Registry[type[MentionSource]] = Registry("mention source")


class MentionSource:
    """Base class: ``spans(tokens)`` -> candidate mention spans, in order."""

    summary = ""

    def spans(self, tokens: list[str]) -> list[tuple[int, int]]:
        raise NotImplementedError


@MENTION_SOURCES.register("words")
class ContentWords(MentionSource):
    summary = "every content word (letters, not a stop word) as a one-word mention"

    def spans(self, tokens: list[str]) -> list[tuple[int, int]]:
        return word_mentions(tokens)


def make_source(name: str) -> MentionSource:
    """The registered source ``name`` (ValueError naming the choices if unknown)."""
    return MENTION_SOURCES.get(name)()
