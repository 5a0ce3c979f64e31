"""Raw text to relations: offsets, directions in words, batching, a real tiny model."""

import json

import numpy as np
import pytest
from helpers import tiny, word_dim

from anrc.data.labels import LabelSet
from anrc.errors import AnrcInputError
from anrc.extraction import Options, extract, extract_many
from anrc.inference.api import RelationClassifier
from anrc.models.trained import TrainedModel

LABELS = LabelSet(("Other", "Cause-Effect(e1,e2)", "Cause-Effect(e2,e1)"))
TEXT = "Intro here.  The singer caused a commotion. Nothing else"


def _fake(examples):
    """Cause-Effect(e1,e2) when e1 is 'singer' and e2 'commotion', else Other."""
    out = np.tile([0.9, 0.05, 0.05], (len(examples), 1))
    for i, ex in enumerate(examples):
        e1, e2 = ex.tokens[ex.e1[0]], ex.tokens[ex.e2[0]]
        if (e1, e2) == ("singer", "commotion"):
            out[i] = [0.1, 0.8, 0.1]
        elif (e1, e2) == ("commotion", "singer"):
            out[i] = [0.3, 0.1, 0.6]
    return out


def test_a_relation_with_offsets_and_its_direction_in_words():
    got = extract(TEXT, _fake, LABELS)
    assert got.sentences == [(0, 11), (13, 43), (44, 56)]
    (r,) = got.relations
    assert (r.label, r.sentence, r.score) == ("Cause-Effect(e1,e2)", 1, pytest.approx(0.8))
    assert TEXT[r.e1.start : r.e1.end] == r.e1.text == "singer"
    assert TEXT[r.e2.start : r.e2.end] == "commotion"
    assert r.reads.startswith("singer") and "commotion" in r.reads
    assert got.pairs == 0 + 6 + 2  # content words: Intro; singer, caused, commotion; Nothing, else
    json.dumps(got.to_json(), allow_nan=False)


def test_options_decide_what_comes_out():
    assert len(extract(TEXT, _fake, LABELS, Options(decoding="threshold")).relations) == 2
    assert extract(TEXT, _fake, LABELS, Options(threshold=0.9)).relations == []
    neg = extract(TEXT, _fake, LABELS, Options(decoding="sentence", with_negative=True))
    assert [r.label for r in neg.relations] == ["Cause-Effect(e1,e2)", "Other"]
    with pytest.raises(ValueError, match="unknown decoding"):
        extract(TEXT, _fake, LABELS, Options(decoding="best"))


def test_many_texts_are_classified_in_one_call_and_split_back():
    calls = []

    def counting(exs):
        calls.append(len(exs))
        return _fake(exs)

    got = extract_many([TEXT, "", "A singer caused commotion ."], counting, LABELS)
    assert len(calls) == 1 and [len(g.relations) for g in got] == [1, 0, 1]


def test_pairs_the_model_cannot_take_are_left_out():
    def check(ex):
        if "caused" in (ex.tokens[ex.e1[0]], ex.tokens[ex.e2[0]]):
            raise AnrcInputError("too long")

    assert extract(TEXT, _fake, LABELS, check=check).pairs == 2 + 2


@pytest.mark.parametrize("encoder", ["cnn", "transformer"])
def test_a_real_model_extracts_through_its_api(encoder, tmp_path):
    model, feat, labels, _, cfg = tiny(
        encoder, markers="punct" if encoder == "transformer" else "none"
    )
    TrainedModel(cfg, model, feat, labels, word_dim(cfg)).save(tmp_path)
    clf = RelationClassifier(TrainedModel.load(tmp_path))
    got = clf.extract(TEXT, decoding="sentence", with_negative=True)
    assert got.pairs == 8 and len(got.relations) == 2  # one pair a sentence that has any
    for r in got.relations:
        assert r.label in labels and 0.0 <= r.score <= 1.0
        assert TEXT[r.e1.start : r.e1.end] == r.e1.text
    assert [g.pairs for g in clf.extract_many([TEXT, "Two words"])] == [8, 2]


def test_the_default_decoding_follows_how_the_model_was_trained(tmp_path):
    """Trained on annotated pairs alone, a model extracts each sentence's best pair by
    default; trained with unannotated pairs as negatives (data.negatives), every pair of
    mentions. What a call asks for wins; a bare extract_many call decodes by pair."""
    from dataclasses import replace

    from anrc.extraction.extract import default_decoding

    assert (default_decoding(0), default_decoding(1), default_decoding(3)) == (
        "sentence", "pair", "pair",
    )  # fmt: skip
    model, feat, labels, _, cfg = tiny("cnn", markers="none")
    clf = RelationClassifier(TrainedModel(cfg, model, feat, labels, word_dim(cfg)))
    assert clf.default_decoding == "sentence" and clf.default_threshold == 0.5
    text = "The singer caused a commotion in the hall . The dog chased a cat ."
    got = clf.extract(text, threshold=0.0)
    assert got == clf.extract(text, threshold=0.0, decoding="sentence")
    assert len(got.relations) == 2  # one a sentence
    assert len(clf.extract(text, threshold=0.0, decoding="pair").relations) > 2
    cfg = replace(cfg, data=replace(cfg.data, negatives=2))
    negatives = RelationClassifier(TrainedModel(cfg, model, feat, labels, word_dim(cfg)))
    assert negatives.default_decoding == "pair"
    assert negatives.extract(text, threshold=0.0) == clf.extract(
        text, threshold=0.0, decoding="pair"
    )
    bare = extract(TEXT, _fake, LABELS, Options(threshold=0.0))
    assert bare == extract(TEXT, _fake, LABELS, Options(threshold=0.0, decoding="pair"))
    assert len(bare.relations) == 4  # every pair of mentions, not one a sentence
