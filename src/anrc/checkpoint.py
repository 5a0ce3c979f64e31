"""Training checkpoints: everything needed to continue a run bit for bit.

A checkpoint is one dict (model, optimiser, scheduler, best model so far, the
torch and numpy RNG states, the epoch's batch order and position, counters),
saved with ``torch.save`` and read back with ``torch.load(weights_only=True)``,
which refuses anything but tensors and plain containers: no code runs from it.
Writes are atomic (temporary file, fsync, rename), so a kill at any moment
leaves the previous checkpoint readable.
"""

from __future__ import annotations

from pathlib import Path

import torch

CHECKPOINT = "checkpoint.pt"
CHECKPOINT_VERSION = 1
_REQUIRED = (
    "version",
    "model",
    "optimizer",
    "scheduler",
    "torch_rng",
    "numpy_rng",
    "epoch",
    "batch",
    "order",
    "losses",
    "n_seen",
    "step",
    "best_f1",
    "best_epoch",
    "best_state",
    "stale",
    "finished",
)


class CheckpointError(ValueError):
    """A checkpoint that cannot be used."""


def save_checkpoint(run_dir: Path, state: dict) -> None:
    from .runio import atomic_save

    payload = {"version": CHECKPOINT_VERSION, **state}
    atomic_save(Path(run_dir) / CHECKPOINT, lambda tmp: torch.save(payload, tmp))


def load_checkpoint(run_dir: Path) -> dict:
    path = Path(run_dir) / CHECKPOINT
    if not path.is_file():
        raise CheckpointError(f"{path}: no checkpoint to resume from")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated, corrupt, or holding objects weights_only refuses
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(f"{path}: unreadable checkpoint ({first[:200]})") from None
    if not isinstance(state, dict) or any(k not in state for k in _REQUIRED):
        raise CheckpointError(f"{path}: not an anrc checkpoint (missing fields)")
    if state["version"] > CHECKPOINT_VERSION:
        raise CheckpointError(
            f"{path}: written by a newer anrc (checkpoint version {state['version']})"
        )
    return state
