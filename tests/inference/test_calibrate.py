"""Calibration stored with a model: fitted on held-out data, applied to its answers,
the fitted threshold the default of extraction; the command on a tiny model."""

import json

import numpy as np
import pytest
from helpers import tiny, word_dim

from anrc.cli import main
from anrc.data.formats import write_semeval
from anrc.data.labels import LabelSet
from anrc.errors import AnrcInputError
from anrc.inference.api import RelationClassifier
from anrc.inference.calibrate import Calibration, decide, fit
from anrc.models.trained import TrainedModel

LABELS = LabelSet(("Other", "A(e1,e2)", "A(e2,e1)"))


def overconfident(n: int, seed: int) -> tuple[np.ndarray, list[str]]:
    """Predictions 99% sure of a label that is right 70% of the time."""
    rng = np.random.default_rng(seed)
    gold = rng.integers(0, 3, n)
    pred = np.where(rng.random(n) < 0.7, gold, (gold + 1) % 3)
    probs = np.full((n, 3), 0.005)
    probs[np.arange(n), pred] = 0.99
    return probs, [LABELS.labels[k] for k in gold]


def test_an_overconfident_model_is_cooled_and_its_ece_falls():
    probs, gold = overconfident(600, 1)
    cal = fit(probs, gold, LABELS, "test data")
    assert cal.temperature > 1.5
    assert cal.ece_before > 0.2 and cal.ece_after < 0.05
    after = cal.apply(probs)
    assert (after.argmax(1) == probs.argmax(1)).all()  # labels unchanged
    assert cal.threshold in [float(k) for k in cal.f1_at_threshold]


def test_the_threshold_sends_unsure_relations_to_the_negative_class():
    probs = np.array([[0.2, 0.7, 0.1], [0.5, 0.3, 0.2]])
    assert decide(probs, LABELS, 0.5) == ["A(e1,e2)", "Other"]
    assert decide(probs, LABELS, 0.25) == ["A(e1,e2)", "A(e1,e2)"]


def test_saved_loaded_and_a_broken_file_is_one_line(tmp_path):
    cal = fit(*overconfident(200, 2), LABELS, "x")
    cal.save(tmp_path)
    assert Calibration.load(tmp_path) == cal
    assert Calibration.load(tmp_path / "none") is None
    (tmp_path / "calibration.json").write_text(json.dumps({"temperature": -1}))
    with pytest.raises(AnrcInputError, match="calibration.json: not a calibration"):
        Calibration.load(tmp_path)


@pytest.fixture
def run(tmp_path):
    model, feat, labels, exs, cfg = tiny("cnn")
    TrainedModel(cfg, model, feat, labels, word_dim(cfg)).save(tmp_path / "run")
    write_semeval(exs, tmp_path / "held.txt")
    return tmp_path / "run", tmp_path / "held.txt", exs


def test_a_calibrated_model_answers_with_its_temperature_and_threshold(run):
    folder, _, exs = run
    plain = RelationClassifier(TrainedModel.load(folder), folder=folder)
    before, _ = plain.probs(exs)
    Calibration(2.0, 0.85, "x", len(exs), 0.1, 0.05).save(folder)
    clf = RelationClassifier(TrainedModel.load(folder), folder=folder)
    after, _ = clf.probs(exs)
    np.testing.assert_allclose(after, clf.calibration.apply(before), rtol=1e-5)
    assert (after.argmax(1) == before.argmax(1)).all()
    np.testing.assert_array_equal(clf.raw_probs(exs), before)
    text = "The singer caused a commotion in the hall ."
    low = clf.extract(text, threshold=0.0, source="words")
    default = clf.extract(text, source="words")
    assert all(r.score >= 0.85 for r in default.relations)
    assert len(default.relations) <= len(low.relations)


def test_the_command_fits_on_held_out_data_and_writes_a_report(run, tmp_path, capsys):
    folder, held, _ = run
    args = ["calibrate", str(folder), "--data", str(held), "--report", str(tmp_path / "rep")]
    assert main(args) == 0
    printed = json.loads(capsys.readouterr().out)
    assert Calibration.load(folder).temperature == pytest.approx(printed["temperature"], abs=1e-4)
    report = (tmp_path / "rep" / "report.md").read_text()
    assert "Reliability after" in report and "![reliability diagram](reliability.png)" in report
    assert (tmp_path / "rep" / "reliability.png").stat().st_size > 5000  # a drawn diagram


def test_a_model_without_held_out_data_is_fitted_on_a_siblings(run, tmp_path, capsys):
    """--from RUN: fitted on RUN's held-out sentences with RUN's answers, stored with the
    model (a shipped model keeps no dev split; its recipe's sibling did)."""
    folder, held, exs = run
    model, feat, labels, _, cfg = tiny("att-blstm")
    TrainedModel(cfg, model, feat, labels, word_dim(cfg)).save(tmp_path / "sibling")
    sibling = RelationClassifier(TrainedModel.load(tmp_path / "sibling"))
    want = fit(sibling.raw_probs(exs), [ex.label for ex in exs], sibling.labels, "x")
    args = ["calibrate", str(folder), "--from", str(tmp_path / "sibling"), "--data", str(held)]
    assert main(args) == 0
    got = Calibration.load(folder)
    assert got.temperature == pytest.approx(want.temperature)
    assert got.threshold == want.threshold and "sibling, with its answers (--from)" in got.fitted_on
    own = fit(RelationClassifier(TrainedModel.load(folder)).raw_probs(exs),
              [ex.label for ex in exs], labels, "x")  # fmt: skip
    assert own.temperature != pytest.approx(want.temperature)  # not the model's own answers
