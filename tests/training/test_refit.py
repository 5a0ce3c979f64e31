"""train.refit: select the epoch count on dev, retrain on all training data for that long."""

import json

from anrc.builder import load_config
from anrc.training.loop import train


def test_refit_trains_on_train_plus_dev_for_the_selected_epochs(tmp_path, data_dir):
    cfg = load_config(
        "configs/cnn.toml",
        [
            f"data.train={data_dir / 'TRAIN_FILE.TXT'}",
            "data.test=",
            "data.train_limit=600",
            "train.max_epochs=3",
            "train.patience=0",
            "train.refit=true",
            "train.threads=1",
        ],
    )
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
