"""Candidates at the data layer, and the negatives training draws from them."""

import pytest

from anrc.config import DataConfig
from anrc.data.candidates import candidate_pairs, negatives, word_mentions
from anrc.data.examples import Example
from anrc.data.splits import load_training_data
from anrc.errors import AnrcInputError

EX = Example("7", ["The", "singer", "caused", "a", "big", "commotion", "in", "the", "hall"],
             (1, 2), (5, 6), "Cause-Effect(e1,e2)")  # fmt: skip


def test_negatives_are_unannotated_candidate_pairs_labelled_negative():
    got = negatives([EX], 4, 15, "Other", seed=0)
    assert len(got) == 4 and len({g.id for g in got}) == 4
    pool = candidate_pairs(word_mentions(EX.tokens), 15)
    for g in got:
        assert g.label == "Other" and g.tokens == EX.tokens and g.id.startswith("7~neg")
        assert (g.e1, g.e2) in pool
        assert {g.e1, g.e2} != {EX.e1, EX.e2}  # never the annotated pair, in either order


def test_negatives_are_the_same_for_the_same_seed_and_capped_by_the_pool():
    assert negatives([EX], 3, 15, "Other", 0) == negatives([EX], 3, 15, "Other", 0)
    assert negatives([EX], 3, 15, "Other", 0) != negatives([EX], 3, 15, "Other", 1)
    # singer, caused, big, commotion, hall: 10 unordered pairs, 20 ordered, minus the gold 2
    assert len(negatives([EX], 100, 0, "Other", 0)) == 18


def _write(tmp_path, label_of_second="Other"):
    path = tmp_path / "train.txt"
    path.write_text(
        '1\t"The <e1>singer</e1> caused a big <e2>commotion</e2> in the hall."\n'
        "Cause-Effect(e1,e2)\nComment:\n\n"
        f'2\t"A <e1>dog</e1> chased the <e2>ball</e2> across the green field."\n'
        f"{label_of_second}\nComment:\n\n"
    )
    return str(path)


def test_load_training_data_adds_them_to_train_only(tmp_path):
    cfg = DataConfig(train=_write(tmp_path), test="", dev_fraction=0.0, negatives=2)
    train, dev, _ = load_training_data(cfg)
    assert len(train) == 2 + 4 and dev == []
    assert sum(ex.label == "Other" for ex in train) == 1 + 4


def test_a_corpus_without_the_negative_class_is_refused_in_one_line(tmp_path):
    cfg = DataConfig(train=_write(tmp_path, "Product-Producer(e1,e2)"), test="",
                     dev_fraction=0.0, negatives=2)  # fmt: skip
    with pytest.raises(AnrcInputError, match="no negative class 'Other'"):
        load_training_data(cfg)
    with pytest.raises(ValueError, match="data.negatives"):
        DataConfig(negatives=-1)
