"""The models that ship with the package: each loads offline by name, answers, its card's
figure is what the official scorer gives on its committed predictions, and the README
states its computed figure and size."""

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
#: name -> (encoder, the most its weights file may weigh in MB)
SHIPPED = {"semeval": ("transformer", 35), "semeval-fast": ("att-blstm", 10)}
README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(scope="module", params=sorted(SHIPPED))
def name(request):
    return request.param


@pytest.fixture(scope="module")
def model(name):
    return anrc.load(name)


def test_both_ship_with_a_card_and_within_their_size(name):
    assert sorted(shipped()) == sorted(SHIPPED)
    folder = find_model(name)
    encoder, most = SHIPPED[name]
    assert f'encoder = "{encoder}"' in (folder / "config.toml").read_text()
    assert (folder / "MODEL_CARD.md").is_file() and (folder / "provenance.json").is_file()
    assert (folder / "model.safetensors").stat().st_size <= most * 1e6


def test_loads_by_name_and_answers(model):
    for sentence, label in README_SENTENCES.items():
        assert model.predict(sentence).label == label
    label, prob = model.infer(
        {"text": "The singer caused a commotion .", "h": {"pos": (4, 10)}, "t": {"pos": (20, 29)}}
    )
    assert label == "Cause-Effect(e1,e2)" and 0 < prob <= 1


def _card_figure(name) -> float:
    card = (find_model(name) / "MODEL_CARD.md").read_text()
    return float(re.search(r"directions counted\): \*\*([0-9.]+)\*\*", card).group(1))


def test_card_figure_matches_the_committed_predictions(name, data_dir):
    key = {ex.id: ex.label for ex in read(data_dir / "TEST_FILE_FULL.TXT").examples}
    preds, _ = read_answers(Path(find_model(name) / "test_predictions.txt"))
    assert len(preds) == len(key) == 2717
    assert score(key, preds).official_f1 == pytest.approx(_card_figure(name), abs=0.005)


def test_model_reproduces_its_committed_predictions(name, model, data_dir):
    """The shipped weights give the committed answers (up to rare near-ties across CPUs)."""
    test = read(data_dir / "TEST_FILE_FULL.TXT").examples[:300]
    preds, _ = read_answers(Path(find_model(name) / "test_predictions.txt"))
    ours = model.predict_labels(test)
    same = sum(p == preds[ex.id] for ex, p in zip(test, ours, strict=True))
    assert same >= 296


def test_the_python_api_takes_what_predict_takes(model):
    sentences = list(README_SENTENCES)
    assert model.predict_labels(sentences) == list(README_SENTENCES.values())
    assert list(model.labels)[0] == "Other" and "Cause-Effect(e1,e2)" in model.labels
    assert len(list(model.labels)) == len(model.labels) == 19


def test_a_mistyped_name_says_what_ships():
    with pytest.raises(ValueError, match="did you mean semeval"):
        anrc.load("semevall")


def test_the_readme_states_the_computed_figure_and_size(name):
    """One figure and one size per shipped model: its row in the README's quick-start
    table is its card's F1 and its weights file in MB (10^6 bytes)."""
    folder = find_model(name)
    size = f"{(folder / 'model.safetensors').stat().st_size / 1e6:.1f} MB"
    assert f"{size} of weights" in (folder / "MODEL_CARD.md").read_text()
    row = re.search(rf"^\| `{re.escape(name)}` \|(.*)$", README.read_text(), re.M)
    assert row, f"no README row for {name}"
    cells = [c.strip() for c in row.group(1).split("|")]
    assert f"{_card_figure(name):.2f}" in cells and size in cells


def test_the_committed_card_is_what_its_files_give(name, tmp_path):
    """The card is computed, not edited: written again from the model's own files (and
    its scripts/ship prose), it is the committed one, byte for byte."""
    import shutil

    from anrc.pretrained.card import write_card

    folder = tmp_path / name
    shutil.copytree(find_model(name), folder)
    (folder / "MODEL_CARD.md").unlink()
    write_card(folder)
    assert (folder / "MODEL_CARD.md").read_text() == (
        find_model(name) / "MODEL_CARD.md"
    ).read_text()
