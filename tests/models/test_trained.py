"""A trained model is one object: built, moved, saved and loaded whole."""

import json

import pytest
import torch
from helpers import tiny, word_dim

from anrc.inference.predict import predict_probs
from anrc.models.trained import RunLoadError, TrainedModel


def _trained(encoder="cnn"):
    model, feat, labels, exs, cfg = tiny(encoder)
    return TrainedModel(cfg, model.eval(), feat, labels, word_dim(cfg)), exs


def test_build_gives_a_fresh_network_the_settings_describe():
    trained, _ = _trained()
    fresh = TrainedModel.build(trained.config, trained.featurizer, trained.labels, trained.word_dim)
    assert fresh.network is not trained.network
    assert fresh.network.state_dict().keys() == trained.network.state_dict().keys()
    assert fresh.network.n_labels == len(trained.labels)


def test_to_moves_the_network_and_the_featuriser_together():
    trained, _ = _trained()
    assert trained.to(torch.device("cpu")) is trained
    assert trained.device == trained.featurizer.device == torch.device("cpu")


@pytest.mark.parametrize("weights", ["fp32", "fp16"])
def test_save_then_load_is_the_same_model(tmp_path, weights):
    trained, exs = _trained("anrc")
    trained.save(tmp_path, weights=weights)
    again = TrainedModel.load(tmp_path)
    assert again.config.to_dict() == trained.config.to_dict()
    assert again.labels.labels == trained.labels.labels and again.word_dim == trained.word_dim
    assert not again.network.training  # loaded for inference
    a, _ = predict_probs(trained, exs)
    b, _ = predict_probs(again, exs)
    assert abs(a - b).max() < (1e-6 if weights == "fp32" else 5e-3)


def test_a_run_from_a_newer_format_is_refused_naming_the_folder(tmp_path):
    trained, _ = _trained()
    trained.save(tmp_path)
    (tmp_path / "meta.json").write_text(json.dumps({"format_version": 99}))
    with pytest.raises(RunLoadError, match=f"{tmp_path}: saved by a newer anrc"):
        TrainedModel.load(tmp_path)
