"""ONNX export: onnxruntime gives PyTorch's labels and logits; unsupported encoders say why."""

import pytest
from helpers import tiny

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

from anrc.errors import AnrcInputError  # noqa: E402
from anrc.export.onnx import OnnxClassifier, export_onnx  # noqa: E402
from anrc.inference.predict import predict_probs  # noqa: E402
from anrc.rundir import save_run  # noqa: E402


@pytest.mark.parametrize("name", ["cnn", "crcnn"])
def test_onnxruntime_matches_pytorch(name, tmp_path):
    model, feat, labels, exs, cfg = tiny(name)
    model.eval()
    save_run(tmp_path / "run", cfg, model, feat, labels, word_dim=cfg.model.word_dim)
    inputs = export_onnx(tmp_path / "run", tmp_path / "m.onnx")
    assert "ids" in inputs and "lengths" in inputs
    clf = OnnxClassifier(tmp_path / "m.onnx", tmp_path / "run")
    for batch_size in (1, 3, 64):  # dynamic batch size and length
        ours, _ = predict_probs(model, feat, exs, batch_size)
        theirs = clf.predict_probs(exs, batch_size)
        assert abs(ours - theirs).max() < 1e-5
    assert clf.predict_labels(exs) == [labels.labels[i] for i in ours.argmax(1)]


def test_lstm_encoders_refuse_with_a_reason(tmp_path):
    model, feat, labels, exs, cfg = tiny("att-blstm", "tags")
    save_run(tmp_path / "run", cfg, model, feat, labels, word_dim=cfg.model.word_dim)
    with pytest.raises(AnrcInputError, match="packed LSTM"):
        export_onnx(tmp_path / "run", tmp_path / "m.onnx")
