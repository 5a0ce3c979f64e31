"""The whole path from raw text to relations (see :mod:`anrc.extraction`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from anrc.data.examples import Example
from anrc.data.labels import LabelSet, describe_label
from anrc.errors import AnrcInputError
from anrc.extraction.decode import DECODINGS
from anrc.extraction.mentions import make_source
from anrc.extraction.pairs import candidate_pairs
from anrc.extraction.text import sentences, tokens

#: ordered pairs of examples -> (N, C) label probabilities
Classify = Callable[[Sequence[Example]], np.ndarray]


@dataclass(frozen=True)
class Mention:
    """A span of the input text: ``text[start:end]``."""

    text: str
    start: int
    end: int

    def to_json(self) -> dict:
        return {"text": self.text, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class Relation:
    """``label`` between the mentions ``e1`` and ``e2`` of sentence ``sentence``;
    ``reads``: the label as a sentence about them ("the singer causes the commotion")."""

    sentence: int
    e1: Mention
    e2: Mention
    label: str
    reads: str
    score: float

    def to_json(self) -> dict:
        return {"sentence": self.sentence, "e1": self.e1.to_json(), "e2": self.e2.to_json(),
                "label": self.label, "reads": self.reads, "score": self.score}  # fmt: skip


@dataclass
class Extraction:
    """What one text gave: its sentences and candidate mentions (character spans), the
    number of ordered pairs classified, and the relations decoded."""

    text: str
    sentences: list[tuple[int, int]]
    mentions: list[Mention] = field(default_factory=list)
    pairs: int = 0
    relations: list[Relation] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "sentences": [list(s) for s in self.sentences],
            "mentions": [m.to_json() for m in self.mentions],
            "pairs": self.pairs,
            "relations": [r.to_json() for r in self.relations],
        }


@dataclass(frozen=True)
class Options:
    """How candidates are found and decoded (each a setting of ``anrc extract``)."""

    source: str = "words"
    window: int = 15
    decoding: str = "pair"
    threshold: float = 0.5
    with_negative: bool = False
    split: bool = True  # False: each text is one sentence (a line of a sentence corpus)


@dataclass
class _Sentence:
    index: int
    toks: list[tuple[str, int, int]]
    pairs: list[tuple[tuple[int, int], tuple[int, int]]]
    examples: list[Example]


def _candidates(text: str, opts: Options, check) -> tuple[Extraction, list[_Sentence]]:
    """The text's sentences, mentions and the examples of its usable ordered pairs."""
    source = make_source(opts.source)
    whole = [(0, len(text))] if text.strip() else []
    out, found = Extraction(text, sentences(text) if opts.split else whole), []
    for k, (start, end) in enumerate(out.sentences):
        toks = tokens(text, start, end)
        words = [t for t, _, _ in toks]
        spans = source.spans(words)
        out.mentions += [_mention(text, toks, s) for s in spans]
        pairs, examples = [], []
        for a, b in candidate_pairs(spans, opts.window):
            ex = Example(f"{k}", words, a, b)
            if _usable(check, ex):
                pairs.append((a, b))
                examples.append(ex)
        found.append(_Sentence(k, toks, pairs, examples))
    return out, found


def _usable(check, ex: Example) -> bool:
    if check is None:
        return True
    try:
        check(ex)
    except AnrcInputError:  # e.g. entities past a transformer's max_length
        return False
    return True


def _mention(text: str, toks, span: tuple[int, int]) -> Mention:
    start, end = toks[span[0]][1], toks[span[1] - 1][2]
    return Mention(text[start:end], start, end)


def extract_many(texts: Sequence[str], classify: Classify, labels: LabelSet,
                 opts: Options | None = None, check=None) -> list[Extraction]:  # fmt: skip
    """Relations of each of ``texts``; every candidate pair of all of them classified in
    one call of ``classify`` (batched by the classifier)."""
    opts = opts or Options()
    if opts.decoding not in DECODINGS:
        DECODINGS.get(opts.decoding)  # the one-line error naming the choices
    parts = [_candidates(t, opts, check) for t in texts]
    examples = [ex for _, sents in parts for s in sents for ex in s.examples]
    probs = classify(examples) if examples else np.zeros((0, len(labels)))
    at = 0
    for out, sents in parts:
        for s in sents:
            p = probs[at : at + len(s.pairs)]
            at += len(s.pairs)
            out.pairs += len(s.pairs)
            out.relations += _decode(out.text, s, p, labels, opts)
    return [out for out, _ in parts]


def _decode(text: str, s: _Sentence, probs: np.ndarray, labels: LabelSet, opts: Options):
    decide = DECODINGS.get(opts.decoding)
    relations = []
    for i, k, score in decide(probs, s.pairs, labels, opts.threshold):
        label = labels.labels[k]
        if label == labels.negative and not opts.with_negative:
            continue
        e1, e2 = (_mention(text, s.toks, span) for span in s.pairs[i])
        reads = describe_label(label, labels.negative).format(e1=e1.text, e2=e2.text)
        relations.append(Relation(s.index, e1, e2, label, reads, score))
    return relations


def extract(text: str, classify: Classify, labels: LabelSet, opts: Options | None = None,
            check=None) -> Extraction:  # fmt: skip
    """Relations of one text (see :func:`extract_many`)."""
    return extract_many([text], classify, labels, opts, check)[0]
