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
    """The model as a function of the batch tensors it reads (what ONNX sees); the
    fields it does not read are zeros inside the graph."""

    def __init__(self, model, fields: list[str]):
        super().__init__()
        self.model, self.fields = model, fields

    def forward(self, *tensors):
        given = dict(zip(self.fields, tensors, strict=True))
        ids = given["ids"]
        B, L = ids.shape
        zeros = {
            "e1": ids.new_zeros(B, 2), "e2": ids.new_zeros(B, 2), "starts": ids.new_zeros(B, 2),
            "pos1": ids.new_zeros(B, L), "pos2": ids.new_zeros(B, L),
        }  # fmt: skip
        return self.model(Batch(**{f: given.get(f, zeros.get(f)) for f in FIELDS})).logits


def _sample(featurizer) -> Batch:
    """Two sentences that differ in every field (length, spans, markers, positions)."""
    exs = [
        Example(
            "a",
            ["the", "singer", "who", "sang", "caused", "a", "big", "commotion", "."],
            (1, 2),
            (7, 8),
        ),
        Example("b", ["factory", "workers", "built", "cars"], (0, 1), (3, 4)),
    ]
    return featurizer(exs)


def _fields_read(model, batch: Batch) -> list[str]:
    """The optional batch fields that change the model's output: each is probed by giving
    every sentence the other sentence's values."""
    base = model(batch).logits
    used = ["ids", "lengths"]
    for f in FIELDS[2:]:
        value = getattr(batch, f)
        if value is None:
            continue
        probe = value.flip(0)
        if f in ("pos1", "pos2"):  # same length as ids: roll within the longer padding
            probe = torch.roll(value, 1, dims=1)
        swapped = Batch(**{g: getattr(batch, g) for g in FIELDS} | {f: probe})
        try:
            changed = not torch.allclose(model(swapped).logits, base)
        except (IndexError, RuntimeError):
            changed = True
        if changed:
            used.append(f)
    return used


def export_onnx(run_dir: str | Path, out: str | Path) -> list[str]:
    """Write ``out`` (.onnx) for the run; returns the graph's input names.

    The export runs in a fresh Python process: ``torch.export`` can carry a shape
    specialisation from one export to the next within a process (seen with torch 2.13:
    after exporting one LSTM model, the next one's length came out fixed).
    """
    import json
    import subprocess
    import sys

    code = (
        "import json, sys; from anrc.export.onnx import export_here; "
        "print(json.dumps(export_here(sys.argv[1], sys.argv[2])))"
    )
    res = subprocess.run(
        [sys.executable, "-c", code, str(run_dir), str(out)], capture_output=True, text=True
    )
    if res.returncode != 0:
        lines = [ln for ln in res.stderr.strip().splitlines() if ln.strip()]
        raise AnrcInputError(lines[-1] if lines else f"export failed (exit {res.returncode})")
    return json.loads(res.stdout.strip().splitlines()[-1])


def export_here(run_dir: str | Path, out: str | Path) -> list[str]:
    """:func:`export_onnx` in this process (the CLI's own process is fresh)."""
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
    model = run.model.eval()
    with torch.no_grad():
        fields = _fields_read(model, b)
    B = torch.export.Dim("batch", min=1, max=65536)
    L = torch.export.Dim("length", min=2, max=4096)
    dims = {"ids": {0: B, 1: L}, "lengths": {0: B}, "e1": {0: B}, "e2": {0: B},
            "starts": {0: B}, "pos1": {0: B, 1: L}, "pos2": {0: B, 1: L}}  # fmt: skip
    torch._dynamo.reset()  # no shapes specialised by an earlier export in this process
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _BatchModel(model, fields), tuple(getattr(b, f) for f in fields), str(out),
            input_names=fields, output_names=["logits"],
            dynamic_shapes=(tuple(dims[f] for f in fields),), dynamo=True, verbose=False,
        )  # fmt: skip
    inputs = _session(out).get_inputs()
    for i in inputs:
        if any(isinstance(d, int) for d in i.shape[:1]) or (
            i.name in ("ids", "pos1", "pos2") and isinstance(i.shape[1], int)
        ):
            raise AnrcInputError(f"export came out with a fixed shape for {i.name}: {i.shape}")
    return [i.name for i in inputs]


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
