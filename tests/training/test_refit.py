"""train.refit: select the epoch count on dev, retrain on all training data for that long."""

import json

import pytest

from anrc.builder import load_config
from anrc.training.loop import train


def _refit_config(data: list[str], epochs: int):
    """configs/cnn.toml with refit on, ``data`` settings and ``epochs`` at most."""
    short = [f"train.max_epochs={epochs}", "train.patience=0", "train.refit=true"]
    return load_config("configs/cnn.toml", [*data, "data.test=", *short, "train.threads=1"])


def test_refit_trains_on_train_plus_dev_for_the_selected_epochs(tmp_path, data_dir):
    cfg = _refit_config([f"data.train={data_dir / 'TRAIN_FILE.TXT'}", "data.train_limit=600"], 3)
    out = tmp_path / "run"
    summary = train(cfg, out)
    selection = json.loads((out / "selection" / "scores.json").read_text())["summary"]
    epochs = selection["selected_epoch"]
    assert summary["selection"]["selected_epoch"] == epochs
    # All 600 examples, dev included, for exactly the selected number of epochs.
    assert summary["train_examples"] == 600 and summary["dev_examples"] == 0
    assert selection["train_examples"] + selection["dev_examples"] == 600
    rows = (out / "metrics.jsonl").read_text().splitlines()
    assert len(rows) == epochs
    # The run directory keeps the user's config (refit on), not the derived one.
    assert "refit = true" in (out / "config.toml").read_text()
    assert "dev_fraction = 0.1" in (out / "config.toml").read_text()


def test_a_dev_file_selects_and_refit_adds_it_to_training(tmp_path, data_dir, monkeypatch):
    """data.dev: a published dev split (read through $VAR paths) instead of a held-out
    fraction; the refit pass trains on train + that file."""
    from anrc.data import read, write_semeval

    examples = read(data_dir / "TRAIN_FILE.TXT").examples
    write_semeval(examples[:400], tmp_path / "train.txt")
    write_semeval(examples[400:500], tmp_path / "dev.txt")
    monkeypatch.setenv("CORPUS", str(tmp_path))
    cfg = _refit_config(["data.train=${CORPUS}/train.txt", "data.dev=$CORPUS/dev.txt"], 2)
    out = tmp_path / "run"
    summary = train(cfg, out)
    selection = json.loads((out / "selection" / "scores.json").read_text())["summary"]
    assert (selection["train_examples"], selection["dev_examples"]) == (400, 100)
    assert (summary["train_examples"], summary["dev_examples"]) == (500, 0)
    assert "${CORPUS}/train.txt" in (out / "config.toml").read_text()  # portable


def test_an_unset_variable_in_a_path_is_one_clear_error(tmp_path, capsys, monkeypatch):
    from anrc.cli import main

    monkeypatch.delenv("NO_SUCH_CORPUS", raising=False)
    args = ["train", "--config", "configs/cnn.toml", "--out", str(tmp_path / "r")]
    assert main([*args, "--set", "data.train=${NO_SUCH_CORPUS}/train.txt"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "environment variable NO_SUCH_CORPUS is not set" in err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    ("given", "hint"),
    [
        ("${SOME_CORPUS}/train.txt", "$SOME_CORPUS is '{tmp}/nothing': is that the folder"),
        ("{tmp}/nothing/train.txt", "set data.train / data.dev / data.test to the file"),
        ("{tmp}/nothing/TRAIN_FILE.TXT", "The SemEval-2010 Task 8 release"),
    ],
)
def test_a_missing_data_file_gets_the_hint_that_fits_it(tmp_path, capsys, monkeypatch, given, hint):
    """A corpus read through a variable names the variable's value, not SemEval's hint."""
    from anrc.cli import main

    monkeypatch.setenv("SOME_CORPUS", f"{tmp_path}/nothing")
    args = ["train", "--config", "configs/cnn.toml", "--out", str(tmp_path / "r")]
    assert main([*args, "--set", "data.train=" + given.replace("{tmp}", str(tmp_path))]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and hint.replace("{tmp}", str(tmp_path)) in err
    assert err.startswith(f"{tmp_path}/nothing/") and "no such file" in err
