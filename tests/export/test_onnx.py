"""ONNX export: onnxruntime gives PyTorch's labels and logits; unsupported encoders say why."""

import pytest
from helpers import tiny

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

from anrc.errors import AnrcInputError  # noqa: E402
from anrc.export.onnx import OnnxClassifier, export_onnx  # noqa: E402
from anrc.inference.predict import predict_probs  # noqa: E402
from anrc.rundir import save_run  # noqa: E402


@pytest.mark.parametrize(
    "name,markers",
    [("cnn", "none"), ("crcnn", "none"), ("anrc", "none"), ("att-blstm", "tags")],
)  # fmt: skip
def test_onnxruntime_matches_pytorch(name, markers, tmp_path):
    kw = {"attention_heads": 2} if name == "entity-lstm" else {}
    model, feat, labels, exs, cfg = tiny(name, markers, **kw)
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


@pytest.mark.parametrize("name,reason", [("entity-lstm", "MultiheadAttention"),
                                         ("transformer", "optimum")])  # fmt: skip
def test_unsupported_encoders_refuse_with_a_reason(name, reason, tmp_path):
    if name == "transformer":
        pytest.importorskip("transformers")
    kw = {"attention_heads": 2} if name == "entity-lstm" else {}
    model, feat, labels, exs, cfg = tiny(name, "tags", **kw)
    save_run(tmp_path / "run", cfg, model, feat, labels, word_dim=cfg.model.word_dim)
    with pytest.raises(AnrcInputError, match=reason):
        export_onnx(tmp_path / "run", tmp_path / "m.onnx")


def test_padded_bilstm_equals_packed():
    import torch

    from anrc.models.layers import run_bilstm

    torch.manual_seed(0)
    lstm = torch.nn.LSTM(5, 4, batch_first=True, bidirectional=True)
    x, lengths = torch.randn(3, 7, 5), torch.tensor([7, 3, 5])
    (H1, h1), (H2, h2) = run_bilstm(lstm, x, lengths), run_bilstm(lstm, x, lengths, padded=True)
    torch.testing.assert_close(H1, H2, rtol=0, atol=1e-6)
    torch.testing.assert_close(h1, h2, rtol=0, atol=1e-6)
