"""How a loaded model runs its forward passes for prediction: its *form*.

    fp32       the weights as trained, float32 throughout (PyTorch)
    bf16       ``torch.autocast`` to bfloat16 on the CPU: matrix products in bf16 with
               fp32 accumulation; fast where the CPU multiplies bf16 itself (AVX-512 BF16
               or AMX), emulated and slower than fp32 elsewhere
    int8       PyTorch's dynamic quantisation of the Linear layers (int8 weights, each
               batch's activations quantised on the fly), made at load time
    onnx-int8  the model's own ``model.int8.onnx`` (written by ``anrc package --onnx``)
               through onnxruntime; needs that file and onnxruntime
    auto       chosen at load time (:func:`choose`); ``$ANRC_FORM`` (one of the others)
               fixes what auto means, for a whole program or a test suite

On the shipped transformer (results/benchmarks/forms-semeval.txt, the 2,717 test
sentences on 2 cores of a CPU with AVX-512 VNNI and BF16, batch 32): fp32 253
sentences/s (87.10 F1), bf16 1.67x (87.11), PyTorch int8 2.19x (86.71), onnx-int8
1.87-2.4x (87.21; 87.09-87.25 with other batch sizes: dynamic quantisation scales each
batch's activations together, so a sentence's answer can depend on its batch
neighbours). ``auto`` takes the fastest form within 0.3 F1 of fp32 that needs nothing
the CPU lacks: onnx-int8 where the model has the file and onnxruntime is installed,
else bf16 on a CPU with native bf16, else fp32. PyTorch's int8 is never chosen (-0.39
there, over the 0.3 allowed).

Only prediction changes form. Gradients (saliency, attacks, training) always go through
the fp32 model, which the classifier keeps beside the form's own copy or graph.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import os
import warnings
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from anrc.data import Example
from anrc.errors import AnrcInputError
from anrc.inference.predict import predict_probs
from anrc.models.trained import TrainedModel
from anrc.progress import progress

FORMS = ("auto", "fp32", "bf16", "int8", "onnx-int8")
#: the file of the onnx-int8 form in a run or shipped model's folder
ONNX_INT8 = "model.int8.onnx"
#: CPU flags under which bf16 products run natively (Linux /proc/cpuinfo names)
BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})
#: CPU flags of int8 dot-product instructions
VNNI_FLAGS = frozenset({"avx512_vnni", "avx_vnni", "amx_int8"})
ORT_HINT = "the onnx-int8 form needs onnxruntime: pip install onnxruntime"


def cpu_flags(path: str | Path = "/proc/cpuinfo") -> frozenset[str]:
    """The CPU's feature flags (empty where /proc/cpuinfo is not there)."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def has_onnxruntime() -> bool:
    return importlib.util.find_spec("onnxruntime") is not None


def choose(
    form: str, device: torch.device, folder: Path | None = None,
    flags: frozenset[str] | None = None, ort: bool | None = None,
) -> str:  # fmt: skip
    """The form a model runs in: ``form`` itself unless it is ``auto`` (see the module)."""
    if form not in FORMS:
        raise AnrcInputError(f"form {form!r}: choose from {', '.join(FORMS)}")
    if form == "auto" and os.environ.get("ANRC_FORM"):
        form = os.environ["ANRC_FORM"]
        if form not in FORMS[1:]:
            raise AnrcInputError(f"$ANRC_FORM={form!r}: choose from {', '.join(FORMS[1:])}")
    if form != "auto":
        return form
    if device.type != "cpu":
        return "fp32"
    ort = has_onnxruntime() if ort is None else ort
    if folder is not None and (folder / ONNX_INT8).is_file() and ort:
        return "onnx-int8"
    return "bf16" if (cpu_flags() if flags is None else flags) & BF16_FLAGS else "fp32"


def onnx_session(path: str | Path, threads: int = 0):
    """An onnxruntime session on the CPU (``threads`` 0: its default, all cores)."""
    try:
        import onnxruntime as ort  # start-up: onnxruntime
    except ImportError:
        raise AnrcInputError(ORT_HINT) from None
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    opts.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


class OnnxGraph:
    """An exported graph: the featurised batch's tensors in, logits out."""

    def __init__(self, path: str | Path, threads: int = 0):
        self.session = onnx_session(path, threads)
        self.inputs = [i.name for i in self.session.get_inputs()]

    def probs(
        self, featurizer, examples: Sequence[Example], batch_size: int,
        show_progress: str | None = None,
    ) -> np.ndarray:  # fmt: skip
        """(N, C) label probabilities in the order of ``examples``."""
        out = None
        batches = featurizer.batches(examples, batch_size)
        if show_progress:
            n = -(-len(examples) // batch_size)
            batches = progress(batches, total=n, desc=show_progress, unit="batches")
        for idx, batch in batches:
            feeds = {name: getattr(batch, name).cpu().numpy() for name in self.inputs}
            logits = self.session.run(None, feeds)[0]
            e = np.exp(logits - logits.max(axis=1, keepdims=True))
            if out is None:
                out = np.zeros((len(examples), logits.shape[1]), dtype=np.float32)
            out[idx] = e / e.sum(axis=1, keepdims=True)
        return np.zeros((0, 0), dtype=np.float32) if out is None else out


class Runtime:
    """The form a classifier predicts in, and the copy or graph that form runs."""

    def __init__(self, trained: TrainedModel, form: str, folder: Path | None = None):
        device = trained.device
        self.form = choose(form, device, folder)
        if self.form != "fp32" and device.type != "cpu":
            raise AnrcInputError(f"form {self.form!r} is for the CPU; on {device.type} use fp32")
        self.trained, self.graph = trained, None
        if self.form == "int8":  # the same model with a quantised copy of the network
            self.trained = replace(trained, network=_quantised(trained.network))
        elif self.form == "onnx-int8":
            path = (folder or Path(".")) / ONNX_INT8
            if not path.is_file():
                raise AnrcInputError(f"form onnx-int8: {path} not found (anrc package --onnx)")
            self.graph = OnnxGraph(path, threads=torch.get_num_threads())

    def context(self):
        if self.form == "bf16":
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def probs(
        self, examples: Sequence[Example], batch_size: int,
        with_attention: bool = False, show_progress: str | None = None,
    ) -> tuple[np.ndarray, list[np.ndarray] | None]:  # fmt: skip
        """(N, C) probabilities, and each example's attention where the form keeps it
        (not the ONNX graph, which returns logits only)."""
        if self.graph is not None:
            featurizer = self.trained.featurizer
            return self.graph.probs(featurizer, examples, batch_size, show_progress), None
        with self.context():
            return predict_probs(self.trained, examples, batch_size, with_attention, show_progress)


def _quantised(model: torch.nn.Module) -> torch.nn.Module:
    """A copy of ``model`` with int8 dynamically quantised Linear layers."""
    with warnings.catch_warnings():  # torch marks torch.ao deprecated in favour of torchao
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(
            copy.deepcopy(model).eval(), {torch.nn.Linear}, dtype=torch.qint8
        )
