import numpy as np
import pytest

from anrc.data.vectors import load_text
from anrc.data.vocab import Vocab, initial_embeddings
from anrc.errors import AnrcInputError


def test_glove_and_word2vec_text(tmp_path):
    (tmp_path / "g.txt").write_text("the 0.1 0.2 0.3\ncat 1 2 3\n")
    (tmp_path / "w.txt").write_text("2 3\nthe 0.1 0.2 0.3\ncat 1 2 3\n")
    for name in ("g.txt", "w.txt"):
        v = load_text(tmp_path / name)
        assert v.words == ["the", "cat"] and v.dim == 3
        np.testing.assert_allclose(v.matrix[1], [1, 2, 3])


def test_bad_vectors_line(tmp_path):
    (tmp_path / "g.txt").write_text("the 0.1 0.2 0.3\ncat 1 2\n")
    with pytest.raises(AnrcInputError, match=r"g.txt:2: 2 values where the file has 3"):
        load_text(tmp_path / "g.txt")


def test_initial_embeddings_use_pretrained_and_seeded_random(tmp_path):
    (tmp_path / "g.txt").write_text("the 0.1 0.2 0.3\ncat 1 2 3\n")
    v = load_text(tmp_path / "g.txt")
    vocab = Vocab.build([["The", "cat", "zyzzyva"]], lowercase=True, vectors=v, vectors_vocab=0)
    emb, found = initial_embeddings(vocab, v, 3, seed=1)
    assert found == 2 and emb.shape == (len(vocab), 3)
    np.testing.assert_allclose(emb[vocab.stoi["cat"]], [1, 2, 3])
    assert (emb[0] == 0).all()
    again, _ = initial_embeddings(vocab, v, 3, seed=1)
    np.testing.assert_array_equal(emb, again)
    assert vocab.encode(["CAT", "unseen"]) == [vocab.stoi["cat"], 1]


def test_packaged_glove_loads():
    from anrc.data.vectors import load_packaged

    v = load_packaged()
    assert v.matrix.shape == (400000, 50) and v.words[0] == "the"


def test_extra_pretrained_words_are_looked_up_and_frozen(tmp_path):
    import torch

    from anrc.builder import build_model, load_config
    from anrc.data import Example
    from anrc.data.labels import LabelSet
    from anrc.models.featurizers import WordFeaturizer

    (tmp_path / "g.txt").write_text("the 0.1 0.2 0.3\ncat 1 2 3\ndog 4 5 6\n")
    v = load_text(tmp_path / "g.txt")
    ex = Example("1", ["the", "cat", "sat"], (0, 1), (1, 2), "Other")
    vocab = Vocab.build([ex.tokens], vectors=v, vectors_vocab=-1)
    assert vocab.itos[vocab.n_trainable :] == ["dog"]
    feat = WordFeaturizer(vocab, 50)
    labels = LabelSet.from_labels(["Other"])
    cfg = load_config()
    model = build_model(cfg, feat, labels, 3)
    embedder = model.encoder.embedder
    assert embedder.word.num_embeddings == vocab.n_trainable
    model.encoder.init_pretrained(cfg.encoder, feat, v, seed=0)
    test = Example("2", ["the", "dog", "cat"], (1, 2), (2, 3))
    w = model.embed(feat([test]))
    torch.testing.assert_close(w[0, 1], torch.tensor([4.0, 5.0, 6.0]))
    torch.testing.assert_close(w[0, 2], torch.tensor([1.0, 2.0, 3.0]))
    assert "encoder.embedder.word_extra" in model.state_dict()
    assert all(p is not embedder.word_extra for p in model.parameters())
