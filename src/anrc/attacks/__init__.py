"""Attacks on trained models: white-box in embedding space, black-box word substitution."""

from anrc.attacks.embedding import EMBEDDING_ATTACKS
from anrc.attacks.word import WORD_ATTACKS


def attack_names() -> tuple[str, ...]:
    """Every attack ``anrc attack --method`` and a grid's ``[[attack]]`` accept."""
    return EMBEDDING_ATTACKS.choices() + WORD_ATTACKS.choices()


__all__ = ["EMBEDDING_ATTACKS", "WORD_ATTACKS", "attack_names"]
