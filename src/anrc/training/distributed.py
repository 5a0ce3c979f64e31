"""Multi-process data-parallel training under ``torchrun`` (gloo on CPU, nccl on GPU).

    torchrun --standalone --nproc_per_node 2 -m anrc train --config ... --out RUN_DIR

Every process builds the same model from the same seed, takes its shard of each
epoch's batches (batch j of the epoch goes to process j mod N; an epoch has
floor(batches / N) steps, so every process steps together), and averages the
parameter gradients with all-reduce after the adversarial method's backward and
before clipping, which is what DistributedDataParallel does, without wrapping
the model (the methods call ``embed`` and ``forward`` several times per step).
The effective batch is N x ``train.batch_size``. Dropout and noise differ per
process; every process scores dev and test (so all take the same selection
decision), and only process 0 writes files. Results are the same as one
process in expectation, not bit for bit; resume restores process 0's random
state on every process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


def init_world() -> World:
    """The process group torchrun describes (RANK, WORLD_SIZE), or a single process."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return World()
    if not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return World(dist.get_rank(), dist.get_world_size())


def average_gradients(model: torch.nn.Module, world: World) -> None:
    """Replace every parameter gradient by its mean over the processes."""
    if not world.distributed:
        return
    for p in model.parameters():
        if p.requires_grad:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
            dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)
            p.grad.div_(world.size)


def mean_over_processes(value: float, world: World) -> float:
    """The mean of a number over the processes (the same on every process)."""
    if not world.distributed:
        return value
    t = torch.tensor([value], dtype=torch.float64)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return float(t[0]) / world.size
