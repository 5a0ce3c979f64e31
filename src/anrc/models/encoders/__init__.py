"""Encoders, one file each, registered by name in :data:`ENCODERS`."""

from anrc.models.encoders import (  # noqa: F401  (register)
    anrc_bilstm,
    att_blstm,
    cnn,
    crcnn,
    entity_lstm,
    transformer,
)
from anrc.models.encoders.base import ENCODERS, Encoder, EncoderOutput, Inputs, Params

__all__ = ["ENCODERS", "Encoder", "EncoderOutput", "Inputs", "Params"]
