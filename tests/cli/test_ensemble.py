"""anrc ensemble: averaged probabilities of several runs, scored officially."""

import json

import numpy as np
import torch
from helpers import examples, tiny, word_dim

from anrc.cli import main
from anrc.cli.ensemble import ensemble_probs
from anrc.data import write_semeval
from anrc.inference.api import RelationClassifier
from anrc.inference.predict import predict_probs
from anrc.models.trained import TrainedModel


def _runs(tmp_path, n=2):
    dirs = []
    for i in range(n):
        model, feat, labels, exs, cfg = tiny()
        torch.manual_seed(i + 10)
        for p in model.head.parameters():
            p.data.normal_()
        cfg.data.test = str(tmp_path / "test.txt")
        d = tmp_path / f"run{i}"
        TrainedModel(cfg, model.eval(), feat, labels, 6).save(d)
        dirs.append((d, RelationClassifier(TrainedModel(cfg, model, feat, labels, word_dim(cfg)))))
    write_semeval(examples(), tmp_path / "test.txt")
    return dirs


def test_average_of_probabilities(tmp_path):
    runs = _runs(tmp_path)
    exs = examples()
    probs = [predict_probs(c.trained, exs)[0] for _, c in runs]
    avg = ensemble_probs([c for _, c in runs], exs)
    np.testing.assert_allclose(avg, (probs[0] + probs[1]) / 2, rtol=1e-6)


def test_cli_writes_predictions_and_scores(tmp_path, capsys):
    runs = _runs(tmp_path)
    out = tmp_path / "ens"
    rc = main(["ensemble", *[str(d) for d, _ in runs], "--out", str(out)])
    assert rc == 0
    scores = json.loads((out / "scores.json").read_text())
    assert len((out / "test_predictions.txt").read_text().splitlines()) == len(examples())
    assert 0 <= scores["test"]["f1"] <= 100
    assert "macro-averaged F1" in capsys.readouterr().out
