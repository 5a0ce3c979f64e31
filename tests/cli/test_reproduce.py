"""``anrc reproduce``: a finished run trained again from its saved settings, compared bit
for bit; its answers stored beside it only when identical."""

import json

from anrc.cli import main
from anrc.cli.reproduce import REPRODUCED
from anrc.inference.stored import STORED


def _tiny_run(tmp_path, data_dir):
    from anrc.data import read, write_semeval

    test = tmp_path / "test.txt"
    write_semeval(read(data_dir / "TEST_FILE_FULL.TXT").examples[:60], test)
    sets = {"data.train": data_dir / "TRAIN_FILE.TXT", "data.test": test,
            "data.train_limit": 200, "data.embeddings": "none", "encoder.filters": 8,
            "encoder.hidden": 8, "train.max_epochs": 2, "train.threads": 1}  # fmt: skip
    args = ["train", "--config", "configs/cnn.toml", "--out", str(tmp_path / "run")]
    for k, v in sets.items():
        args += ["--set", f"{k}={v}"]
    assert main(args) == 0
    return tmp_path / "run"


def test_a_run_reproduces_bit_for_bit_and_then_keeps_the_answers(tmp_path, data_dir, capsys):
    run = _tiny_run(tmp_path, data_dir)
    (run / "model.safetensors").unlink()  # its weights lost, as a machine's end loses them
    assert main(["reproduce", str(run), "--out", str(tmp_path / "again"), "--store"]) == 0
    out = capsys.readouterr().out
    assert "epoch 2: identical" in out and "test_predictions.txt: identical" in out
    assert f"{run}: identical: the new weights are the run's" in out
    assert (run / STORED).read_bytes() == (tmp_path / "again" / STORED).read_bytes()
    record = json.loads((run / REPRODUCED).read_text())
    assert record["identical"] and record["predictions"] == {
        "dev_predictions.txt": True, "test_predictions.txt": True}  # fmt: skip


def test_a_run_that_differs_is_said_to_and_its_answers_are_not_stored(tmp_path, data_dir, capsys):
    run = _tiny_run(tmp_path, data_dir)
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    rows[1]["train_loss"] += 1e-12  # one bit of one figure of the last epoch
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["reproduce", str(run), "--out", str(tmp_path / "again"), "--store"]) == 1
    captured = capsys.readouterr()
    assert "epoch 1: identical" in captured.out and "epoch 2: differs (train_loss)" in captured.out
    assert "not stored" in captured.err and not (run / STORED).exists()
    assert not json.loads((tmp_path / "again" / REPRODUCED).read_text())["identical"]
    # The new run is kept: a second call compares again without training.
    assert main(["reproduce", str(run), "--out", str(tmp_path / "again")]) == 1
    assert main(["reproduce", str(tmp_path / "nope"), "--out", str(tmp_path / "x")]) == 2
    assert "not a finished run" in capsys.readouterr().err
