"""Candidate pairs: two mentions of one sentence, in both orders, within a window
(the rule lives in :mod:`anrc.data.candidates`, where training draws negatives from it)."""

from anrc.data.candidates import candidate_pairs

__all__ = ["candidate_pairs"]
