"""The training state: everything the loop carries from batch to batch, typed.

A checkpoint stores it beside the model, optimiser, scheduler and RNG states, so
``anrc train --resume`` continues bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields


@dataclass
class TrainState:
    epoch: int = 1  # the epoch being (or about to be) trained
    batch: int = 0  # batches of this epoch already trained
    order: list[list[int]] = field(default_factory=list)  # this epoch's batches (example indices)
    losses: list[float] = field(default_factory=list)  # this epoch's batch losses so far
    n_seen: int = 0  # examples trained this epoch
    step: int = 0  # optimisation steps over the whole run
    best_f1: float = -1.0  # best selection score so far (dev F1; the epoch without a dev split)
    best_epoch: int = 0
    best_state: dict | None = None  # model weights at best_epoch
    stale: int = 0  # epochs since the last improvement
    finished: bool = False

    def to_dict(self) -> dict:
        # Not dataclasses.asdict: it would deep-copy the best weights at every checkpoint.
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, d: dict) -> TrainState:
        return cls(**{f.name: d[f.name] for f in fields(cls)})

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def start_epoch(self, order: list[list[int]]) -> None:
        self.order, self.batch, self.losses, self.n_seen = order, 0, [], 0

    def improve(self, score: float, epoch: int, weights: dict) -> bool:
        """Record the epoch's selection score; True if it is the best so far."""
        if score > self.best_f1:
            self.best_f1, self.best_epoch, self.best_state, self.stale = score, epoch, weights, 0
            return True
        self.stale += 1
        return False
