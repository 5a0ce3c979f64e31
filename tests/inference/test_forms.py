"""Forms of prediction (anrc.inference.forms): what ``auto`` chooses from the CPU's flags
and the model's files, and that each form answers like fp32 on a tiny model while the
fp32 model stays the one gradients go through."""

import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from helpers import examples, tiny, word_dim

import anrc
from anrc.errors import AnrcInputError
from anrc.inference.api import RelationClassifier
from anrc.inference.forms import BF16_FLAGS, ONNX_INT8, Runtime, choose, cpu_flags
from anrc.models.trained import TrainedModel

CPU = torch.device("cpu")


@pytest.fixture
def auto(monkeypatch):
    """``auto`` as a user gets it (the suite fixes it to fp32 through $ANRC_FORM)."""
    monkeypatch.delenv("ANRC_FORM", raising=False)


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512_bf16 avx512_vnni\n\n")
    assert cpu_flags(info) == {"fpu", "avx2", "avx512_bf16", "avx512_vnni"}
    assert cpu_flags(tmp_path / "absent") == frozenset()


def test_auto_takes_onnx_then_native_bf16_then_fp32(tmp_path, auto):
    (tmp_path / ONNX_INT8).write_bytes(b"")
    avx2, bf16 = frozenset({"avx2"}), frozenset({"avx2", *BF16_FLAGS})
    assert choose("auto", CPU, tmp_path, avx2, ort=True) == "onnx-int8"
    assert choose("auto", CPU, tmp_path, bf16, ort=False) == "bf16"  # no onnxruntime
    assert choose("auto", CPU, tmp_path.parent, bf16, ort=True) == "bf16"  # no file
    assert choose("auto", CPU, None, avx2, ort=True) == "fp32"  # bf16 would be emulated
    assert choose("auto", torch.device("cuda"), tmp_path, bf16, ort=True) == "fp32"
    assert choose("int8", CPU, None, avx2) == "int8"  # asked for: taken as asked


def test_anrc_form_fixes_auto_and_a_bad_name_is_one_line(monkeypatch):
    monkeypatch.setenv("ANRC_FORM", "int8")
    assert choose("auto", CPU, None, frozenset()) == "int8"
    assert choose("fp32", CPU, None, frozenset()) == "fp32"
    monkeypatch.setenv("ANRC_FORM", "fast")
    with pytest.raises(AnrcInputError, match="ANRC_FORM='fast'"):
        choose("auto", CPU)
    with pytest.raises(AnrcInputError, match="choose from auto, fp32"):
        choose("quick", CPU)


def _classifier(tmp_path, form):
    model, feat, labels, exs, cfg = tiny("att-blstm", "tags")
    TrainedModel(cfg, model.eval(), feat, labels, word_dim(cfg)).save(tmp_path / "run")
    run = TrainedModel.load(tmp_path / "run")
    return RelationClassifier(run, form)


@pytest.mark.parametrize("form", ["bf16", "int8"])
def test_each_form_answers_close_to_fp32_and_gradients_stay_fp32(tmp_path, form):
    fp32 = _classifier(tmp_path / "a", "fp32")
    other = _classifier(tmp_path / "b", form)
    exs = examples()
    p32, _ = fp32.probs(exs)
    p, _ = other.probs(exs)
    assert np.isfinite(p).all() and np.allclose(p.sum(1), 1, atol=1e-5)
    assert np.abs(p - p32).max() < 0.05  # a tiny model's probabilities, nearly unchanged
    assert other.form == form
    if form == "int8":  # a quantised copy: the classifier's own model is untouched
        assert other.runtime.trained.network is not other.trained.network
        assert any(isinstance(m, torch.nn.Linear) for m in other.trained.network.modules())
    pred = other.predict_many(exs[:2], with_saliency=True)  # saliency: fp32 gradients
    assert all(len(x.saliency) == len(x.tokens) for x in pred)


def test_a_form_that_needs_the_cpu_is_refused_elsewhere():
    with pytest.raises(AnrcInputError, match="for the CPU"):
        Runtime(SimpleNamespace(device=torch.device("cuda")), "bf16")


def test_onnx_int8_needs_its_file(tmp_path):
    with pytest.raises(AnrcInputError, match="model.int8.onnx not found"):
        Runtime(SimpleNamespace(device=CPU), "onnx-int8", tmp_path)


def test_a_package_with_onnx_is_loaded_in_that_form_by_auto(tmp_path, auto):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from anrc.cli import main
    from anrc.data.formats import write_semeval

    model, feat, labels, exs, cfg = tiny("att-blstm", "tags")
    run = tmp_path / "run"
    TrainedModel(cfg, model.eval(), feat, labels, word_dim(cfg)).save(run)
    (run / "scores.json").write_text(json.dumps({"summary": {"train_examples": 4}}))
    test = tmp_path / "test.txt"
    write_semeval(examples(), test)
    out = tmp_path / "pkg"
    args = ["package", str(run), "--name", "t", "--out", str(out), "--data", str(test), "--onnx"]
    assert main(args) == 0
    assert (out / ONNX_INT8).is_file()
    prov = json.loads((out / "provenance.json").read_text())
    onnx = prov["forms"]["onnx-int8"]
    assert onnx["total"] == len(examples()) and 0 <= onnx["same_as_stored"] <= onnx["total"]
    assert f"official F1 {onnx['test_f1']:.2f}" in (out / "MODEL_CARD.md").read_text()
    clf = anrc.load(out)
    assert clf.form == "onnx-int8"
    p, attention = clf.probs(examples())
    p32, _ = anrc.load(out, form="fp32").probs(examples())
    assert attention is None and np.abs(p - p32).max() < 0.05
    assert clf.predict(examples()[0]).label in labels.labels
