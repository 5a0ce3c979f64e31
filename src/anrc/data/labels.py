"""Relation labels: directed names such as ``Cause-Effect(e1,e2)`` and the label set.

A directed label is ``Relation(e1,e2)`` or ``Relation(e2,e1)``; the negative class
(``Other`` in SemEval-2010 Task 8, ``no_relation`` in TACRED-style data) carries no
direction. Relation names may contain any character but whitespace and brackets,
so ``per:employee_of(e1,e2)`` is a valid label. A dataset may instead use
undirected names (OpenNRE's ``main subject``, with spaces): then every label but
the negative class is undirected, and the official metric reduces to macro-F1
over the non-negative labels.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

_DIRECTED = re.compile(r"^([^\s()]+)\((e1,e2|e2,e1)\)$")
_PLAIN = re.compile(r"^[^\s()]+$")


def split_direction(label: str) -> tuple[str, str | None]:
    """``"Cause-Effect(e2,e1)" -> ("Cause-Effect", "e2,e1")``; ``"Other" -> ("Other", None)``."""
    m = _DIRECTED.match(label)
    if m:
        return m.group(1), m.group(2)
    return label, None


def strip_direction(label: str) -> str:
    """The relation name without its direction."""
    return split_direction(label)[0]


def flip_direction(label: str) -> str:
    """``Rel(e1,e2) <-> Rel(e2,e1)``; an undirected label is returned unchanged."""
    base, direction = split_direction(label)
    if direction is None:
        return label
    return f"{base}(e2,e1)" if direction == "e1,e2" else f"{base}(e1,e2)"


def check_label(label: str, negative: str) -> str | None:
    """Return a problem description if ``label`` is not a valid label, else None.

    Valid: the negative class; a directed ``Relation(e1,e2)`` / ``Relation(e2,e1)``;
    or an undirected name without brackets (OpenNRE's ``main subject``, TACRED's
    ``per:title``). A bracket anywhere else is a malformed direction.
    """
    if label == negative:
        return None
    m = _DIRECTED.match(label)
    if m and m.group(1) == negative:
        return f"the negative class {negative!r} takes no direction: {label!r}"
    if m:
        return None
    if "(" in label or ")" in label or not label.strip() or label != label.strip():
        return (
            f"label {label!r} is not of the form Relation(e1,e2), Relation(e2,e1), an "
            f"undirected name, or {negative!r}"
        )
    return None


def is_directed(label: str) -> bool:
    return _DIRECTED.match(label) is not None


def check_label_set(labels: Iterable[str], negative: str) -> str | None:
    """A problem with a whole label set: directed and undirected names mixed (usually a
    negative class under another name than ``negative``), else None."""
    positives = sorted({lab for lab in labels if lab != negative})
    plain = [lab for lab in positives if not is_directed(lab)]
    if plain and len(plain) < len(positives):
        return (
            f"the labels mix directed names ({next(lab for lab in positives if is_directed(lab))}) "
            f"and undirected ones ({', '.join(repr(p) for p in plain[:3])}); if "
            f"{plain[0]!r} is the negative class, set data.negative (now {negative!r})"
        )
    return None


@dataclass(frozen=True)
class LabelSet:
    """The ordered labels a model predicts. Derived from training labels, the negative
    class comes first; a label set given in full (OpenNRE's rel2id) keeps its own
    order, and a corpus without a negative class has none (``negative`` then names a
    class the data never uses)."""

    labels: tuple[str, ...]
    negative: str = "Other"

    def __post_init__(self) -> None:
        if len(set(self.labels)) != len(self.labels):
            raise ValueError("duplicate labels in label set")
        if not self.labels:
            raise ValueError("an empty label set")

    @classmethod
    def from_labels(cls, labels: Iterable[str], negative: str = "Other") -> LabelSet:
        """Derive the label set from training labels: the negative class first (when the
        data has it), then the others sorted."""
        labels = set(labels)
        seen = sorted(lab for lab in labels if lab != negative)
        return cls((negative, *seen) if negative in labels or not seen else tuple(seen), negative)

    @property
    def has_negative(self) -> bool:
        return self.negative in self

    def __len__(self) -> int:
        return len(self.labels)

    def __iter__(self) -> Iterator[str]:
        return iter(self.labels)

    def index(self, label: str) -> int:
        try:
            return self._index[label]
        except KeyError:
            raise KeyError(f"unknown label {label!r}") from None

    @property
    def _index(self) -> dict[str, int]:
        # Cached lazily on the frozen instance.
        cache = self.__dict__.get("_cache")
        if cache is None:
            cache = {lab: i for i, lab in enumerate(self.labels)}
            object.__setattr__(self, "_cache", cache)
        return cache

    def __contains__(self, label: object) -> bool:
        return label in self._index

    def relations(self) -> list[str]:
        """Relation names without direction, excluding the negative class."""
        return sorted({strip_direction(lab) for lab in self.labels if lab != self.negative})

    def to_json(self) -> dict:
        return {"labels": list(self.labels), "negative": self.negative}

    @classmethod
    def from_json(cls, obj: dict) -> LabelSet:
        return cls(tuple(obj["labels"]), obj["negative"])


#: SemEval-2010 Task 8's relations as sentences, the first role's entity as {x} and the
#: second's as {y} (the task guidelines' definitions, shortened)
RELATION_PHRASES = {
    "Cause-Effect": "{x} causes {y}",
    "Component-Whole": "{x} is a part of {y}",
    "Content-Container": "{x} is (or was) inside {y}",
    "Entity-Destination": "{x} moves into or toward {y}",
    "Entity-Origin": "{x} comes or is derived from {y}",
    "Instrument-Agency": "{x} is used by {y}",
    "Member-Collection": "{x} is a member of {y}",
    "Message-Topic": "{x} is about {y}",
    "Product-Producer": "{x} is made by {y}",
}


def describe_label(label: str, negative: str) -> str:
    """A label as a sentence about the entities ``{e1}`` and ``{e2}`` (placeholders to
    fill in): ``Cause-Effect(e2,e1)`` -> ``"{e2} causes {e1}"``. Relations without a
    phrase read ``Name: {e1} -> {e2}``; undirected ones ``Name ({e1}, {e2})``."""
    if label == negative:
        return "no relation of the label set between {e1} and {e2}"
    name, direction = split_direction(label)
    if direction is None:
        return f"{name} ({{e1}}, {{e2}})"
    x, y = ("{e1}", "{e2}") if direction == "e1,e2" else ("{e2}", "{e1}")
    phrase = RELATION_PHRASES.get(name)
    if phrase is None:
        return f"{name}: {x} \u2192 {y}"
    return phrase.format(x=x, y=y)
