"""The encoder base class and its registry.

An encoder turns a featurised :class:`~anrc.models.batch.Batch` into a sentence
vector h. It exposes one perturbation seam, the pattern of Hugging Face's
``inputs_embeds``:

    x = encoder.embed(batch)                  # (B, L, D): the vectors a perturbation is added to
    out = encoder(batch, embeds=x + delta)    # h (B, get_output_dim()) and token weights

Training perturbations and test-time attacks both go through it; nothing outside
the encoder reaches into its weights by name. Each encoder is one file that
registers itself in :data:`ENCODERS` and names the featuriser that builds its
batches (:meth:`Encoder.build_featurizer`), so training, prediction and attacks
share one path.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from anrc.data.vectors import Vectors
from anrc.data.vocab import Vocab, initial_embeddings
from anrc.models.batch import Batch
from anrc.models.featurizers import WordFeaturizer
from anrc.registry import Registry

ENCODERS: Registry[type[Encoder]] = Registry("encoder")


@dataclass
class EncoderOutput:
    h: torch.Tensor  # (B, get_output_dim())
    attention: torch.Tensor | None = None  # (B, L) weight of each token, if the encoder has one


class Encoder(nn.Module):
    """Base class. Subclasses set up their layers in ``__init__(cfg, featurizer, ...)``."""

    registered_name = "base"
    #: the perturbation sites this encoder can expose through ``embed`` (adversarial.target)
    sites: tuple[str, ...] = ("word",)

    def get_output_dim(self) -> int:
        raise NotImplementedError

    def embed(self, batch: Batch) -> torch.Tensor:
        """The input vectors a perturbation is added to, (B, L, D)."""
        raise NotImplementedError

    def forward(self, batch: Batch, embeds: torch.Tensor | None = None) -> EncoderOutput:
        raise NotImplementedError

    def pretrained_parameters(self) -> list[nn.Parameter]:
        """Parameters of a pretrained body (trained at ``train.encoder_lr``); none here."""
        return []

    def pretrained_layers(self) -> list[list[nn.Parameter]]:
        """The pretrained body's parameters by depth, input first (``train.layer_decay``);
        here the whole body is one layer."""
        body = self.pretrained_parameters()
        return [body] if body else []

    def input_vectors(self, featurizer) -> tuple[list[str], object]:
        """(tokens, (N, D) numpy matrix) of the trainable input vectors (the attack's
        fallback neighbour space when a run has no pretrained vectors)."""
        w = self.embedder.word.weight.detach().cpu().numpy()
        return featurizer.vocab.itos[: len(w)], w

    # -- featuriser ---------------------------------------------------------------------
    @classmethod
    def build_featurizer(cls, cfg, train_tokens, vectors: Vectors | None):
        """A featuriser fitted on the training data (e.g. its vocabulary)."""
        probe = WordFeaturizer(Vocab([]), cfg.model.max_distance, cfg.data.markers)
        sentences = (probe.marked(ex).tokens for ex in train_tokens)
        vocab = Vocab.build(sentences, cfg.data.lowercase, vectors, cfg.data.vectors_vocab)
        return WordFeaturizer(vocab, cfg.model.max_distance, cfg.data.markers)

    @classmethod
    def featurizer_class(cls):
        return WordFeaturizer

    @classmethod
    def create(cls, cfg, featurizer, word_dim: int) -> Encoder:
        """A freshly initialised encoder for ``featurizer`` (used by training and loading)."""
        return cls(cfg, featurizer, word_dim)

    def init_pretrained(self, cfg, featurizer, vectors: Vectors | None, seed: int) -> int:
        """Copy pretrained vectors into the word embedder; returns how many rows were found."""
        emb, found = initial_embeddings(featurizer.vocab, vectors, self.word_dim, seed)
        self.embedder.load_vectors(torch.from_numpy(emb))
        return found


def word_dim_for(cfg, vectors: Vectors | None) -> int:
    return vectors.dim if vectors is not None else cfg.model.word_dim


def word_embedder(cfg, featurizer: WordFeaturizer, word_dim: int):
    """The word embedder of a word-vector encoder (frequency-normalised if the config says so)."""
    from anrc.models.embedders import WordEmbedder

    vocab = featurizer.vocab
    freqs = None
    if cfg.adversarial.normalize_embeddings:
        freqs = torch.from_numpy(vocab.frequencies())
    return WordEmbedder(len(vocab), word_dim, vocab.n_trainable, freqs)
