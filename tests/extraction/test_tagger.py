"""The learned mention tagger: its tags, its training on a tiny corpus built here, its
decoding, saving and loading, and its use through the API, the CLI and serve's options."""

import json
import random
from dataclasses import replace

import numpy as np
import pytest
from helpers import tiny, word_dim, write

from anrc.cli import main
from anrc.data.examples import Example
from anrc.data.formats import write_semeval
from anrc.errors import AnrcInputError
from anrc.extraction.mentions import make_source, source_choices
from anrc.extraction.tagger import (
    BEGIN,
    INSIDE,
    OUTSIDE,
    Tagger,
    TaggerParams,
    decode_scored_spans,
    decode_spans,
    span_scores,
)
from anrc.extraction.tagger_training import bio_tags, choose_top, measure, redecode, train_tagger
from anrc.inference.api import RelationClassifier, load
from anrc.models.trained import TrainedModel
from anrc.pretrained import model_tagger

NOUNS = [
    "singer",
    "commotion",
    "storm",
    "barn",
    "river",
    "engine",
    "car",
    "wheel",
    "lamp",
    "table",
    "book",
    "shelf",
]
TEMPLATES = (  # the marked pair follows from the context, not from the nouns themselves
    ("the {a} caused a {b} near the {c} .", 1, 4),
    ("near the {c} , a {a} is part of the {b} .", 5, 10),
    ("{c} aside , the {a} fell into the old {b} today .", 4, 9),
)


def corpus(n: int, seed: int) -> list[Example]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        text, a, b = TEMPLATES[i % len(TEMPLATES)]
        words = dict(zip("abc", rng.sample(NOUNS, 3), strict=True))
        tokens = text.format(**words).split()
        out.append(Example(str(i), tokens, (a, a + 1), (b, b + 1), "Other"))
    return out


SMALL = TaggerParams(hidden=16, layers=1, dropout=0.1, epochs=25, batch_size=8, lr=0.02,
                     vectors_vocab=0, seed=3)  # fmt: skip


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return train_tagger(SMALL, corpus(90, 1), corpus(30, 2), vectors=None)


def test_bio_tags_mark_both_entities():
    ex = Example("1", ["the", "old", "barn", "and", "the", "river"], (1, 3), (5, 6))
    assert bio_tags(ex) == [OUTSIDE, BEGIN, INSIDE, OUTSIDE, OUTSIDE, BEGIN]


def test_decoding_keeps_the_likeliest_spans_in_text_order_never_overlapping():
    p = np.array([[0.9, 0.05, 0.05], [0.1, 0.8, 0.1], [0.1, 0.3, 0.6], [0.2, 0.7, 0.1],
                  [0.99, 0.005, 0.005]])  # fmt: skip
    assert decode_spans(p, 2) == [((1, 3), 0.8), ((3, 4), 0.7)]
    assert [s for s, _ in decode_spans(p, 5)] == [(0, 1), (1, 3), (3, 4), (4, 5)]
    assert [s for s, _ in decode_spans(p, 5, floor=0.06)] == [(1, 3), (3, 4)]  # two at least
    assert len(decode_spans(p, 5, floor=0.99)) == 2


def test_scored_spans_keep_a_compound_both_whole_and_on_its_head():
    # "a duffel bag ." : the corpus marks such compounds now whole, now on the head word
    p = np.array([[1.0, 0.0, 0.0], [0.6, 0.4, 0.0], [0.05, 0.5, 0.45], [1.0, 0.0, 0.0]])
    scores = dict(span_scores(p, max_len=4))
    assert scores[(2, 3)] == pytest.approx(0.5)  # B at "bag", the next word not I
    assert scores[(1, 3)] == pytest.approx(0.4 * 0.45)  # B at "duffel", I at "bag"
    assert scores[(1, 2)] == pytest.approx(0.4 * 0.55)  # "duffel" alone: "bag" not I
    assert (0, 5) not in scores and len(scores) == 4 + 3 + 2 + 1
    assert [s for s, _ in decode_spans(p, 2)] == [(1, 2), (2, 3)]  # greedy: never "duffel bag"
    got = decode_scored_spans(p, 3)
    assert [s for s, _ in got] == [(1, 2), (1, 3), (2, 3)]  # text order, overlaps kept
    assert [s for s, _ in decode_scored_spans(p, 4, max_len=1)] == [(0, 1), (1, 2), (2, 3),
                                                                    (3, 4)]  # fmt: skip
    assert len(decode_scored_spans(p, 10, floor=0.3)) == 2  # past two, none under the floor


def test_a_tagger_decodes_by_its_setting(tagger):
    p = tagger.probs([["the", "engine", "caused", "a", "storm", "near", "the", "barn", "."]])[0]
    greedy = tagger.with_params(replace(tagger.params, decoding="greedy"))
    assert tagger.params.decoding == "spans"  # the default of a tagger trained now
    assert tagger.decode(p, 3) == decode_scored_spans(p, 3, tagger.params.floor)
    assert greedy.decode(p, 3) == decode_spans(p, 3, tagger.params.floor)
    with pytest.raises(ValueError, match="tagger.decoding must be one of greedy, spans"):
        TaggerParams(decoding="viterbi")


def test_redecoding_keeps_the_weights_and_chooses_top_on_dev_again(tagger, tmp_path, capsys):
    dev = corpus(30, 2)
    again = redecode(tagger, {"decoding": "greedy", "recall_gap": 0.0}, dev)
    assert again.network is tagger.network and again.params.decoding == "greedy"
    assert tagger.params.decoding == "spans" and "decoded_before" not in tagger.info
    recall = measure(again, dev).pair_recall
    assert again.info["dev_pair_recall"] == recall and again.info["top"] == choose_top(recall, 0)
    assert again.info["decoded_before"][0]["params"]["decoding"] == "spans"
    with pytest.raises(ValueError, match="tagger.hidden changes what the tagger learned"):
        redecode(tagger, {"hidden": 4}, dev)
    # the command: the tagger's own dev split, decoding settings only
    tagger.info["data"] = {"dev_fraction": 0.25, "dev_seed": 0}
    tagger.save(tmp_path / "t")
    write_semeval(corpus(40, 2), tmp_path / "train.txt")
    base = ["train-tagger", "--from", str(tmp_path / "t"), "--out", str(tmp_path / "u"),
            "--set", "data.train=" + str(tmp_path / "train.txt")]  # fmt: skip
    assert main([*base, "--set", "data.dev_fraction=0.25", "--set", "tagger.decoding=greedy"]) == 0
    assert Tagger.load(tmp_path / "u").params.decoding == "greedy"
    capsys.readouterr()
    assert main([*base, "--set", "data.dev_fraction=0.5", "--set", "tagger.decoding=spans"]) == 2
    assert "sentences it trained on" in capsys.readouterr().err
    assert main([*base, "--set", "data.dev_fraction=0.25", "--set", "tagger.lr=0.1"]) == 2
    assert "tagger.lr changes what the tagger learned" in capsys.readouterr().err


def test_the_count_kept_is_the_fewest_near_the_best_recall():
    assert choose_top({2: 50.0, 3: 80.0, 4: 89.0, 5: 90.0}, gap=2.0) == 4
    assert choose_top({2: 50.0, 3: 80.0}, gap=0.0) == 3


def test_it_learns_the_marked_pair_from_context(tagger):
    unseen = corpus(30, 7)
    figures = measure(tagger, unseen)
    assert figures.span_f1 >= 90.0  # a context rule; random tags score about 20
    assert figures.pair_recall[2] >= 90.0
    assert tagger.info["epoch"] >= 1 and 2 <= tagger.top <= 10


def test_saved_and_loaded_it_answers_the_same(tagger, tmp_path):
    tagger.save(tmp_path)
    again = Tagger.load(tmp_path)
    sentences = [ex.tokens for ex in corpus(6, 9)]
    for a, b in zip(tagger.probs(sentences), again.probs(sentences), strict=True):
        np.testing.assert_array_equal(a, b)
    assert again.top == tagger.top and again.params == tagger.params


def test_a_tagger_saved_before_its_decoding_setting_decodes_greedily(tagger, tmp_path):
    tagger.save(tmp_path)
    meta = json.loads((tmp_path / "tagger.json").read_text())
    del meta["params"]["decoding"], meta["params"]["max_span"]
    (tmp_path / "tagger.json").write_text(json.dumps(meta))
    assert Tagger.load(tmp_path).params.decoding == "greedy"


def test_a_broken_tagger_folder_is_one_line(tmp_path):
    write(tmp_path, "tagger.json", '{"format": 1, "params": {"hiden": 3}}')
    with pytest.raises(AnrcInputError, match=r"tagger.json: not a saved mention tagger"):
        Tagger.load(tmp_path)


def test_the_tagger_source_needs_a_tagger_and_auto_falls_back_to_words(tagger):
    assert source_choices()[0] == "auto" and "tagger" in source_choices()
    with pytest.raises(AnrcInputError, match="needs a tagger"):
        make_source("tagger")
    assert type(make_source("auto")).__name__ == "ContentWords"
    words = "the engine caused a storm near the barn .".split()  # noqa: SIM905
    spans = make_source("auto", tagger, top=2).spans(words)
    assert spans == [(1, 2), (4, 5)]


def test_a_model_extracts_with_its_own_tagger_or_one_given(tagger, tmp_path):
    model, feat, labels, _, cfg = tiny("cnn")
    run = tmp_path / "run"
    TrainedModel(cfg, model, feat, labels, word_dim(cfg)).save(run)
    text = "the engine caused a storm near the barn ."
    assert RelationClassifier(TrainedModel.load(run), folder=run).tagger is None
    tagger.save(tmp_path / "t")
    (run / "extract.json").write_text(json.dumps({"tagger": str(tmp_path / "t")}))
    assert model_tagger(run) == tmp_path / "t"
    clf = RelationClassifier(TrainedModel.load(run), folder=run)
    got = clf.extract(text, mentions=2, decoding="sentence", with_negative=True)
    assert [m.text for m in got.mentions] == ["engine", "storm"] and got.pairs == 2
    assert clf.extract(text, source="words").pairs > got.pairs


def test_train_tagger_command_writes_a_loadable_tagger(tmp_path, capsys):
    write_semeval(corpus(60, 4), tmp_path / "train.txt")
    out = tmp_path / "tagger"
    sets = ["data.train=" + str(tmp_path / "train.txt"), "data.dev_fraction=0.25",
            "tagger.epochs=2", "tagger.hidden=8", "tagger.layers=1"]  # fmt: skip
    args = [a for s in sets for a in ("--set", s)]
    assert main(["train-tagger", "--vectors", "none", "--out", str(out), *args]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert Tagger.load(out).info["top"] == printed["top"]
    assert main(["train-tagger", "--out", str(out), "--set", "tagger.top=1"]) == 2
    assert "tagger.top must be 0" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["semeval-fast"])
def test_a_shipped_model_extracts_with_the_shipped_tagger(name):
    clf = load(name, form="fp32")
    assert clf.tagger is not None and clf.tagger.top >= 2
    got = clf.extract("The singer caused a commotion in the hall.", decoding="sentence")
    assert 2 <= len(got.mentions) <= clf.tagger.top and got.pairs >= 1
    assert [m.text for m in got.mentions] != ["The", "singer", "caused"]  # not every word


def test_body_vectors_are_each_words_mean_over_its_pieces():
    import torch
    from helpers import tiny_pretrained

    from anrc.extraction.context import BodyFeatures

    body = BodyFeatures(tiny_pretrained())
    words = ["the", "singer", "zzqx", "caused", "a", "commotion", "."]
    (got,) = body([words])
    assert got.shape == (len(words), body.dim)
    enc = body.tokenizer.encode(words, is_pretokenized=True, add_special_tokens=True)
    with torch.no_grad():
        hidden = body.body(input_ids=torch.tensor([enc.ids])).last_hidden_state[0]
    for w in range(len(words)):
        pieces = [j for j, owner in enumerate(enc.word_ids) if owner == w]
        np.testing.assert_allclose(got[w], hidden[pieces].mean(0).numpy(), atol=1e-5)
    short = BodyFeatures(tiny_pretrained(), max_length=4)  # [CLS], two pieces, [SEP]
    (cut,) = short([words])
    assert np.any(cut[0]) and not np.any(cut[3:])  # words past the budget: zeros


def test_a_tagger_over_a_frozen_body_learns_saves_and_loads(tmp_path):
    from dataclasses import replace

    from helpers import tiny_pretrained

    params = replace(SMALL, body=tiny_pretrained())
    tagger = train_tagger(params, corpus(90, 1), corpus(30, 2), vectors=None)
    assert tagger.network.context_dim == 16
    assert measure(tagger, corpus(30, 7)).span_f1 >= 90.0
    tagger.save(tmp_path)
    again = Tagger.load(tmp_path)
    sentences = [ex.tokens for ex in corpus(6, 9)]
    for a, b in zip(tagger.probs(sentences), again.probs(sentences), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)
    meta = json.loads((tmp_path / "tagger.json").read_text())
    meta["params"]["body"] = str(tmp_path / "no-such-body")
    (tmp_path / "tagger.json").write_text(json.dumps(meta))
    with pytest.raises(AnrcInputError, match="the mention tagger's body: tagger.body"):
        Tagger.load(tmp_path).probs(sentences)
