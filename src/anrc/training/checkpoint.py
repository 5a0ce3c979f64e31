"""Training checkpoints: everything needed to continue a run bit for bit.

A checkpoint is one dict (model, optimiser, scheduler, the torch (CPU and, on a
GPU, CUDA) and numpy RNG states, and the :class:`~anrc.training.state.TrainState`), saved with
``torch.save`` and read back with ``torch.load(weights_only=True)``, which
refuses anything but tensors and plain containers: no code runs from it.
Writes are atomic (temporary file, fsync, rename), so a kill at any moment
leaves the previous checkpoint readable.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from anrc.fsio import atomic_save
from anrc.training.state import TrainState

CHECKPOINT = "checkpoint.pt"
CHECKPOINT_VERSION = 2


class CheckpointError(ValueError):
    """A checkpoint that cannot be used."""


@dataclass
class Checkpoint:
    model: dict
    optimizer: dict
    scheduler: dict
    torch_rng: torch.Tensor
    numpy_rng: dict
    state: TrainState
    cuda_rng: list[torch.Tensor] | None = None  # the GPUs' generators, when training on cuda


def save_checkpoint(run_dir: Path, ck: Checkpoint) -> None:
    payload = {
        "version": CHECKPOINT_VERSION,
        "model": ck.model,
        "optimizer": ck.optimizer,
        "scheduler": ck.scheduler,
        "torch_rng": ck.torch_rng,
        "numpy_rng": ck.numpy_rng,
        "state": ck.state.to_dict(),
        "cuda_rng": ck.cuda_rng,
    }
    atomic_save(Path(run_dir) / CHECKPOINT, lambda tmp: torch.save(payload, tmp))


def load_checkpoint(run_dir: Path) -> Checkpoint:
    path = Path(run_dir) / CHECKPOINT
    if not path.is_file():
        raise CheckpointError(f"{path}: no checkpoint to resume from")
    try:
        d = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated, corrupt, or holding objects weights_only refuses
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(f"{path}: unreadable checkpoint ({first[:200]})") from None
    if not isinstance(d, dict) or not isinstance(d.get("version"), int):
        raise CheckpointError(f"{path}: not an anrc checkpoint (missing fields)")
    if d["version"] > CHECKPOINT_VERSION:
        raise CheckpointError(
            f"{path}: written by a newer anrc (checkpoint version {d['version']})"
        )
    if d["version"] < CHECKPOINT_VERSION:
        raise CheckpointError(
            f"{path}: written by an older anrc (checkpoint version {d['version']}); "
            "train the run again"
        )
    state = d.get("state")
    names = ("model", "optimizer", "scheduler", "torch_rng", "numpy_rng")
    if (
        any(k not in d for k in names)
        or not isinstance(state, dict)
        or any(k not in state for k in TrainState.field_names())
    ):
        raise CheckpointError(f"{path}: not an anrc checkpoint (missing fields)")
    return Checkpoint(*(d[k] for k in names), TrainState.from_dict(state), d.get("cuda_rng"))
