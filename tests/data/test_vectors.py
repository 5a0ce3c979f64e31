from pathlib import Path

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


def test_piece_vectors_are_the_mean_of_a_words_pieces():
    """pieces:NAME: any word the tokenizer splits into known pieces has the mean of their
    (rescaled) rows; a word with an unknown piece is not found; the list of words (for
    data.vectors_vocab and neighbours) is the whole-word pieces."""
    pytest.importorskip("tokenizers")
    from helpers import tiny_pretrained

    from anrc.data.pieces import word_piece_table
    from anrc.data.vectors import GLOVE_ROW_NORM, load_vectors

    folder = tiny_pretrained("bert")
    v = load_vectors(f"pieces:{folder}")
    raw = word_piece_table(Path(folder))
    scale = GLOVE_ROW_NORM / np.linalg.norm(raw, axis=1).mean()
    ids = v.tokenizer.get_vocab()
    # "Cars": the tokenizer's own normaliser lower-cases it; "buildings": no such pieces
    rows, found = v.lookup(["built", "Cars", "buildings", "qqq"])
    assert found.tolist() == [True, True, False, False]
    np.testing.assert_allclose(rows[0], raw[ids["built"]] * scale, rtol=1e-5)
    assert v.tokenizer.encode("cars", add_special_tokens=False).tokens == ["cars"]
    rows, found = v.lookup(["feets"])  # feet + ##s: two pieces
    mean = (raw[ids["feet"]] + raw[ids["##s"]]) / 2
    np.testing.assert_allclose(rows[0], mean * scale, rtol=1e-5)
    assert "built" in v.words and "##s" not in v.words and "[CLS]" not in v.words
    assert np.linalg.norm(v.table, axis=1).mean() == pytest.approx(GLOVE_ROW_NORM, rel=1e-5)
    vocab = Vocab.build([["built", "feets", "qqq"]], lowercase=True, vectors=v)
    emb, n = initial_embeddings(vocab, v, v.dim, seed=1)
    assert n == 2  # built and feets (qqq, <pad> and <unk> have pieces the tiny vocabulary lacks)
    np.testing.assert_allclose(emb[vocab.stoi["feets"]], rows[0], rtol=1e-6)


def test_piece_vectors_of_a_missing_model_are_one_line():
    from anrc.data.vectors import load_vectors

    with pytest.raises(AnrcInputError, match=r"data.embeddings pieces: 'no-such-model' is neither"):
        load_vectors("pieces:no-such-model")


def test_a_run_on_piece_vectors_trains_and_loads_without_them(tmp_path, data_dir, monkeypatch):
    """att-blstm over pieces:FOLDER: its word table starts from the pieces' means (as wide
    as the transformer's table), and the saved run loads with the folder gone from
    reach (the vectors live in its own weights)."""
    pytest.importorskip("tokenizers")
    from helpers import tiny_pretrained

    import anrc
    from anrc.builder import load_config
    from anrc.data.vectors import load_vectors
    from anrc.training.loop import train

    folder = tiny_pretrained("bert")
    sets = [f"data.train={data_dir / 'TRAIN_FILE.TXT'}", "data.train_limit=200", "data.test=",
            f"data.embeddings=pieces:{folder}", "train.max_epochs=1", "train.threads=1",
            "encoder.hidden=8"]  # fmt: skip
    cfg = load_config("configs/att-blstm.toml", sets)
    summary = train(cfg, tmp_path / "run")
    assert summary["train_examples"] > 0
    with monkeypatch.context() as m:  # loading never reads the vectors again
        m.setattr("anrc.data.vectors.load_pieces", lambda name: pytest.fail("read"))
        clf = anrc.load(tmp_path / "run")
    table = clf.trained.network.encoder.get_input_embeddings().weight
    assert table.shape[1] == 16  # the tiny transformer's width, not encoder.word_dim
    v = load_vectors(f"pieces:{folder}")
    rows, found = v.lookup(clf.trained.featurizer.vocab.itos)
    assert found.sum() > 10  # the tiny vocabulary's words among SemEval's
    # fine-tuned rows moved from the pieces' means, but not far in one epoch of 200
    i = int(np.flatnonzero(found)[-1])
    start = np.linalg.norm(rows[i])
    assert np.linalg.norm(table[i].detach().numpy() - rows[i]) < 0.5 * start


def test_piece_vectors_know_the_unknown_piece_of_each_family():
    """An MPNet-style vocabulary's unknown piece is <unk>, not [UNK]: a word made of it is
    not found (rather than given the unknown piece's row)."""
    pytest.importorskip("tokenizers")
    from helpers import tiny_pretrained

    from anrc.data.vectors import load_vectors

    v = load_vectors(f"pieces:{tiny_pretrained('mpnet')}")
    _, found = v.lookup(["built", "qqq"])
    assert found.tolist() == [True, False]
