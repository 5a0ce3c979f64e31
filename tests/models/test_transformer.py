"""The transformer encoder's featuriser on a tiny BERT folder built in the test."""

import dataclasses

import pytest
import torch
from helpers import tiny, tiny_config

pytest.importorskip("transformers")

from anrc.data import Example  # noqa: E402
from anrc.models.encoders import transformer as tr  # noqa: E402


def _featurizer(markers="tags", max_length=128):
    cfg = tiny_config("transformer", markers, max_length=max_length)
    return tr.TransformerEncoder.build_featurizer(cfg.encoder, cfg.data, [], None)


@pytest.mark.parametrize("markers", ["tags", "punct"])
def test_markers_present_and_spans_exact(markers):
    _, feat, _, exs, _ = tiny("transformer", markers)
    m = feat.marked(exs[1])  # "A <e1>factory</e1> for <e2>cars</e2> was built in Russia ."
    open1, close1, open2, close2 = {"tags": ("<e1>", "</e1>", "<e2>", "</e2>"),
                                    "punct": ("$", "$", "#", "#")}[markers]  # fmt: skip
    assert m.tokens[0] == "[CLS]" and m.tokens[-1] == "[SEP]"
    assert m.tokens[m.starts[0]] == open1 and m.tokens[m.starts[1]] == open2
    assert m.tokens[m.e1[0] : m.e1[1]] == ["factory"] and m.tokens[m.e1[1]] == close1
    assert m.tokens[m.e2[0] : m.e2[1]] == ["cars"] and m.tokens[m.e2[1]] == close2
    if markers == "tags":  # one added token each, never split into pieces
        assert feat.vocab_size == feat.tokenizer.get_vocab_size()
        assert "<e1>" in feat.tokenizer.get_vocab()


def test_word_pieces_map_back_to_the_entity():
    feat = _featurizer()
    # "singing" -> sing ##ing is not in the tiny vocabulary; "cars" is; "statementsed" splits
    ex = Example("x", ["the", "statementsed", "caused", "a", "commotion"], (1, 2), (4, 5))
    m = feat.marked(ex)
    piece_span = m.tokens[m.e1[0] : m.e1[1]]
    assert len(piece_span) >= 2 and piece_span[0] == "statements"
    assert all(p.startswith("##") for p in piece_span[1:])


def test_truncation_keeps_both_entities():
    feat = _featurizer(max_length=16)
    words = ["the"] * 10 + ["singer"] + ["a"] * 3 + ["commotion"] + ["big"] * 20
    ex = Example("long", words, (10, 11), (14, 15))
    m = feat.marked(ex)
    assert len(m.tokens) <= 16
    assert m.tokens[m.e1[0] : m.e1[1]] == ["singer"]
    assert m.tokens[m.e2[0] : m.e2[1]] == ["commotion"]
    assert m.tokens[0] == "[CLS]" and m.tokens[-1] == "[SEP]"


def test_far_apart_entities_keep_the_words_next_to_each():
    """Entities farther apart than max_length: the middle goes, not an answer."""
    feat = _featurizer(max_length=10)
    words = ["singer", "caused"] + ["a"] * 12 + ["big", "commotion"]
    m = feat.marked(Example("far", words, (0, 1), (15, 16)))
    # [CLS] <e1> singer </e1> caused big <e2> commotion </e2> [SEP]
    assert m.tokens == ["[CLS]", "<e1>", "singer", "</e1>", "caused", "big", "<e2>",
                        "commotion", "</e2>", "[SEP]"]  # fmt: skip
    assert m.tokens[m.e1[0] : m.e1[1]] == ["singer"]
    assert m.tokens[m.e2[0] : m.e2[1]] == ["commotion"]
    assert m.starts == (1, 6)


def test_entities_that_alone_cannot_fit_name_the_sentence():
    from anrc.errors import AnrcInputError

    feat = _featurizer(max_length=10)
    words = ["the"] * 8 + ["of", "commotion"]
    with pytest.raises(AnrcInputError, match=r"sentence huge: .*alone .*max_length = 10"):
        feat.marked(Example("huge", words, (0, 8), (9, 10)))


def _old_window(feat, ex):
    """The cut before far-apart entities were handled: whole words from the end farther
    from the entities, one re-tokenisation a word (the reference for the fast count)."""
    from anrc.models.featurizers import mark

    m = mark(ex, feat._marker_tokens)
    lo, hi = 0, len(m.tokens)
    first, last = min(m.starts), max(m.e1[1], m.e2[1]) + 1
    while len(feat._pieces(m.tokens[lo:hi])[0]) > feat.max_length:
        if (first - lo) >= (hi - 1 - last) and lo < first:
            lo += 1
        elif hi - 1 > last:
            hi -= 1
        else:
            return None
    return feat._pieces(m.tokens[lo:hi])[1]


@pytest.mark.parametrize("seed", range(40))
def test_the_cut_is_the_one_before_when_the_entities_fit(seed):
    """Whenever the old word-by-word cut fitted, the counted cut keeps the same pieces."""
    import random

    rng = random.Random(seed)
    vocab = ["the", "a", "cars", "factory", "statementsed", "for", "was", "built", "."]
    feat = _featurizer(max_length=rng.choice([12, 16, 24]))
    words = [rng.choice(vocab) for _ in range(rng.randint(5, 40))]
    i, j = sorted(rng.sample(range(len(words)), 2))
    e1, e2 = (i, i + 1), (j, j + 1)
    if rng.random() < 0.5:
        e1, e2 = e2, e1
    ex = Example(f"s{seed}", words, e1, e2)
    before = _old_window(feat, ex)
    m = feat.marked(ex)
    assert len(m.tokens) <= feat.max_length
    if before is not None:
        assert m.tokens == before
    assert m.tokens[m.e1[0] : m.e1[1]] == feat._pieces([words[e1[0]]])[1][1:-1]
    assert m.tokens[m.e2[0] : m.e2[1]] == feat._pieces([words[e2[0]]])[1][1:-1]


def test_needs_markers():
    with pytest.raises(ValueError, match="markers"):
        _featurizer(markers="none")


def test_pretrained_must_be_local(tmp_path):
    with pytest.raises(ValueError, match="neither a folder, a fetched body nor an installed"):
        tr.resolve_pretrained("no-such-model-package")
    with pytest.raises(ValueError, match="no config.json"):
        tr.resolve_pretrained(str(tmp_path))


def test_a_missing_dependency_is_one_clear_message(monkeypatch):
    import importlib

    real = importlib.import_module

    def fake(name, *a, **k):
        if name == "transformers":
            raise ImportError("No module named 'transformers'")
        return real(name, *a, **k)

    monkeypatch.setattr(importlib, "import_module", fake)
    with pytest.raises(ImportError, match=r"needs transformers and tokenizers: pip install -e \. "):
        tr._require("transformers")


def test_pretrained_weights_are_loaded():
    model, feat, labels, exs, cfg = tiny("transformer", "tags")
    from safetensors.torch import load_file

    state = load_file(str(tr.resolve_pretrained(cfg.encoder.pretrained) / "model.safetensors"))
    own = model.encoder.body.state_dict()
    key = "encoder.layer.0.attention.self.query.weight"
    assert (own[key] == state[key]).all()
    words = own["embeddings.word_embeddings.weight"]
    n = state["embeddings.word_embeddings.weight"].shape[0]
    assert words.shape[0] == n + 4  # the four markers were added
    assert (words[:n] == state["embeddings.word_embeddings.weight"]).all()
    assert dataclasses.is_dataclass(cfg)


def test_layer_decay_gives_each_depth_its_learning_rate():
    from anrc.training.setup import make_optimizer

    model, feat, labels, exs, cfg = tiny("transformer", "tags")
    cfg.train = dataclasses.replace(cfg.train, lr=1e-3, encoder_lr=1e-4, layer_decay=0.5)
    groups = make_optimizer(cfg, model)[0].param_groups
    body = {id(p) for p in model.encoder.body.parameters()}
    head = [p for p in model.parameters() if id(p) not in body]
    assert groups[0]["lr"] == 1e-3 and {id(p) for p in groups[0]["params"]} == {id(p) for p in head}
    # the tiny BERT: embeddings, then its 2 layers, the top one at encoder_lr
    assert [g["lr"] for g in groups[1:]] == pytest.approx([0.25e-4, 0.5e-4, 1e-4])
    named = {id(p): n for n, p in model.encoder.body.named_parameters()}
    depth_names = [{named[id(p)].split(".")[0] for p in g["params"]} for g in groups[1:]]
    assert depth_names[0] == {"embeddings"}
    assert all(".layer.1." in named[id(p)] for p in groups[3]["params"])
    in_groups = [id(p) for g in groups for p in g["params"]]
    assert sorted(in_groups) == sorted(id(p) for p in model.parameters())  # each once


def test_without_layer_decay_the_body_is_one_group():
    from anrc.training.setup import make_optimizer

    model, feat, labels, exs, cfg = tiny("transformer", "tags")
    cfg.train = dataclasses.replace(cfg.train, lr=1e-3, encoder_lr=1e-4)
    groups = make_optimizer(cfg, model)[0].param_groups
    assert [g["lr"] for g in groups] == [1e-3, 1e-4]
    assert [id(p) for p in groups[1]["params"]] == [id(p) for p in model.encoder.body.parameters()]


def test_an_mpnet_body_keeps_the_contract(tmp_path):
    """The base-size body anrc can fetch (all-mpnet-base-v2) is an MPNet: the same seam,
    markers and pooling work on it (a tiny MPNet built here)."""
    from helpers import batch_of, word_dim

    from anrc.inference.api import RelationClassifier
    from anrc.models.trained import TrainedModel

    model, feat, labels, exs, cfg = tiny("transformer", "punct", body="mpnet", dropout=0.0)
    assert type(model.encoder.body).__name__ == "MPNetModel" and feat.pad_id == 1
    model.eval()
    together = model(batch_of(exs, feat, labels)).logits
    for i, ex in enumerate(exs):  # padding never changes a prediction
        torch.testing.assert_close(model(batch_of([ex], feat, labels)).logits[0], together[i],
                                   rtol=1e-5, atol=1e-5)  # fmt: skip
    b = batch_of(exs, feat, labels)
    x = model.embed(b).detach().requires_grad_()
    clean = model(b, embeds=x, targets=b.labels).loss
    (g,) = torch.autograd.grad(clean, x)
    after = model(b, embeds=x.detach() + 0.5 * g / g.norm(), targets=b.labels).loss
    assert float(after.detach()) > float(clean.detach())
    TrainedModel(cfg, model, feat, labels, word_dim(cfg)).save(tmp_path)
    run = TrainedModel.load(tmp_path)
    again = RelationClassifier(run)
    assert (
        again.predict_many(exs)[0].scores
        == RelationClassifier(TrainedModel(cfg, model, feat, labels, word_dim(cfg)))
        .predict_many(exs)[0]
        .scores
    )


def test_the_pieces_cache_is_bounded_and_changes_nothing(monkeypatch):
    """A server sees sentences without end: the featuriser keeps the last ones only."""
    monkeypatch.setattr(tr, "CACHE_SENTENCES", 5)
    feat, fresh = _featurizer(), _featurizer()
    exs = [Example(f"s{i}", ["the", "cars"] + ["a"] * i + ["factory"], (1, 2), (i + 2, i + 3))
           for i in range(12)]  # fmt: skip
    for ex in exs + exs[:3]:
        assert feat.marked(ex) == fresh.marked(ex)
    assert len(feat._cache) == 5
    assert list(feat._cache)[-1] == (tuple(exs[2].tokens), exs[2].e1, exs[2].e2)  # last used
