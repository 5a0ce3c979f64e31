"""The Python API: ``model = anrc.load(RUN_DIR); model.predict("The <e1>..</e1> ..")``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from anrc.data import Example, to_example
from anrc.device import torch_device
from anrc.extraction import Extraction, extract_many
from anrc.extraction import Options as ExtractOptions
from anrc.extraction.extract import DEFAULT_THRESHOLD, default_decoding
from anrc.extraction.tagger import Tagger
from anrc.inference.calibrate import Calibration
from anrc.inference.forms import Runtime
from anrc.inference.saliency import saliency
from anrc.models.trained import TrainedModel
from anrc.pretrained import find_model, find_tagger, model_tagger

ENTITIES = ("e1", "e2")
#: what a sentence answered with NaN or infinite scores becomes (never valid JSON)
NOT_NUMBERS = "the model gave scores that are not numbers for this sentence"


class NotNumbers(ValueError):
    """The model's scores for a sentence are NaN or infinite."""

    def __init__(self) -> None:
        super().__init__(NOT_NUMBERS)


@dataclass
class Prediction:
    label: str
    score: float  # probability of ``label``
    scores: dict[str, float]  # probability of every label
    tokens: list[str]  # as the encoder sees them (entity markers included, if any)
    attention: list[float] | None  # weight of every token (sums to 1), None without attention
    saliency: list[float] | None = None  # gradient-norm weight of every token, when asked for
    #: the entities' words ({"e1": "the singer", "e2": ...}) and their [start, end) in ``tokens``
    entities: dict[str, str] | None = None
    spans: dict[str, tuple[int, int]] | None = None
    roles: list[str] | None = None  # each token's part: "e1", "e2", "marker" or ""
    #: the same over the user's own words (word pieces merged, markers and [CLS] left
    #: out): {"words", "roles", "attention", "saliency"}; what a reader is shown
    words: dict | None = None

    def to_json(self) -> dict:
        """The prediction as JSON values (render them with anrc.inference.jsontext.dumps:
        a score that is not a number raises NotFinite rather than writing invalid JSON)."""
        out = {
            "label": self.label,
            "score": self.score,
            "scores": self.scores,
            "tokens": self.tokens,
            "attention": self.attention,
            "entities": self.entities,
            "spans": {k: list(v) for k, v in (self.spans or {}).items()},
            "roles": self.roles,
        }
        if self.saliency is not None:
            out["saliency"] = self.saliency
        if self.words is not None:
            out["words"] = self.words
        return out


def words_view(ex: Example, marked, attention, saliency) -> dict:
    """Token weights over the example's own words: a word's pieces summed, what the
    encoder added (markers, [CLS], [SEP]) left out, then scaled to sum to 1."""
    owner = marked.words or list(range(len(marked.tokens)))
    roles = [""] * len(ex.tokens)
    for name in ENTITIES:
        start, end = getattr(ex, name)
        roles[start:end] = [name] * (end - start)

    def merged(weights) -> list[float] | None:
        if weights is None:
            return None
        out = [0.0] * len(ex.tokens)
        for w, value in zip(owner, weights, strict=False):
            if w is not None:
                out[w] += float(value)
        total = sum(out)
        return [v / total for v in out] if total > 0 else out

    view = {"words": list(ex.tokens), "roles": roles, "attention": merged(attention)}
    if saliency is not None:
        view["saliency"] = merged(saliency)
    return view


def token_roles(marked) -> list[str]:
    """Each featurised token's part: "e1", "e2", "marker" (an entity marker) or ""."""
    roles = [""] * len(marked.tokens)
    for name, (start, end) in (("e1", marked.e1), ("e2", marked.e2)):
        roles[start:end] = [name] * (end - start)
    if marked.starts != (marked.e1[0], marked.e2[0]):  # markers stand around the entities
        for i in (*marked.starts, marked.e1[1], marked.e2[1]):
            if i < len(roles):
                roles[i] = "marker"
    return roles


class RelationClassifier:
    """A :class:`TrainedModel` answering in a form (fp32, bf16, int8, onnx-int8): tagged
    sentences, OpenNRE items or Examples in, :class:`Prediction` out; training and
    inference share one featuriser."""

    def __init__(self, trained: TrainedModel, form: str = "fp32", folder=None, tagger=None):
        self.trained = trained
        self.runtime = Runtime(trained, form, folder and Path(folder))
        self._tagger_at = find_tagger(tagger) if tagger else model_tagger(folder)
        #: temperature and no-relation threshold fitted on held-out data (anrc calibrate)
        self.calibration = Calibration.load(folder) if folder else None
        self._tagger: Tagger | None = None

    @property
    def tagger(self) -> Tagger | None:
        """The mention tagger :meth:`extract` uses (``source="auto"`` or ``"tagger"``):
        the one given, else the model folder's (``tagger/`` or ``extract.json``); loaded
        on first use. None when there is none."""
        if self._tagger is None and self._tagger_at is not None:
            self._tagger = Tagger.load(self._tagger_at)
        return self._tagger

    @property
    def config(self):
        """The resolved settings the model was trained with."""
        return self.trained.config

    @property
    def labels(self):
        return self.trained.labels

    @property
    def form(self) -> str:
        """The form predictions run in (anrc.inference.forms): fp32, bf16 or int8."""
        return self.runtime.form

    def probs(
        self, examples: Sequence[Example], batch_size: int | None = None,
        with_attention: bool = False, show_progress: str | None = None,
    ) -> tuple[np.ndarray, list[np.ndarray] | None]:  # fmt: skip
        """(N, C) label probabilities (and attention) in this classifier's form;
        ``batch_size`` None: the encoder's own (``Encoder.inference_batch_size``)."""
        batch_size = batch_size or self.trained.network.encoder.inference_batch_size
        probs, attn = self.runtime.probs(examples, batch_size, with_attention, show_progress)
        if self.calibration is not None and len(probs):
            probs = self.calibration.apply(probs)
        return probs, attn

    def raw_probs(self, examples: Sequence[Example]) -> np.ndarray:
        """(N, C) probabilities without the calibration's temperature (to fit one)."""
        batch_size = self.trained.network.encoder.inference_batch_size
        return self.runtime.probs(examples, batch_size, False, None)[0]

    def predict_many(
        self,
        items: Sequence[str | dict | Example],
        batch_size: int | None = None,
        with_saliency: bool = False,
    ) -> list[Prediction]:
        """Predictions for tagged sentences, OpenNRE items or Examples; ``with_saliency``
        adds each token's gradient-norm saliency (anrc.inference.saliency)."""
        examples = [to_example(it, str(i)) for i, it in enumerate(items)]
        probs, attn = self.probs(examples, batch_size, with_attention=True)
        sal = saliency(self.trained, examples) if with_saliency else None
        out = []
        for i, ex in enumerate(examples):
            p = probs[i]
            k = int(p.argmax())
            marked = self.trained.featurizer.marked(ex)
            a = None if attn is None or not len(attn[i]) else attn[i].tolist()
            g = None if sal is None else sal[i].tolist()
            out.append(
                Prediction(
                    label=self.labels.labels[k],
                    score=float(p[k]),
                    scores={lab: float(v) for lab, v in zip(self.labels.labels, p, strict=True)},
                    tokens=marked.tokens,
                    attention=a,
                    saliency=g,
                    entities={k: " ".join(ex.tokens[slice(*getattr(ex, k))]) for k in ENTITIES},
                    spans={"e1": marked.e1, "e2": marked.e2},
                    roles=token_roles(marked),
                    words=words_view(ex, marked, a, g),
                )
            )
        return out

    def predict_labels(
        self,
        items: Sequence[str | dict | Example],
        batch_size: int | None = None,
        show_progress: str | None = None,
    ) -> list[str]:
        """The label of each tagged sentence, OpenNRE item or Example (the official
        scorer's input)."""
        examples = [to_example(it, str(i)) for i, it in enumerate(items)]
        probs, _ = self.probs(examples, batch_size, show_progress=show_progress)
        return [self.labels.labels[i] for i in probs.argmax(axis=1)]

    @property
    def default_decoding(self) -> str:
        """How :meth:`extract` decodes unless told: ``pair`` for a model trained with
        unannotated pairs as negatives (data.negatives), else ``sentence``."""
        return default_decoding(self.config.data.negatives)

    @property
    def default_threshold(self) -> float:
        """The least probability of a relation :meth:`extract` reports unless told: the
        calibrated one (anrc calibrate), else 0.5."""
        return DEFAULT_THRESHOLD if self.calibration is None else self.calibration.threshold

    def check(self, ex: Example) -> None:
        """Raise AnrcInputError when the model cannot take ``ex`` (for the transformer:
        entities whose own word pieces exceed its max_length); featurises it once,
        which the prediction then reuses where the featuriser caches."""
        self.trained.featurizer.length(ex)

    def extract(self, text: str, **options) -> Extraction:
        """Relations found in raw ``text`` (no tags): its sentences, candidate mentions
        and every candidate pair classified in both orders (:mod:`anrc.extraction`);
        ``options`` are :class:`anrc.extraction.Options`' fields (source, window,
        mentions, decoding, threshold, with_negative, split); unset, ``decoding`` is
        :attr:`default_decoding` and ``threshold`` :attr:`default_threshold`.
        :class:`NotNumbers` (a ValueError) where the model answers a pair with NaN or
        infinite scores."""
        return self.extract_many([text], **options)[0]

    def extract_many(self, texts: Sequence[str], **options) -> list[Extraction]:
        """:meth:`extract` for several texts, their pairs classified in one batch."""
        opts = ExtractOptions(**options)
        opts = replace(
            opts,
            decoding=opts.decoding or self.default_decoding,
            threshold=self.default_threshold if opts.threshold is None else opts.threshold,
        )
        return extract_many(texts, self._finite_probs, self.labels, opts, self.check, self.tagger)

    def _finite_probs(self, examples: Sequence[Example]) -> np.ndarray:
        """(N, C) probabilities; NotNumbers if any is NaN or infinite (a decoding would
        read such a pair as no relation, and say nothing)."""
        probs = self.probs(examples)[0]
        if not np.isfinite(probs).all():
            raise NotNumbers()
        return probs

    def predict(self, item: str | dict | Example) -> Prediction:
        return self.predict_many([item])[0]

    def infer(self, item: str | dict | Example) -> tuple[str, float]:
        """OpenNRE-style: (label, probability)."""
        p = self.predict(item)
        return p.label, p.score


def load(run_dir: str | Path, device: str = "cpu", form: str = "auto",
         tagger: str | Path | None = None) -> RelationClassifier:  # fmt: skip
    """Load a trained run directory, or a shipped model by name (``"semeval"``), on
    ``device`` (cpu, cuda or auto), predicting in ``form`` (fp32, bf16, int8 or auto:
    :mod:`anrc.inference.forms`); ``tagger``: a mention tagger folder or shipped name for
    :meth:`RelationClassifier.extract` (default: the model's own, if any). Safetensors +
    JSON, no code is executed."""
    folder = find_model(run_dir)
    trained = TrainedModel.load(folder).to(torch_device(device))
    return RelationClassifier(trained, form, folder, tagger)
