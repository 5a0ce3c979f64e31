"""Encoders, one file each, registered by name in :data:`ENCODERS`."""

from anrc.models.encoders import anrc  # noqa: F401  (registers)
from anrc.models.encoders.base import ENCODERS, Encoder, EncoderOutput

__all__ = ["ENCODERS", "Encoder", "EncoderOutput"]
