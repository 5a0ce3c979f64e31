"""Where a model runs: ``train.device`` (and ``anrc attack --device``) -> a torch device.

``cpu`` is the default and what every committed CPU result used; ``cuda`` asks for
the GPU and is a clear error where none is visible; ``auto`` takes the GPU when
there is one. A model and its featuriser are placed together
(:meth:`anrc.models.trained.TrainedModel.to`), so every batch is built where the
model's weights are.
"""

from __future__ import annotations

import torch

from anrc.errors import AnrcInputError

DEVICES = ("cpu", "cuda", "auto")


def torch_device(name: str) -> torch.device:
    """The torch device for a setting value (a one-line error when ``cuda`` is not there)."""
    if name not in DEVICES:
        raise ValueError(f"device {name!r} is not one of {', '.join(DEVICES)}")
    if name == "cpu" or (name == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise AnrcInputError("device 'cuda' asked for, but no CUDA GPU is visible to torch")
    return torch.device("cuda")
