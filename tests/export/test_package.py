"""anrc package: a run as a named model folder whose card is computed from its files."""

import json
import re
from pathlib import Path

import pytest
from helpers import examples, tiny, word_dim

import anrc
from anrc.cli import main
from anrc.data.answers import read_answers
from anrc.data.formats import write_semeval
from anrc.metrics.scorer import score
from anrc.models.trained import TrainedModel


@pytest.fixture
def trained(tmp_path):
    """A saved tiny run with a training summary, and a labelled test file for it."""
    model, feat, labels, exs, cfg = tiny("att-blstm", "tags")
    run = tmp_path / "run"
    TrainedModel(cfg, model.eval(), feat, labels, word_dim(cfg)).save(run)
    summary = {"selected_epoch": 3, "epochs_run": 5, "train_examples": 4, "dev_examples": 2}
    summary["dev_f1"] = 50.0
    (run / "scores.json").write_text(json.dumps({"summary": summary}))
    (run / "metrics.jsonl").write_text('{"epoch": 1}\n')
    test = tmp_path / "test.txt"
    write_semeval(examples(), test)
    return run, test


def test_a_packaged_model_loads_and_its_card_reads_its_own_files(trained, tmp_path):
    run, test = trained
    about = tmp_path / "about.toml"
    about.write_text('chosen = "Chosen on dev."\nlimits = ["Tiny."]\n')
    out = tmp_path / "tiny-model"
    rc = main(["package", str(run), "--name", "tiny", "--out", str(out), "--data", str(test),
               "--weights", "int8", "--about", str(about)])  # fmt: skip
    assert rc == 0
    clf = anrc.load(out)
    key = {ex.id: ex.label for ex in examples()}
    preds, _ = read_answers(out / "test_predictions.txt")
    assert preds == dict(zip(key, clf.predict_labels(examples()), strict=True))
    card = (out / "MODEL_CARD.md").read_text()
    figure = float(re.search(r"directions counted\): \*\*([0-9.]+)\*\*", card).group(1))
    assert figure == pytest.approx(score(key, preds).official_f1, abs=0.005)
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["weights"] == "int8" and prov["agreement"]["total"] == len(key)
    assert f"on {prov['agreement']['same']:,} of {len(key)} test sentences" in card
    assert "Chosen on dev." in card and "- Tiny." in card and "epoch 3 selected" in card
    assert f"{(out / 'model.safetensors').stat().st_size / 1e6:.1f} MB of weights" in card
    assert (out / "metrics.jsonl").read_text() == '{"epoch": 1}\n'


def test_packaging_refuses_to_overwrite_and_leaves_nothing_when_it_fails(trained, tmp_path, capsys):
    run, test = trained
    out = tmp_path / "m"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["package", str(run), "--name", "m", "--out", str(out), "--data", str(test)]) == 2
    assert "exists and is not empty (--force replaces it)" in capsys.readouterr().err
    assert (out / "keep.txt").read_text() == "mine"
    bad = tmp_path / "bad.txt"
    bad.write_text('1\t"no entities here"\nOther\n\n')
    fresh = tmp_path / "fresh"
    assert main(["package", str(run), "--name", "f", "--out", str(fresh), "--data", str(bad)]) == 2
    assert "bad.txt" in capsys.readouterr().err
    assert not fresh.exists() and not list(tmp_path.glob("*.packaging"))


def test_an_about_file_with_an_unknown_key_is_one_line(trained, tmp_path, capsys):
    run, test = trained
    about = tmp_path / "about.toml"
    about.write_text('choosen = "x"\n')
    args = ["package", str(run), "--name", "m", "--data", str(test), "--about", str(about)]
    assert main([*args, "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err.strip()
    assert "about.toml" in err and "did you mean chosen?" in err and "\n" not in err


def test_a_package_carries_calibration_and_the_tagger(trained, tmp_path):
    run, test = trained
    (run / "calibration.json").write_text(
        json.dumps(
            {
                "temperature": 2.0,
                "threshold": 0.7,
                "fitted_on": "dev",
                "sentences": 3,
                "ece_before": 0.2,
                "ece_after": 0.1,
            }
        )  # fmt: skip
    )
    base = ["package", str(run), "--name", "t", "--data", str(test), "--weights", "fp32"]
    assert main([*base, "--out", str(tmp_path / "a"), "--tagger", "semeval"]) == 0
    a = anrc.load(tmp_path / "a")
    assert a.calibration.temperature == 2.0 and a.tagger is not None
    assert json.loads((tmp_path / "a" / "extract.json").read_text()) == {"tagger": "semeval"}
    assert (
        main([*base, "--out", str(tmp_path / "b"), "--tagger", str(tmp_path / "a" / "missing")])
        == 2
    )
    shipped = Path(anrc.__file__).parent / "pretrained" / "taggers" / "semeval"
    assert main([*base, "--out", str(tmp_path / "c"), "--tagger", str(shipped)]) == 0
    assert (tmp_path / "c" / "tagger" / "tagger.safetensors").is_file()
    assert anrc.load(tmp_path / "c").tagger.top == a.tagger.top
