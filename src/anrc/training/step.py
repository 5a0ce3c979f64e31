"""One optimisation step, and scoring a split with the official metric."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from anrc.adversarial.methods import AdversarialMethod, Step
from anrc.inference.predict import predict_labels
from anrc.metrics.scorer import accuracy, score
from anrc.models.trained import TrainedModel
from anrc.training.distributed import World, average_gradients, mean_over_processes


class NonFiniteLoss(RuntimeError):
    pass


@dataclass
class StepResult:
    loss: float  # the objective that was minimised
    clean_loss: float
    finite: bool


def train_step(
    model,
    step: Step,
    optimizer: torch.optim.Optimizer,
    method: AdversarialMethod,
    grad_clip: float,
    world: World | None = None,
) -> StepResult:
    """Zero the gradients, let the method compute its objective and gradients, (average
    them over the processes of a torchrun job,) clip, step."""
    model.train()
    optimizer.zero_grad(set_to_none=True)
    res = method.backward(model, step)
    value = float(res.objective)
    if world is not None and world.distributed:
        average_gradients(model, world)
        value = mean_over_processes(value, world)  # every process takes the same decision
    if not math.isfinite(value):
        optimizer.zero_grad(set_to_none=True)
        return StepResult(value, float(res.clean), False)
    if grad_clip > 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    return StepResult(value, float(res.clean), True)


def evaluate_split(model: TrainedModel, examples) -> tuple[list[str], dict]:
    """Predictions and official figures for labelled examples."""
    preds = predict_labels(model, examples)
    labels = model.labels
    gold = [ex.label for ex in examples]
    key = {ex.id: ex.label for ex in examples}
    report = score(key, {ex.id: p for ex, p in zip(examples, preds, strict=True)}, labels.negative)
    return preds, {"f1": report.official_f1, "accuracy": accuracy(gold, preds), "report": report}
