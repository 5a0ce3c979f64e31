"""A run's stored weights: the int8-embeddings form covers every word-vector row, the
fine-tuned table and the frozen rows beside it (data.vectors_vocab)."""

import torch
from torch import nn

from anrc.models.embedders import WordEmbedder
from anrc.models.weights import SCALE_SUFFIX, compact_state, embedding_tables


class _Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Module()
        self.encoder.embedder = WordEmbedder(vocab_size=10, dim=4, n_trainable=6)
        self.encoder.linear = nn.Linear(4, 3)
        self.encoder.get_input_embeddings = lambda: self.encoder.embedder.word


def test_int8_embeddings_store_the_frozen_rows_too():
    torch.manual_seed(0)
    model = _Model()
    model.encoder.embedder.load_vectors(torch.randn(10, 4))
    tables = embedding_tables(model)
    assert tables == {"encoder.embedder.word.weight", "encoder.embedder.word_extra"}
    stored = compact_state(model.state_dict(), "int8-embeddings", tables)
    for name in tables:
        assert stored[name].dtype == torch.int8 and name + SCALE_SUFFIX in stored
    assert stored["encoder.linear.weight"].dtype == torch.float16
