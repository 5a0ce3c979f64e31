"""The encoder base class, its settings, and its registry.

An encoder turns a featurised :class:`~anrc.models.batch.Batch` into a sentence
vector h. It exposes one perturbation seam, the pattern of Hugging Face's
``inputs_embeds``:

    x = encoder.embed(batch)                  # (B, L, D): the vectors a perturbation is added to
    out = encoder(batch, embeds=x + delta)    # h (B, get_output_dim()) and token weights

Training perturbations and test-time attacks both go through it; nothing outside
the encoder reaches into its weights by name. Each encoder is one file that
registers itself in :data:`ENCODERS`, declares its settings as a ``Params``
dataclass beside its code (the config's ``[encoder]`` section, and nothing else,
is what it is built from) and names the featuriser that builds its batches
(:meth:`Encoder.build_featurizer`), so training, prediction and attacks share one
path.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from anrc.config import check_fraction, setting
from anrc.data.vectors import Vectors
from anrc.data.vocab import Vocab, initial_embeddings
from anrc.models.batch import Batch
from anrc.models.embedders import WordEmbedder
from anrc.models.featurizers import WordFeaturizer
from anrc.registry import Registry

ENCODERS: Registry[type[Encoder]] = Registry("encoder")


@dataclass
class Params:
    """An encoder's own settings (the ``[encoder]`` section); each encoder subclasses it."""


@dataclass
class WordParams(Params):
    """Settings every word-vector encoder shares."""

    word_dim: int = setting(50, "word embedding size when data.embeddings = 'none'")
    dropout: float = setting(0.5, "dropout on the encoder's output h (and, per encoder, inside)")

    def __post_init__(self) -> None:
        check_fraction("encoder.dropout", self.dropout)
        if self.word_dim < 1:
            raise ValueError("encoder.word_dim must be >= 1")


@dataclass
class PositionParams(WordParams):
    """Word vectors and two relative-position embeddings (to e1, to e2) per token."""

    position_dim: int = setting(20, "size of each word position embedding (to e1, to e2); 0 = none")
    max_distance: int = setting(50, "relative distances are clipped to [-max, max]")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.position_dim < 0 or self.max_distance < 1:
            raise ValueError("encoder.position_dim must be >= 0 and max_distance >= 1")


def _max_distance(params: Params) -> int:
    """Relative positions are computed for every word encoder; clipped as its settings say."""
    return getattr(params, "max_distance", PositionParams.max_distance)


def lstm_hidden():
    """The ``hidden`` setting of a recurrent encoder."""
    return setting(100, "LSTM hidden size per direction")


def embed_dropout():
    """The ``embed_dropout`` setting: dropout on the embedded input."""
    return setting(0.0, "dropout on the embedded input (0 = none)")


def check_positive(**values: int) -> None:
    for name, value in values.items():
        if value < 1:
            raise ValueError(f"encoder.{name} must be >= 1")


def check_odd(name: str, value: int) -> None:
    if value < 1 or value % 2 == 0:
        raise ValueError(f"encoder.{name} must be a positive odd number")


@dataclass(frozen=True)
class Inputs:
    """What an encoder is told besides its own settings."""

    word_dim: int  # size of the word vectors (the pretrained ones, or encoder.word_dim)
    site: str = "word"  # model.target: the tensor embed() returns
    normalize_embeddings: bool = False  # model.normalize_embeddings


@dataclass
class EncoderOutput:
    h: torch.Tensor  # (B, get_output_dim())
    attention: torch.Tensor | None = None  # (B, L) weight of each token, if the encoder has one


class Encoder(nn.Module):
    """Base class. Subclasses set up their layers in ``__init__(params, featurizer, inputs)``."""

    registered_name = "base"
    #: one line for model cards and listings: what the encoder is, after which paper
    summary = ""
    Params: type[Params] = Params
    #: the perturbation sites this encoder can expose through ``embed`` (model.target)
    sites: tuple[str, ...] = ("word",)
    #: whether the encoder reads model.normalize_embeddings (its word vectors' scaling)
    reads_normalize_embeddings = True
    #: sentences a forward pass when predicting, unless the caller says (fastest measured)
    inference_batch_size = 256

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

    def get_input_embeddings(self) -> nn.Embedding:
        """The table of trainable word (or word-piece) vectors, as Hugging Face names it."""
        return self.embedder.word

    def input_vectors(self, featurizer) -> tuple[list[str], object]:
        """(tokens, (N, D) numpy matrix) of the trainable input vectors (the attack's
        fallback neighbour space when a run has no pretrained vectors)."""
        w = self.get_input_embeddings().weight.detach().cpu().numpy()
        return featurizer.vocab.itos[: len(w)], w

    # -- featuriser ---------------------------------------------------------------------
    @classmethod
    def build_featurizer(cls, params: Params, data, train_tokens, vectors: Vectors | None):
        """A featuriser fitted on the training data (e.g. its vocabulary); ``data`` is the
        config's [data] section (markers, lower-casing, vocabulary size)."""
        probe = WordFeaturizer(Vocab([]), _max_distance(params), data.markers)
        sentences = (probe.marked(ex).tokens for ex in train_tokens)
        vocab = Vocab.build(sentences, data.lowercase, vectors, data.vectors_vocab)
        return WordFeaturizer(vocab, _max_distance(params), data.markers)

    @classmethod
    def load_featurizer(cls, run_dir, params: Params, data, read_json):
        """The featuriser a run directory holds (:meth:`build_featurizer`'s, saved)."""
        return WordFeaturizer.load(run_dir, _max_distance(params), data.markers, read_json)

    @classmethod
    def word_dim_for(cls, params: Params, vectors: Vectors | None) -> int:
        """The size of the word vectors: the pretrained ones', or ``encoder.word_dim``."""
        return vectors.dim if vectors is not None else params.word_dim

    def init_pretrained(
        self, params: Params, featurizer, vectors: Vectors | None, seed: int
    ) -> int:
        """Copy pretrained vectors into the word embedder; returns how many rows were found."""
        emb, found = initial_embeddings(featurizer.vocab, vectors, self.word_dim, seed)
        self.embedder.load_vectors(torch.from_numpy(emb))
        return found


def word_embedder(featurizer: WordFeaturizer, inputs: Inputs):
    """The word embedder of a word-vector encoder (frequency-normalised if asked for)."""
    vocab = featurizer.vocab
    freqs = None
    if inputs.normalize_embeddings:
        freqs = torch.from_numpy(vocab.frequencies())
    return WordEmbedder(len(vocab), inputs.word_dim, vocab.n_trainable, freqs)
