"""``train.device``: the setting, batches built where the model is, and (where torch sees a
CUDA GPU; skipped elsewhere, CI included) every encoder and method on the GPU."""

import copy

import pytest
import torch
from helpers import batch_of, tiny, train_minibatch, word_dim

from anrc.adversarial.methods import METHODS, make_method, method_params
from anrc.attacks.embedding import evaluate_under_attack
from anrc.builder import load_config
from anrc.config import AdversarialConfig
from anrc.device import torch_device
from anrc.inference.predict import predict_probs
from anrc.models.encoders import ENCODERS
from anrc.models.trained import TrainedModel
from anrc.training.setup import make_optimizer

needs_gpu = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU visible")
CPU = torch.device("cpu")


def _tiny(name, **kw):
    if name == "transformer":
        pytest.importorskip("transformers")
    extra = {"attention_heads": 2} if name == "entity-lstm" else {}
    return tiny(name, "tags" if name == "transformer" else "none", **{**extra, **kw})


def test_cuda_without_a_gpu_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="no CUDA GPU is visible"):
        torch_device("cuda")
    assert torch_device("auto") == CPU and torch_device("cpu") == CPU


def test_cuda_without_a_gpu_is_one_line_from_the_cli(tmp_path, monkeypatch, capsys, data_dir):
    from anrc.cli import main

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    rc = main(["train", "--config", "configs/anrc.toml", "--set", "train.device=cuda",
               "--set", "data.embeddings=none", "--out", str(tmp_path / "run")])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert rc != 0 and err.count("\n") == 0 and "no CUDA GPU is visible" in err
    assert "Traceback" not in err


def test_unknown_device_is_refused_by_the_config():
    with pytest.raises(ValueError, match="train.device must be one of cpu, cuda, auto"):
        load_config("configs/anrc.toml", ["train.device=tpu"])


def test_batches_follow_the_featurizer_device_and_lengths_stay_on_the_cpu():
    model, feat, labels, exs, cfg = _tiny("cnn")
    b = batch_of(exs, feat, labels)
    assert b.to(CPU) is b  # no copy where the batch already is
    trained = TrainedModel(cfg, model, feat, labels, word_dim(cfg)).to(CPU)
    assert trained.device == feat.device == CPU and batch_of(exs, feat, labels).ids.device == CPU
    meta = b.to(torch.device("meta"))
    assert meta.ids.device.type == "meta" and meta.labels.device.type == "meta"
    assert meta.lengths.device == CPU  # pack_padded_sequence wants the lengths there


@needs_gpu
@pytest.mark.parametrize("name", ENCODERS.choices())
def test_gpu_logits_match_the_cpu(name):
    model, feat, labels, exs, cfg = _tiny(name)
    model.eval()
    on_cpu = model(batch_of(exs, feat, labels)).logits
    gpu = TrainedModel(cfg, copy.deepcopy(model), copy.deepcopy(feat), labels, word_dim(cfg))
    gpu.to(torch_device("cuda"))
    out = gpu.network(batch_of(exs, gpu.featurizer, labels)).logits
    assert out.device.type == "cuda"
    torch.testing.assert_close(out.cpu(), on_cpu, rtol=1e-3, atol=1e-4)
    probs, _ = predict_probs(gpu, exs)
    torch.testing.assert_close(torch.from_numpy(probs), on_cpu.softmax(-1), rtol=1e-3, atol=1e-4)


@needs_gpu
@pytest.mark.parametrize("method", METHODS.choices())
@pytest.mark.parametrize("name", ENCODERS.choices())
def test_every_method_trains_every_encoder_on_the_gpu(name, method):
    model, feat, labels, exs, cfg = _tiny(name)
    TrainedModel(cfg, model, feat, labels, word_dim(cfg)).to(torch_device("cuda"))
    adv = AdversarialConfig(method=method, epsilon=0.5)
    m = make_method(adv, method_params(method, steps=2, replays=2, random_start=True))
    opt, _ = make_optimizer(cfg, model)
    b = batch_of(exs, feat, labels)
    before = [p.detach().clone() for p in model.parameters()]
    for res in train_minibatch(model, b, opt, m, 1.0, b if method == "vat" else None):
        assert res.finite
    moved = [not torch.equal(p, q) for p, q in zip(model.parameters(), before, strict=True)]
    assert any(moved) and all(p.device.type == "cuda" for p in model.parameters())


@needs_gpu
def test_saved_gpu_run_loads_on_the_cpu_with_the_same_predictions(tmp_path):
    model, feat, labels, exs, cfg = _tiny("transformer")
    trained = TrainedModel(cfg, model, feat, labels, word_dim(cfg)).to(torch_device("cuda"))
    gpu_probs, _ = predict_probs(trained.eval(), exs)
    trained.save(tmp_path)
    run = TrainedModel.load(tmp_path)
    assert all(p.device == CPU for p in run.network.parameters())
    cpu_probs, _ = predict_probs(run, exs)
    torch.testing.assert_close(
        torch.from_numpy(cpu_probs), torch.from_numpy(gpu_probs), rtol=1e-3, atol=1e-4
    )
    res = evaluate_under_attack(trained, exs, "pgd", 0.5, steps=2)
    assert len(res["predictions"]) == len(exs)
