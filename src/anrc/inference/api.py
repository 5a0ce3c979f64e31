"""The Python API: ``model = anrc.load(RUN_DIR); model.predict("The <e1>..</e1> ..")``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from anrc.data import Example, example_from_json, parse_tagged
from anrc.inference.predict import predict_probs

ENTITIES = ("e1", "e2")


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

    def to_json(self) -> dict:
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
        return out


def to_example(item: str | dict | Example, default_id: str = "0") -> Example:
    """A tagged sentence, an OpenNRE-style dict, or an Example -> Example (ValueError if bad)."""
    if isinstance(item, Example):
        return item
    if isinstance(item, dict):
        return example_from_json(item, default_id)
    if isinstance(item, str):
        tokens, e1, e2 = parse_tagged(item)
        if not tokens:
            raise ValueError("empty sentence")
        return Example(default_id, tokens, e1, e2)
    raise ValueError(f"cannot predict on a {type(item).__name__}")


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
    """A trained model with its own preprocessing: training and inference share one path."""

    def __init__(self, cfg, model, featurizer, labels):
        self.config, self.model, self.featurizer, self.labels = cfg, model, featurizer, labels

    def predict_many(
        self,
        items: Sequence[str | dict | Example],
        batch_size: int = 256,
        with_saliency: bool = False,
    ) -> list[Prediction]:
        """Predictions for tagged sentences, OpenNRE items or Examples; ``with_saliency``
        adds each token's gradient-norm saliency (anrc.inference.saliency)."""
        examples = [to_example(it, str(i)) for i, it in enumerate(items)]
        probs, attn = predict_probs(self.model, self.featurizer, examples, batch_size, True)
        sal = None
        if with_saliency:
            from anrc.inference.saliency import saliency

            sal = saliency(self.model, self.featurizer, examples)
        out = []
        for i, ex in enumerate(examples):
            p = probs[i]
            k = int(p.argmax())
            marked = self.featurizer.marked(ex)
            out.append(
                Prediction(
                    label=self.labels.labels[k],
                    score=float(p[k]),
                    scores={lab: float(v) for lab, v in zip(self.labels.labels, p, strict=True)},
                    tokens=marked.tokens,
                    attention=None if attn is None or not len(attn[i]) else attn[i].tolist(),
                    saliency=None if sal is None else sal[i].tolist(),
                    entities={k: " ".join(ex.tokens[slice(*getattr(ex, k))]) for k in ENTITIES},
                    spans={"e1": marked.e1, "e2": marked.e2},
                    roles=token_roles(marked),
                )
            )
        return out

    def predict_labels(
        self,
        items: Sequence[str | dict | Example],
        batch_size: int = 256,
        show_progress: str | None = None,
    ) -> list[str]:
        """The label of each tagged sentence, OpenNRE item or Example (the official
        scorer's input)."""
        from anrc.inference.predict import predict_labels

        examples = [to_example(it, str(i)) for i, it in enumerate(items)]
        return predict_labels(
            self.model, self.featurizer, self.labels, examples, batch_size, show_progress
        )

    def check(self, ex: Example) -> None:
        """Raise AnrcInputError when the model cannot take ``ex`` (for the transformer:
        entities whose own word pieces exceed its max_length); featurises it once,
        which the prediction then reuses where the featuriser caches."""
        self.featurizer.length(ex)

    def predict(self, item: str | dict | Example) -> Prediction:
        return self.predict_many([item])[0]

    def infer(self, item: str | dict | Example) -> tuple[str, float]:
        """OpenNRE-style: (label, probability)."""
        p = self.predict(item)
        return p.label, p.score


def load(run_dir: str | Path, device: str = "cpu") -> RelationClassifier:
    """Load a trained run directory, or a shipped model by name (``"semeval"``), on
    ``device`` (cpu, cuda or auto); safetensors + JSON, no code is executed."""
    from anrc.device import place, torch_device
    from anrc.pretrained import find_model
    from anrc.rundir import load_run

    run = load_run(find_model(run_dir))
    place(run.model, run.featurizer, torch_device(device))
    return RelationClassifier(run.config, run.model, run.featurizer, run.labels)
