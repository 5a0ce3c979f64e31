"""The model that ships with the package: loads offline by name, and its card's figure
is what the official scorer gives on its committed predictions."""

import re
from pathlib import Path

import pytest

import anrc
from anrc.data import read
from anrc.data.answers import read_answers
from anrc.metrics.scorer import score
from anrc.pretrained import find_model, shipped

README_SENTENCES = {
    "The <e1>singer</e1> caused a <e2>commotion</e2> .": "Cause-Effect(e1,e2)",
    "The <e1>kitchen</e1> is the last renovated part of the <e2>house</e2> .": "Component-Whole(e1,e2)",
}


def test_semeval_ships():
    assert "semeval" in shipped()
    folder = find_model("semeval")
    assert (folder / "MODEL_CARD.md").is_file()
    assert (folder / "model.safetensors").stat().st_size <= 10_000_000


def test_loads_by_name_and_answers():
    model = anrc.load("semeval")
    for sentence, label in README_SENTENCES.items():
        assert model.predict(sentence).label == label
    label, prob = model.infer(
        {"text": "The singer caused a commotion .", "h": {"pos": (4, 10)}, "t": {"pos": (20, 29)}}
    )
    assert label == "Cause-Effect(e1,e2)" and 0 < prob <= 1


def test_card_figure_matches_the_committed_predictions(data_dir):
    folder = find_model("semeval")
    card = (folder / "MODEL_CARD.md").read_text()
    figure = float(re.search(r"directions counted\): \*\*([0-9.]+)\*\*", card).group(1))
    key = {ex.id: ex.label for ex in read(data_dir / "TEST_FILE_FULL.TXT").examples}
    preds, _ = read_answers(Path(folder / "test_predictions.txt"))
    assert len(preds) == len(key) == 2717
    assert score(key, preds).official_f1 == pytest.approx(figure, abs=0.005)


def test_model_reproduces_its_committed_predictions(data_dir):
    """The shipped weights give the committed answers (up to rare near-ties across CPUs)."""
    model = anrc.load("semeval")
    test = read(data_dir / "TEST_FILE_FULL.TXT").examples[:500]
    preds, _ = read_answers(Path(find_model("semeval") / "test_predictions.txt"))
    ours = model.predict_labels(test)
    same = sum(p == preds[ex.id] for ex, p in zip(test, ours, strict=True))
    assert same >= 495


def test_the_python_api_takes_what_predict_takes():
    model = anrc.load("semeval")
    sentences = list(README_SENTENCES)
    assert model.predict_labels(sentences) == list(README_SENTENCES.values())
    assert list(model.labels)[0] == "Other" and "Cause-Effect(e1,e2)" in model.labels
    assert len(list(model.labels)) == len(model.labels) == 19


def test_a_mistyped_name_says_what_ships():
    with pytest.raises(ValueError, match="did you mean semeval"):
        anrc.load("semevall")


def test_the_readme_and_the_card_state_the_computed_size():
    """One figure for the shipped model's size: its weights file in MB (10^6 bytes)."""
    folder = find_model("semeval")
    size = f"{(folder / 'model.safetensors').stat().st_size / 1e6:.1f} MB"
    card = (folder / "MODEL_CARD.md").read_text()
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert f"{size} of weights" in card
    stated = set(re.findall(r"a ([0-9.]+ MB)\s+`entity-lstm`", readme))
    assert stated == {size}
