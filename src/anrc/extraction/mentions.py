"""Candidate mentions: which token spans of a sentence may be an entity.

Each source registers under a name (``MENTION_SOURCES``) and maps a sentence's tokens to
token spans ``(start, end)``, end exclusive. ``words`` needs nothing: every content word
(letters, not a stop word) is a one-word mention, which suits SemEval-2010 Task 8, whose
entities are nominals marked on their head word ("the <e1>singer</e1>"). ``tagger``
asks a mention tagger trained on the corpus's own marked entities
(:mod:`anrc.extraction.tagger`, ``anrc train-tagger``) for the likeliest spans.
``auto`` (not a source) is the tagger when there is one, else ``words``.
"""

from __future__ import annotations

from anrc.data.candidates import word_mentions
from anrc.errors import AnrcInputError
from anrc.extraction.tagger import Tagger
from anrc.registry import Registry

MENTION_SOURCES: Registry[type[MentionSource]] = Registry("mention source")
AUTO = "auto"


class MentionSource:
    """Base class: ``spans(tokens)`` -> candidate mention spans, in order;
    ``scored(tokens)``: each with how likely it is a mention (1.0 where the source
    cannot say)."""

    summary = ""
    needs_tagger = False

    def __init__(self, tagger: Tagger | None = None, top: int = 0):
        self.tagger, self.top = tagger, top

    def spans(self, tokens: list[str]) -> list[tuple[int, int]]:
        raise NotImplementedError

    def scored(self, tokens: list[str]) -> list[tuple[tuple[int, int], float]]:
        return [(span, 1.0) for span in self.spans(tokens)]

    def scored_many(self, sentences: list[list[str]]) -> list[list[tuple[tuple[int, int], float]]]:
        """:meth:`scored` of each sentence (a source may batch them)."""
        return [self.scored(tokens) for tokens in sentences]


@MENTION_SOURCES.register("words")
class ContentWords(MentionSource):
    summary = "every content word (letters, not a stop word) as a one-word mention"

    def spans(self, tokens: list[str]) -> list[tuple[int, int]]:
        return word_mentions(tokens)


@MENTION_SOURCES.register("tagger")
class TaggedMentions(MentionSource):
    summary = "the likeliest spans of a mention tagger trained on marked entities"
    needs_tagger = True

    def spans(self, tokens: list[str]) -> list[tuple[int, int]]:
        return [span for span, _ in self.scored(tokens)]

    def scored(self, tokens: list[str]) -> list[tuple[tuple[int, int], float]]:
        return self.scored_many([tokens])[0]

    def scored_many(self, sentences: list[list[str]]) -> list[list[tuple[tuple[int, int], float]]]:
        assert self.tagger is not None
        return self.tagger.mentions(sentences, self.top)


def source_choices() -> list[str]:
    """What ``--source`` accepts: ``auto`` and every registered source."""
    return [AUTO, *MENTION_SOURCES.choices()]


def make_source(name: str, tagger: Tagger | None = None, top: int = 0) -> MentionSource:
    """The source ``name`` (``auto``: the tagger if given, else ``words``); ValueError
    naming the choices if unknown, AnrcInputError when it needs a tagger and has none."""
    if name == AUTO:
        name = "tagger" if tagger is not None else "words"
    klass = MENTION_SOURCES.get(name)
    if klass.needs_tagger and tagger is None:
        raise AnrcInputError(
            f"mention source {name!r} needs a tagger: the model has none; give one with "
            "--tagger DIR (anrc train-tagger makes one) or choose --source words"
        )
    return klass(tagger, top)
