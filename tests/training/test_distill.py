"""Distillation from trained runs (``train.teacher``): the loss, the teacher's targets, a run."""

import json
import shutil

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import grouped_vectors, tiny, word_dim, write_vectors
from test_reliability import tiny_overrides

from anrc.builder import load_config
from anrc.data.labels import LabelSet
from anrc.errors import AnrcInputError
from anrc.models.trained import TrainedModel
from anrc.training.distill import teacher_probs, transfer_set
from anrc.training.loop import train
from anrc.training.loss import Distillation, Loss
from anrc.training.setup import prepare


class Fixed(Loss):
    """An inner loss of a given value (the head's loss, already computed)."""

    def __init__(self, value):
        self.value = value

    def __call__(self, logits, batch):
        return self.value


def mix(weight, temperature, hard, logits, soft):
    """The distilled loss of one batch whose teacher targets are ``soft`` (B, C)."""
    loss = Distillation(Fixed(hard), soft.numpy(), weight, temperature)
    return loss.at(list(range(len(soft))))(logits, None)


def test_weight_zero_is_the_hard_loss_and_one_hot_targets_at_t1_are_cross_entropy():
    torch.manual_seed(0)
    logits, y = torch.randn(5, 4), torch.tensor([0, 3, 1, 1, 2])
    hard = F.cross_entropy(logits, y)
    assert torch.equal(mix(0.0, 2.0, hard, logits, torch.full((5, 4), 0.25)), hard)
    one_hot = F.one_hot(y, 4).float()
    torch.testing.assert_close(mix(0.7, 1.0, hard, logits, one_hot), hard)


def test_soft_term_pulls_the_student_towards_the_teacher():
    logits = torch.zeros(1, 3, requires_grad=True)
    soft = torch.tensor([[0.1, 0.8, 0.1]])
    mix(1.0, 2.0, torch.zeros(()), logits, soft).backward()
    assert logits.grad[0, 1] < 0 < logits.grad[0, 0]  # descent raises the teacher's class


@pytest.fixture(scope="module")
def teacher_run(tmp_path_factory):
    model, feat, labels, exs, cfg = tiny("cnn")
    out = tmp_path_factory.mktemp("teacher")
    TrainedModel(cfg, model.eval(), feat, labels, word_dim(cfg)).save(out)
    return out, model, feat, labels, exs


def test_teacher_targets_follow_the_students_label_order_and_temperature(teacher_run):
    from anrc.inference.predict import predict_probs

    out, model, feat, labels, exs = teacher_run
    from anrc.models.trained import TrainedModel

    own, _ = predict_probs(TrainedModel.load(out), exs)
    first, *rest = labels.labels  # the negative class stays first
    flipped = LabelSet((first, *reversed(rest)), labels.negative)
    soft = teacher_probs(str(out), exs, flipped, 1.0)
    order = [0, *range(len(rest), 0, -1)]
    np.testing.assert_allclose(soft, own[:, order], rtol=1e-5, atol=1e-6)
    hot = teacher_probs(f"{out},{out}", exs, labels, 4.0)  # a mean of two, then T = 4
    expect = own ** (1 / 4) / (own ** (1 / 4)).sum(1, keepdims=True)
    np.testing.assert_allclose(hot, expect, rtol=1e-4, atol=1e-6)
    assert (hot.max(1) <= own.max(1) + 1e-6).all()  # softer


def test_teacher_predictions_are_cached(teacher_run, tmp_path, monkeypatch):
    out, model, feat, labels, exs = teacher_run
    monkeypatch.setenv("ANRC_CACHE", str(tmp_path))
    first = teacher_probs(str(out), exs, labels, 2.0)
    assert len(list(tmp_path.glob("teacher-*.npy"))) == 1

    def no_predicting(*a, **k):
        raise AssertionError("predicted again")

    monkeypatch.setattr("anrc.training.distill.predict_probs", no_predicting)
    np.testing.assert_array_equal(teacher_probs(str(out), exs, labels, 2.0), first)
    with pytest.raises(AssertionError, match="predicted again"):  # other sentences: a new key
        teacher_probs(str(out), exs[:2], labels, 2.0)


def test_a_teacher_with_other_labels_or_no_run_is_a_clear_error(teacher_run, tmp_path):
    out, model, feat, labels, exs = teacher_run
    other = LabelSet(("Other", "Cause-Effect(e1,e2)"), "Other")
    with pytest.raises(AnrcInputError, match="other labels"):
        teacher_probs(str(out), exs, other, 2.0)
    with pytest.raises(AnrcInputError, match="train.teacher: .*not a run directory"):
        teacher_probs(str(tmp_path / "none"), exs, labels, 2.0)


def _overrides(data_dir, **extra):
    return tiny_overrides(data_dir, **{"train.max_epochs": "2", **extra})


def test_a_student_trains_on_its_teacher(tmp_path, data_dir, capsys):
    teacher = tmp_path / "teacher"
    train(load_config("configs/anrc.toml", _overrides(data_dir)), teacher)
    plain = tmp_path / "plain"
    train(load_config("configs/anrc.toml", _overrides(data_dir, **{"train.seed": "2"})), plain)
    student = tmp_path / "student"
    extra = {"train.seed": "2", "train.teacher": str(teacher), "adversarial.method": "fgm"}
    summary = train(load_config("configs/anrc.toml", _overrides(data_dir, **extra)), student)
    assert summary["selected_epoch"] >= 1 and (student / "model.safetensors").is_file()

    def losses(run):
        return [
            json.loads(r)["train_loss"] for r in (run / "metrics.jsonl").read_text().splitlines()
        ]

    assert losses(student) != losses(plain)  # the soft term is in the objective
    assert "distilled from 1 run(s) (w 0.5, T 2)" in capsys.readouterr().err
    cfg = load_config(str(student / "config.toml"))
    assert cfg.train.teacher == str(teacher)


def test_transfer_copies_swap_only_changeable_words_for_neighbours_and_keep_the_entities():
    from anrc.attacks.word import candidate_positions

    _, _, _, exs, _ = tiny("cnn")
    words = sorted({t.lower() for ex in exs for t in ex.tokens if t.isalpha()})
    vectors = grouped_vectors(words)
    copies = transfer_set(exs, vectors, copies=3, swap=0.2)
    assert copies == transfer_set(exs, vectors, copies=3, swap=0.2)  # one set for every seed
    by_id = {ex.id: ex for ex in exs}
    assert copies and len(copies) <= 3 * len(exs)
    for c in copies:
        ex = by_id[c.id.rsplit("~", 1)[0]]
        changed = [i for i, (a, b) in enumerate(zip(ex.tokens, c.tokens, strict=True)) if a != b]
        assert 1 <= len(changed) <= max(1, round(0.2 * len(ex.tokens)))
        assert set(changed) <= set(candidate_positions(ex))  # never an entity or a stop word
        assert (c.e1, c.e2, c.label) == (ex.e1, ex.e2, None)
        for i in changed:
            assert words.index(c.tokens[i].lower()) % 8 == words.index(ex.tokens[i].lower()) % 8


def _vectors_file(data_dir, path):
    from anrc.data.formats import read

    exs = read(data_dir / "TRAIN_FILE.TXT").examples[:320]
    return write_vectors(
        grouped_vectors(sorted({t.lower() for ex in exs for t in ex.tokens})), path
    )


def test_a_student_trains_on_a_transfer_set_labelled_by_its_teacher(tmp_path, data_dir, capsys):
    vectors = {"data.embeddings": str(_vectors_file(data_dir, tmp_path / "vectors.txt"))}
    extra = {**vectors, "encoder.word_dim": "8"}
    teacher = tmp_path / "teacher"
    train(load_config("configs/anrc.toml", _overrides(data_dir, **extra)), teacher)
    student = tmp_path / "student"
    extra |= {"train.teacher": str(teacher), "train.transfer_copies": "2"}
    summary = train(load_config("configs/anrc.toml", _overrides(data_dir, **extra)), student)
    assert summary["train_examples"] == 320 - summary["dev_examples"]
    assert 0 < summary["transfer_examples"] <= 2 * summary["train_examples"]
    err = capsys.readouterr().err
    assert f"transfer set: {summary['transfer_examples']} copies" in err
    assert "transfer set 2 copies swapping 0.2 of the words" in err
    st = prepare(load_config("configs/anrc.toml", _overrides(data_dir, **extra)))
    copies = st.train[st.originals :]
    assert len(copies) == summary["transfer_examples"] and all("~" in ex.id for ex in copies)
    teacher_says = [st.labels.labels[i] for i in st.loss.soft[st.originals :].argmax(axis=1)]
    assert [ex.label for ex in copies] == teacher_says  # a copy's label is the teacher's


def test_a_transfer_set_needs_a_teacher_and_word_vectors(tmp_path, data_dir):
    with pytest.raises(ValueError, match="transfer_copies needs train.teacher"):
        load_config("configs/anrc.toml", _overrides(data_dir, **{"train.transfer_copies": "2"}))
    teacher = tmp_path / "teacher"
    train(load_config("configs/anrc.toml", _overrides(data_dir)), teacher)
    extra = {"train.teacher": str(teacher), "train.transfer_copies": "2"}
    with pytest.raises(AnrcInputError, match="needs word vectors"):
        train(load_config("configs/anrc.toml", _overrides(data_dir, **extra)), tmp_path / "s")
    (teacher / "model.safetensors").unlink()  # its stored answers cannot label new sentences
    with pytest.raises(AnrcInputError, match=f"the teacher {teacher} answers only for the sen"):
        train(load_config("configs/anrc.toml", _overrides(data_dir, **extra)), tmp_path / "s")


def test_a_predictions_file_teaches_like_its_run(teacher_run, tmp_path, capsys):
    """A teacher given as `anrc predict --json` output of the training sentences (as a
    lent GPU machine brings one back) gives the targets its run gives; a sentence it
    lacks, or a line that is no prediction, is a one-line error naming the file."""
    import gzip

    from anrc.cli import main

    out, model, feat, labels, exs = teacher_run
    from anrc.data.formats import write_semeval

    write_semeval(exs, tmp_path / "train.semeval")  # its ID<TAB>"sentence" lines, as run.sh
    text = (tmp_path / "train.semeval").read_text().splitlines()
    lines = tmp_path / "train.txt"
    lines.write_text("".join(f"{ln}\n" for ln in text if ln.split("\t")[0].isdigit()))
    preds = tmp_path / "teacher.jsonl"
    assert main(["predict", str(out), "--input", str(lines), "--json", "--output", str(preds)]) == 0
    with open(preds, "rb") as f, gzip.open(tmp_path / "teacher.jsonl.gz", "wb") as g:
        g.write(f.read())
    want = teacher_probs(str(out), exs, labels, 2.0)
    for path in (preds, tmp_path / "teacher.jsonl.gz"):
        np.testing.assert_allclose(teacher_probs(str(path), exs, labels, 2.0), want, atol=1e-6)
    extra = exs[0].__class__("new-1", list(exs[0].tokens), exs[0].e1, exs[0].e2)
    with pytest.raises(AnrcInputError, match="no prediction of training sentence new-1"):
        teacher_probs(str(preds), [*exs, extra], labels, 2.0)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "1", "scores": {}}\nnot json\n')
    with pytest.raises(AnrcInputError, match=r"bad.jsonl:1: not a prediction record"):
        teacher_probs(str(bad), exs, labels, 2.0)


def test_drawn_negatives_are_not_asked_of_the_teacher(tmp_path, data_dir):
    """A teacher never taught that an unannotated pair is no relation would call it one:
    a drawn negative's target is its label, and no transfer copy is made of it."""
    from anrc.data.candidates import drawn_negative

    vectors = {"data.embeddings": str(_vectors_file(data_dir, tmp_path / "vectors.txt"))}
    extra = {**vectors, "encoder.word_dim": "8"}
    teacher = tmp_path / "teacher"
    train(load_config("configs/anrc.toml", _overrides(data_dir, **extra)), teacher)
    extra |= {"train.teacher": str(teacher), "train.transfer_copies": "1", "data.negatives": "2"}
    st = prepare(load_config("configs/anrc.toml", _overrides(data_dir, **extra)))
    drawn = [i for i, ex in enumerate(st.train) if drawn_negative(ex)]
    assert drawn and max(drawn) < st.originals  # negatives drawn, none of them copied
    other = st.labels.index("Other")
    np.testing.assert_array_equal(st.loss.soft[drawn].argmax(axis=1), other)
    assert (st.loss.soft[drawn].max(axis=1) == 1.0).all()  # one-hot: the label, not the teacher
    asked = [i for i in range(len(st.train)) if i not in set(drawn)]
    assert (st.loss.soft[asked].max(axis=1) < 1.0).all()  # the teacher's own distributions
    assert not any(ex.id.split("~")[1].startswith("neg") for ex in st.train[st.originals :])


def test_a_run_kept_only_in_its_grids_archive_teaches(tmp_path, data_dir, capsys):
    """A fresh clone holds a committed grid's runs in OUT/runs.tar.xz alone: naming one of
    them as the teacher extracts it (its stored probabilities, no weights) and trains."""
    from anrc.cli import main
    from anrc.data import read
    from anrc.experiments.archive import pack
    from anrc.inference.predict import predict_probs
    from anrc.inference.stored import STORED, write_stored

    grid = tmp_path / "grid"
    teacher = grid / "runs/big/epsilon=0.4/seed1"
    train(load_config("configs/anrc.toml", _overrides(data_dir)), teacher)
    run = TrainedModel.load(teacher)
    source = str(data_dir / "TRAIN_FILE.TXT")
    exs = read(source).examples[:320]
    write_stored(teacher / STORED, run.labels, {"train": (source, exs, predict_probs(run, exs)[0])})
    pack(grid)
    shutil.rmtree(grid / "runs")
    args = ["train", "--config", "configs/anrc.toml", "--out", str(tmp_path / "student")]
    for item in _overrides(data_dir, **{"train.seed": "2", "train.teacher": str(teacher)}):
        args += ["--set", item]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert f"teacher {teacher}: extracted from its grid's archive" in err
    assert "distilled from 1 run(s)" in err
    assert (teacher / STORED).is_file() and not (teacher / "model.safetensors").exists()
    assert main(args[:-2] + ["--set", f"train.teacher={grid}/runs/none/seed1", "--force"]) == 2
