"""The whole path from raw text to relations (see :mod:`anrc.extraction`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from anrc.data.examples import Example
from anrc.data.labels import LabelSet, describe_label
from anrc.errors import AnrcInputError
from anrc.extraction.decode import DECODINGS
from anrc.extraction.mentions import make_source
from anrc.extraction.pairs import candidate_pairs
from anrc.extraction.text import sentences, tokens

#: the least probability of a reported relation when neither the user nor the model's
#: calibration (anrc calibrate) sets one
DEFAULT_THRESHOLD = 0.5
#: the decoding of a model trained with unannotated pairs as negatives (data.negatives)
#: and of a bare :func:`extract_many` call; one trained on annotated pairs alone gives
#: most pairs of a sentence a relation, so its default is ``sentence`` (measured on dev:
#: docs/results/extraction.md, decodings)
PAIR_DECODING, SENTENCE_DECODING = "pair", "sentence"
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

    source: str = "auto"  # the model's tagger when it has one, else "words"
    mentions: int = 0  # the tagger's mentions kept a sentence (0: its own, chosen on dev)
    window: int = 15
    #: None: the model's own (default_decoding), ``pair`` where no model is known
    decoding: str | None = None
    threshold: float | None = None  # None: the model's calibrated one, else DEFAULT_THRESHOLD
    with_negative: bool = False
    #: sentence decoding: rank pairs by P(label) x both mentions' tagger scores (P(B)),
    #: not by P(label) alone (no effect with the words source, whose scores are all 1)
    prior: bool = True
    split: bool = True  # False: each text is one sentence (a line of a sentence corpus)


@dataclass
class _Sentence:
    index: int
    toks: list[tuple[str, int, int]]
    pairs: list[tuple[tuple[int, int], tuple[int, int]]]
    examples: list[Example]
    priors: list[float]  # each pair's two mention scores multiplied


def _split(text: str, opts: Options) -> tuple[Extraction, list[_Sentence]]:
    """The text's sentences and their tokens (pairs filled in by :func:`_pair_up`)."""
    whole = [(0, len(text))] if text.strip() else []
    out = Extraction(text, sentences(text) if opts.split else whole)
    found = [_Sentence(k, tokens(text, start, end), [], [], [])
             for k, (start, end) in enumerate(out.sentences)]  # fmt: skip
    return out, found


def _pair_up(out: Extraction, s: _Sentence, scored: dict, opts: Options, check) -> None:
    """The sentence's mentions into ``out``, its usable ordered pairs into ``s``."""
    words = [t for t, _, _ in s.toks]
    out.mentions += [_mention(out.text, s.toks, span) for span in scored]
    for a, b in candidate_pairs(list(scored), opts.window):
        ex = Example(f"{s.index}", words, a, b)
        if _usable(check, ex):
            s.pairs.append((a, b))
            s.examples.append(ex)
            s.priors.append(scored[a] * scored[b])


def _candidates(texts: Sequence[str], opts: Options, check, source):
    """[(Extraction, its sentences)] of ``texts``, every sentence's mentions found in one
    call of the source (the tagger runs in batches)."""
    parts = [_split(t, opts) for t in texts]
    every = [s for _, sents in parts for s in sents]
    mentions = iter(source.scored_many([[t for t, _, _ in s.toks] for s in every]))
    for out, sents in parts:
        for s in sents:
            _pair_up(out, s, dict(next(mentions)), opts, check)
    return parts


def _usable(check, ex: Example) -> bool:
    if check is None:
        return True
    try:
        check(ex)
    except AnrcInputError:  # e.g. entities past a transformer's max_length
        return False
    return True


def default_decoding(negatives: int) -> str:
    """The decoding a model extracts with unless told otherwise: ``pair`` for one trained
    with ``negatives`` unannotated pairs a sentence as the negative class, else
    ``sentence`` (its single best pair: such a model gives most pairs a relation)."""
    return PAIR_DECODING if negatives > 0 else SENTENCE_DECODING


def _mention(text: str, toks, span: tuple[int, int]) -> Mention:
    start, end = toks[span[0]][1], toks[span[1] - 1][2]
    return Mention(text[start:end], start, end)


def extract_many(texts: Sequence[str], classify: Classify, labels: LabelSet,
                 opts: Options | None = None, check=None, tagger=None) -> list[Extraction]:  # fmt: skip
    """Relations of each of ``texts``; every candidate pair of all of them classified in
    one call of ``classify`` (batched by the classifier). ``tagger``: a
    :class:`~anrc.extraction.tagger.Tagger` for the ``tagger`` (and ``auto``) source."""
    opts = opts or Options()
    if opts.decoding is None:
        opts = replace(opts, decoding=PAIR_DECODING)
    if opts.decoding not in DECODINGS:
        DECODINGS.get(opts.decoding)  # the one-line error naming the choices
    source = make_source(opts.source, tagger, opts.mentions)
    parts = _candidates(texts, opts, check, source)
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
    prior = np.asarray(s.priors) if opts.prior else np.ones(len(s.pairs))
    relations = []
    threshold = DEFAULT_THRESHOLD if opts.threshold is None else opts.threshold
    for i, k, score in decide(probs, s.pairs, labels, threshold, prior):
        label = labels.labels[k]
        if label == labels.negative and not opts.with_negative:
            continue
        e1, e2 = (_mention(text, s.toks, span) for span in s.pairs[i])
        reads = describe_label(label, labels.negative).format(e1=e1.text, e2=e2.text)
        relations.append(Relation(s.index, e1, e2, label, reads, score))
    return relations


def extract(text: str, classify: Classify, labels: LabelSet, opts: Options | None = None,
            check=None, tagger=None) -> Extraction:  # fmt: skip
    """Relations of one text (see :func:`extract_many`)."""
    return extract_many([text], classify, labels, opts, check, tagger)[0]
