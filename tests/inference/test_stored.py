"""A run's stored probabilities (anrc.inference.stored): written and read back bit for
bit, found by sentence, refused with a line naming the file; a run without weights
teaches and joins an ensemble through them with the answers its weights gave."""

import gzip
import json
import shutil

import numpy as np
import pytest
from helpers import examples, tiny, word_dim

from anrc.cli import main
from anrc.data import write_semeval
from anrc.data.labels import LabelSet
from anrc.errors import AnrcInputError
from anrc.experiments.archive import RUN_FILES
from anrc.inference.predict import predict_probs
from anrc.inference.stored import STORED, StoredRun, read_stored, write_stored
from anrc.models.trained import RunLoadError, TrainedModel
from anrc.training.distill import teacher_probs


@pytest.fixture()
def run(tmp_path):
    model, feat, labels, _, cfg = tiny("cnn")
    cfg.data.test = str(tmp_path / "test.txt")
    write_semeval(examples(), tmp_path / "test.txt")
    trained = TrainedModel(cfg, model.eval(), feat, labels, word_dim(cfg))
    trained.save(tmp_path / "run")
    return tmp_path / "run", trained


def _store(run_dir, trained):
    exs = examples()
    probs, _ = predict_probs(trained, exs)
    write_stored(run_dir / STORED, trained.labels, {"test": ("test.txt", exs, probs)})
    return exs, probs


def test_read_back_bit_for_bit_in_any_label_order(run):
    run_dir, trained = run
    exs, probs = _store(run_dir, trained)
    back = read_stored(run_dir / STORED, exs, trained.labels)
    assert back.dtype == np.float32 and np.array_equal(back, probs)
    flipped = LabelSet(list(reversed(trained.labels.labels)), trained.labels.negative)
    assert np.array_equal(read_stored(run_dir / STORED, exs, flipped), probs[:, ::-1])
    assert np.array_equal(read_stored(run_dir / STORED, exs[::-1], trained.labels), probs[::-1])


def test_a_sentence_it_lacks_and_a_foreign_file_are_one_line_errors(run, tmp_path):
    run_dir, trained = run
    exs, _ = _store(run_dir, trained)
    other = exs[0].__class__(exs[0].id, ["new", "words"], (0, 1), (1, 2), None, 7)
    with pytest.raises(AnrcInputError, match=r"no stored probabilities of sentence .*line 7"):
        read_stored(run_dir / STORED, [other], trained.labels)
    bad = tmp_path / "bad.jsonl.gz"
    with gzip.open(bad, "wt") as f:
        f.write(json.dumps({"id": 1}) + "\n")
    with pytest.raises(AnrcInputError, match=r"bad.jsonl.gz:1: not a stored probabilities"):
        read_stored(bad, exs, trained.labels)
    (tmp_path / "plain.gz").write_text("not gzip")
    with pytest.raises(AnrcInputError, match=r"plain.gz: cannot be read"):
        read_stored(tmp_path / "plain.gz", exs, trained.labels)


def test_a_run_without_weights_ensembles_and_teaches_as_its_weights_did(run, tmp_path):
    run_dir, trained = run
    exs, probs = _store(run_dir, trained)
    with_weights = tmp_path / "with-weights"
    assert main(["ensemble", str(run_dir), "--out", str(with_weights)]) == 0
    expected = teacher_probs(str(run_dir), exs, trained.labels, 2.0)
    (run_dir / "model.safetensors").unlink()
    stored = StoredRun.open(run_dir)
    assert stored.trained is None and np.array_equal(stored.probs(exs), probs)
    without = tmp_path / "without-weights"
    assert main(["ensemble", str(run_dir), "--out", str(without)]) == 0
    for name in ("test_predictions.txt", "scores.json"):
        old, new = (with_weights / name).read_text(), (without / name).read_text()
        assert old.replace(str(with_weights), "") == new.replace(str(without), "")
    assert np.array_equal(teacher_probs(str(run_dir), exs, trained.labels, 2.0), expected)


def test_a_run_with_neither_is_refused(run, tmp_path):
    run_dir, _ = run
    empty = tmp_path / "empty"
    shutil.copytree(run_dir, empty)
    (empty / "model.safetensors").unlink()
    with pytest.raises(RunLoadError, match="model.safetensors: missing"):
        StoredRun.open(empty)
    assert main(["ensemble", str(empty), "--out", str(tmp_path / "e")]) == 2


def test_the_grid_archive_keeps_the_stored_file():
    assert STORED in RUN_FILES


def test_the_command_stores_a_runs_files_and_reads_them_back(run, tmp_path, capsys):
    run_dir, trained = run
    data = f"test={tmp_path / 'test.txt'}"
    assert main(["store", str(run_dir), "--data", data, "--threads", "1"]) == 0
    assert "read back bit for bit" in capsys.readouterr().out
    probs, _ = predict_probs(trained, examples())
    assert np.array_equal(read_stored(run_dir / STORED, examples(), trained.labels), probs)
    assert main(["store", str(run_dir), "--data", "oops"]) == 2
    assert "--data 'oops': expected NAME=FILE" in capsys.readouterr().err


def test_the_command_skips_the_sentences_the_run_skipped(run, tmp_path, capsys):
    """A run trained with data.skip_invalid (KBP37's empty entities) stores its files'
    good sentences, as it read them, rather than stop at the first bad one."""
    run_dir, trained = run
    bad = tmp_path / "with-empty.txt"
    good = (tmp_path / "test.txt").read_text()
    bad.write_text('90001\t"An <e1> </e1> was <e2>here</e2> ."\nOther\nComment:\n\n' + good)
    assert main(["store", str(run_dir), "--data", f"test={bad}"]) == 2
    assert "entity <e1> is empty" in capsys.readouterr().err
    cfg = (run_dir / "config.toml").read_text()
    assert "skip_invalid = false" in cfg
    (run_dir / "config.toml").write_text(cfg.replace("skip_invalid = false", "skip_invalid = true"))
    assert main(["store", str(run_dir), "--data", f"test={bad}"]) == 0
    assert f"(test {len(examples())})" in capsys.readouterr().out
    (run_dir / "config.toml").write_text("not toml [")
    assert main(["store", str(run_dir)]) == 2  # a broken run folder: one line
    assert "config.toml" in capsys.readouterr().err
