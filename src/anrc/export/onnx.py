"""ONNX export of a trained run, and inference through onnxruntime
(``pip install -e '.[export]'``).

    anrc export RUN_DIR --onnx model.onnx
    clf = OnnxClassifier("model.onnx", RUN_DIR); clf.predict_labels(examples)

The graph takes the featurised batch (the tensors of :class:`~anrc.models.batch.Batch`
the model reads: ``ids``, ``lengths`` and, per encoder, entity spans and relative
positions; batch size and length dynamic) and returns the logits (B, C). The
vocabulary and labels stay in the run directory, which the ONNX classifier reads
for its featuriser, so both paths build batches the same way. Exported with
``torch.export`` (dynamo); encoders that cannot be exported say why
(``Encoder.onnx_unsupported``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from anrc.data import Example
from anrc.errors import AnrcInputError
from anrc.models.batch import Batch

INSTALL_HINT = "ONNX export needs the extra: pip install -e '.[export]'"
FIELDS = ("ids", "lengths", "e1", "e2", "starts", "pos1", "pos2")


class _BatchModel(torch.nn.Module):
    """The model as a function of the batch tensors (what ONNX sees)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, ids, lengths, e1, e2, starts, pos1, pos2):
        batch = Batch(ids=ids, lengths=lengths, e1=e1, e2=e2, starts=starts, pos1=pos1, pos2=pos2)
        return self.model(batch).logits


def _sample(featurizer) -> Batch:
    exs = [
        Example("a", ["the", "singer", "caused", "a", "big", "commotion", "."], (1, 2), (5, 6)),
        Example("b", ["a", "factory", "for", "cars"], (1, 2), (3, 4)),
    ]
    return featurizer(exs)


def export_onnx(run_dir: str | Path, out: str | Path) -> list[str]:
    """Write ``out`` (.onnx) for the run; returns the graph's input names."""
    from anrc.pretrained import resolve
    from anrc.rundir import load_run

    run = load_run(resolve(run_dir))
    encoder = run.model.encoder
    if encoder.onnx_unsupported:
        raise AnrcInputError(
            f"encoder {run.config.model.encoder!r} cannot be exported: {encoder.onnx_unsupported}",
            str(run_dir),
        )
    try:
        import onnxscript  # noqa: F401  (torch.onnx's dynamo exporter needs it)
    except ImportError:
        raise AnrcInputError(INSTALL_HINT) from None
    b = _sample(run.featurizer)
    args = tuple(getattr(b, f) for f in FIELDS)
    B = torch.export.Dim("batch", min=1, max=65536)
    L = torch.export.Dim("length", min=2, max=4096)
    shapes = {"ids": {0: B, 1: L}, "lengths": {0: B}, "e1": {0: B}, "e2": {0: B},
              "starts": {0: B}, "pos1": {0: B, 1: L}, "pos2": {0: B, 1: L}}  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _BatchModel(run.model.eval()), args, str(out), input_names=list(FIELDS),
            output_names=["logits"], dynamic_shapes=shapes, dynamo=True, verbose=False,
        )  # fmt: skip
    return [i.name for i in _session(out).get_inputs()]


def _session(path, threads: int = 0):
    try:
        import onnxruntime as ort
    except ImportError:
        raise AnrcInputError(INSTALL_HINT) from None
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    opts.intra_op_num_threads = threads  # 0: onnxruntime's default (all cores)
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


class OnnxClassifier:
    """Labels from an exported graph through onnxruntime; featuriser and labels from the run."""

    def __init__(self, onnx_path: str | Path, run_dir: str | Path, threads: int = 0):
        from anrc.pretrained import resolve
        from anrc.rundir import load_run

        run = load_run(resolve(run_dir))
        self.featurizer, self.labels = run.featurizer, run.labels
        self.session = _session(onnx_path, threads)
        self.inputs = [i.name for i in self.session.get_inputs()]

    def predict_probs(self, examples: Sequence[Example], batch_size: int = 256) -> np.ndarray:
        probs = np.zeros((len(examples), len(self.labels)), dtype=np.float32)
        for idx, batch in self.featurizer.batches(examples, batch_size):
            feeds = {name: getattr(batch, name).numpy() for name in self.inputs}
            logits = self.session.run(None, feeds)[0]
            e = np.exp(logits - logits.max(axis=1, keepdims=True))
            probs[idx] = e / e.sum(axis=1, keepdims=True)
        return probs

    def predict_labels(self, examples: Sequence[Example], batch_size: int = 256) -> list[str]:
        return [self.labels.labels[i] for i in self.predict_probs(examples, batch_size).argmax(1)]
