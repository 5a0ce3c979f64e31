"""Model commands of the CLI (train, evaluate, predict); filled in by the model issue."""

from __future__ import annotations

import argparse


def add_model_commands(sub: argparse._SubParsersAction) -> None:
    return None
