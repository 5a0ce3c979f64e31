"""ONNX export: every registered encoder exports to one self-contained file, and
onnxruntime gives PyTorch's probabilities; int8 quantisation; the ONNX classifier takes
what the PyTorch one takes."""

import pytest
from helpers import TINY_WORDS, tiny, word_dim

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

from anrc.errors import AnrcInputError  # noqa: E402
from anrc.export.onnx_export import (  # noqa: E402
    OnnxClassifier,
    export_here,
    export_onnx,
    quantize_int8,
)
from anrc.inference.predict import predict_probs  # noqa: E402
from anrc.models.encoders import ENCODERS  # noqa: E402
from anrc.models.trained import TrainedModel  # noqa: E402

MARKERS = {"att-blstm": "tags", "entity-lstm": "tags", "transformer": "punct"}
TAGGED = "The <e1>singer</e1> caused a <e2>commotion</e2> ."


def _saved(name, folder, **kw):
    if name == "transformer":
        pytest.importorskip("transformers")
        kw.setdefault("pooling", "cls+entity_start+entity_mean")
    if name == "entity-lstm":
        kw.update(attention_heads=2, latent_types=2)
    model, feat, labels, exs, cfg = tiny(name, MARKERS.get(name, "none"), **kw)
    model.eval()
    TrainedModel(cfg, model, feat, labels, word_dim(cfg)).save(folder)
    return model, feat, labels, exs


def _longer(exs):
    """The tiny examples and longer ones, so batches of one hold many lengths."""
    from anrc.data import Example

    words = TINY_WORDS[:20]
    extra = [Example(f"x{n}", words[:n], (0, 1), (n - 2, n - 1)) for n in (3, 11, 19)]
    return exs + extra


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """name -> (model, featurizer, labels, examples, run folder, Exported), each once."""
    cache = {}

    def get(name):
        if name not in cache:
            folder = tmp_path_factory.mktemp(name)
            model, feat, labels, exs = _saved(name, folder / "run")
            out = folder / "missing" / "folder" / "m.onnx"  # its folder is created
            cache[name] = (
                model,
                feat,
                labels,
                exs,
                folder / "run",
                export_onnx(folder / "run", out),
            )
        return cache[name]

    return get


@pytest.mark.parametrize("name", ENCODERS.choices())
def test_every_encoder_exports_one_file_that_matches_pytorch(name, exported):
    model, feat, labels, exs, run, done = exported(name)
    assert "ids" in done.inputs and "lengths" in done.inputs
    assert done.sidecar is None and [p.name for p in done.path.parent.iterdir()] == ["m.onnx"]
    assert "one self-contained file" in done.describe()
    clf = OnnxClassifier(done.path, run)
    exs = _longer(exs)
    for batch_size in (1, 3, 64):  # dynamic batch size and length
        ours, _ = predict_probs(TrainedModel.load(run), exs, batch_size)
        theirs = clf.predict_probs(exs, batch_size)
        assert abs(ours - theirs).max() < 1e-5
    assert clf.predict_labels(exs) == [labels.labels[i] for i in ours.argmax(1)]


def test_int8_quantisation(exported, tmp_path):
    import onnx

    *_, run, fp32 = exported("transformer")
    int8 = quantize_int8(fp32.path, tmp_path / "int8.onnx")
    quantised = {"DynamicQuantizeLinear", "MatMulInteger", "DynamicQuantizeMatMul"}
    assert {node.op_type for node in onnx.load(str(int8)).graph.node} & quantised
    assert not {node.op_type for node in onnx.load(str(fp32.path)).graph.node} & quantised
    a = OnnxClassifier(fp32.path, run).predict_probs([TAGGED])
    b = OnnxClassifier(int8, run).predict_probs([TAGGED])
    assert abs(a - b).max() < 0.05  # close, not equal: int8 rounds the weights


def test_onnx_classifier_takes_strings_and_opennre_items(exported):
    *_, run, done = exported("cnn")
    clf = OnnxClassifier(done.path, run)
    opennre = {
        "text": "The singer caused a commotion .",
        "h": {"pos": [4, 10]},
        "t": {"pos": [20, 29]},
    }
    p = clf.predict(TAGGED)
    assert p.label in list(clf.labels) and sum(p.scores.values()) == pytest.approx(1, abs=1e-4)
    assert clf.infer(opennre) == (p.label, pytest.approx(p.score, abs=1e-6))
    assert clf.predict_labels([TAGGED, opennre]) == [p.label, p.label]


def test_export_errors_are_one_line(tmp_path):
    _saved("cnn", tmp_path / "run")
    (tmp_path / "dir.onnx").mkdir()
    with pytest.raises(AnrcInputError, match="is a folder"):
        export_here(tmp_path / "run", tmp_path / "dir.onnx")
    with pytest.raises(AnrcInputError, match="no such run directory"):
        export_here(tmp_path / "nowhere", tmp_path / "m.onnx")
    with pytest.raises(AnrcInputError, match="--quantize 'int4'"):
        export_here(tmp_path / "run", tmp_path / "m.onnx", quantize="int4")


def test_padded_bilstm_equals_packed():
    import torch

    from anrc.models.layers import run_bilstm

    torch.manual_seed(0)
    lstm = torch.nn.LSTM(5, 4, batch_first=True, bidirectional=True)
    x, lengths = torch.randn(3, 7, 5), torch.tensor([7, 3, 5])
    (H1, h1), (H2, h2) = run_bilstm(lstm, x, lengths), run_bilstm(lstm, x, lengths, padded=True)
    torch.testing.assert_close(H1, H2, rtol=0, atol=1e-6)
    torch.testing.assert_close(h1, h2, rtol=0, atol=1e-6)
