"""ONNX export of a trained run, and inference through onnxruntime
(``pip install -e '.[export]'``).

    anrc export RUN_DIR --onnx model.onnx [--quantize int8]
    clf = OnnxClassifier("model.onnx", RUN_DIR); clf.predict("The <e1>..</e1> ..")

The graph takes the featurised batch (the tensors of :class:`~anrc.models.batch.Batch`
the model reads: ``ids``, ``lengths`` and, per encoder, entity spans, marker
positions and relative positions; batch size and length dynamic) and returns the
logits (B, C). The vocabulary or tokenizer and the labels stay in the run directory,
which the ONNX classifier reads for its featuriser, so both paths build batches the
same way. Every registered encoder exports, with ``torch.export`` (dynamo). The
file is self-contained (weights inside) when it fits ONNX's 2 GB limit; larger
models keep their weights in a ``.onnx.data`` file beside it, and the output line
says so. ``--quantize int8`` then rewrites it with onnxruntime's dynamic int8
quantisation (weights int8, activations quantised on the fly): smaller and faster
on CPUs, at some accuracy (``benchmarks/bench_forms.py`` measures both).
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from anrc.data import Example, to_example
from anrc.errors import AnrcInputError
from anrc.inference.api import Prediction
from anrc.inference.forms import OnnxGraph, onnx_session
from anrc.models.batch import Batch
from anrc.models.trained import TrainedModel
from anrc.pretrained import find_model

INSTALL_HINT = "ONNX export needs the extra: pip install -e '.[export]'"
FIELDS = ("ids", "lengths", "e1", "e2", "starts", "pos1", "pos2")
#: ONNX keeps a graph in one protobuf file up to 2 GB; bigger weights go to a sidecar
SINGLE_FILE_LIMIT = 2**31 - 2**26
QUANTIZE = ("none", "int8")


@dataclass
class Exported:
    """What :func:`export_onnx` wrote."""

    path: Path
    inputs: list[str]  # the graph's input names, in order
    sidecar: Path | None  # the weights file beside it, when the model is over 2 GB
    quantize: str  # none or int8
    bytes: int  # size of the .onnx (plus its sidecar)

    def describe(self) -> str:
        where = (
            f"weights in {self.sidecar.name} beside it: copy both files"
            if self.sidecar
            else "one self-contained file"
        )
        kind = ", int8 weights (dynamic quantisation)" if self.quantize == "int8" else ""
        return (
            f"wrote {self.path} ({self.bytes / 1e6:.1f} MB, {where}{kind}; inputs: "
            f"{', '.join(self.inputs)})"
        )


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


def export_onnx(run_dir: str | Path, out: str | Path, quantize: str = "none") -> Exported:
    """Write ``out`` (.onnx) for the run, optionally int8-quantised.

    The export runs in a fresh Python process: ``torch.export`` can carry a shape
    specialisation from one export to the next within a process (seen with torch 2.13:
    after exporting one LSTM model, the next one's length came out fixed).
    """
    code = (
        "import json, sys; from anrc.export.onnx_export import export_here; "
        "e = export_here(sys.argv[1], sys.argv[2], sys.argv[3]); "
        "print(json.dumps({'inputs': e.inputs}))"
    )
    res = subprocess.run(
        [sys.executable, "-c", code, str(run_dir), str(out), quantize],
        capture_output=True,
        text=True,
    )
    if res.returncode != 0:
        lines = [ln for ln in res.stderr.strip().splitlines() if ln.strip()]
        raise AnrcInputError(lines[-1] if lines else f"export failed (exit {res.returncode})")
    json.loads(res.stdout.strip().splitlines()[-1])
    return _written(Path(out), quantize)


def _written(out: Path, quantize: str) -> Exported:
    sidecar = out.with_name(out.name + ".data")
    sidecar = sidecar if sidecar.is_file() else None
    size = out.stat().st_size + (sidecar.stat().st_size if sidecar else 0)
    return Exported(out, [i.name for i in onnx_session(out).get_inputs()], sidecar, quantize, size)


def _check_target(out: Path) -> None:
    if out.is_dir():
        raise AnrcInputError(f"{out}: is a folder; give the .onnx file to write")
    out.parent.mkdir(parents=True, exist_ok=True)
    sidecar = out.with_name(out.name + ".data")
    sidecar.unlink(missing_ok=True)  # a stale sidecar of an earlier export would mislead


def export_here(run_dir: str | Path, out: str | Path, quantize: str = "none") -> Exported:
    """:func:`export_onnx` in this process (the CLI's own process is fresh)."""
    if quantize not in QUANTIZE:
        raise AnrcInputError(f"--quantize {quantize!r}: choose from {', '.join(QUANTIZE)}")
    try:
        import onnxscript  # optional: export (torch.onnx's dynamo exporter needs it)  # noqa: F401
    except ImportError:
        raise AnrcInputError(INSTALL_HINT) from None
    run = TrainedModel.load(find_model(run_dir))
    out = Path(out)
    _check_target(out)
    model = run.network.eval()
    b = _sample(run.featurizer)
    with torch.no_grad():
        fields = _fields_read(model, b)
    size = sum(p.numel() * p.element_size() for p in model.parameters())
    _export(model, b, fields, out, external=size >= SINGLE_FILE_LIMIT)
    _check_dynamic(out)
    if quantize == "int8":
        quantize_int8(out)
    return _written(out, quantize)


def _export(model, b: Batch, fields: list[str], out: Path, external: bool) -> None:
    B = torch.export.Dim("batch", min=1, max=65536)
    L = torch.export.Dim("length", min=2, max=4096)
    dims = {"ids": {0: B, 1: L}, "lengths": {0: B}, "e1": {0: B}, "e2": {0: B},
            "starts": {0: B}, "pos1": {0: B, 1: L}, "pos2": {0: B, 1: L}}  # fmt: skip
    torch._dynamo.reset()  # no shapes specialised by an earlier export in this process
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _BatchModel(model, fields), tuple(getattr(b, f) for f in fields), str(out),
            input_names=fields, output_names=["logits"], external_data=external,
            dynamic_shapes=(tuple(dims[f] for f in fields),), dynamo=True, verbose=False,
        )  # fmt: skip


def _check_dynamic(out: Path) -> None:
    for i in onnx_session(out).get_inputs():
        if any(isinstance(d, int) for d in i.shape[:1]) or (
            i.name in ("ids", "pos1", "pos2") and isinstance(i.shape[1], int)
        ):
            raise AnrcInputError(f"export came out with a fixed shape for {i.name}: {i.shape}")


def quantize_int8(src: Path, out: Path | None = None) -> Path:
    """``src`` with int8 weights (onnxruntime's dynamic quantisation), written to ``out``
    (default: in place).

    onnxruntime's defaults: 8-bit weights with one scale a tensor. Measured on the shipped
    transformer's test set: 87.09 official F1 against 87.10 in fp32 on a CPU with
    AVX-512 VNNI, and 87.25 against 87.09 on one with AVX2 alone
    (results/benchmarks/onnx-transformer.txt), so the u8 x s8 saturation onnxruntime
    warns of for CPUs without VNNI did not show. 7-bit weights (``reduce_range``) gave
    85.51 per tensor and 86.91 per channel on the VNNI CPU, and per-channel scales break
    the att-blstm graph (a shape error on loading)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic  # start-up: onnxruntime

    out = out or src
    tmp = out.with_name(out.name + ".tmp")
    quiet = logging.getLogger().level
    logging.getLogger().setLevel(logging.ERROR)  # its advice to pre-process goes to root
    try:
        quantize_dynamic(str(src), str(tmp), weight_type=QuantType.QInt8)
    finally:
        logging.getLogger().setLevel(quiet)
    tmp.replace(out)
    return out


class OnnxClassifier:
    """An exported graph through onnxruntime, with the run's featuriser and labels: the
    same calls as :class:`~anrc.inference.api.RelationClassifier` (tagged sentences,
    OpenNRE items or Examples), without attention or saliency."""

    def __init__(self, onnx_path: str | Path, run_dir: str | Path, threads: int = 0):
        run = TrainedModel.load(find_model(run_dir))
        self.config, self.featurizer, self.labels = run.config, run.featurizer, run.labels
        self.graph = OnnxGraph(onnx_path, threads)

    def predict_probs(
        self, items: Sequence[str | dict | Example], batch_size: int = 256
    ) -> np.ndarray:
        """(N, C) label probabilities in the order of ``items``."""
        examples = [to_example(it, str(i)) for i, it in enumerate(items)]
        return self.graph.probs(self.featurizer, examples, batch_size)

    def predict_labels(
        self, items: Sequence[str | dict | Example], batch_size: int = 256
    ) -> list[str]:
        return [self.labels.labels[i] for i in self.predict_probs(items, batch_size).argmax(1)]

    def predict_many(self, items: Sequence[str | dict | Example], batch_size: int = 256):
        examples = [to_example(it, str(i)) for i, it in enumerate(items)]
        out = []
        for ex, p in zip(examples, self.predict_probs(examples, batch_size), strict=True):
            k = int(p.argmax())
            scores = {lab: float(v) for lab, v in zip(self.labels, p, strict=True)}
            tokens = self.featurizer.marked(ex).tokens
            out.append(Prediction(self.labels.labels[k], float(p[k]), scores, tokens, None))
        return out

    def predict(self, item: str | dict | Example):
        return self.predict_many([item])[0]

    def infer(self, item: str | dict | Example) -> tuple[str, float]:
        """OpenNRE-style: (label, probability)."""
        p = self.predict(item)
        return p.label, p.score
