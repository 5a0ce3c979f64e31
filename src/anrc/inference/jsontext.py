"""Answers as JSON text: ``anrc predict --json``, ``anrc extract`` and ``anrc serve``.

Rendered by orjson, about 8 times as fast as the standard library's encoder on
prediction records, which are mostly floats: 1,000 records of ``semeval-fast`` cost 0.33
of predicting them through ``json.dumps`` and 0.04 through :func:`dumps`
(benchmarks/bench_json.py, results/benchmarks/json-semeval-fast.txt; what it did to the
paths users meet: docs/results/cost.md).
The text is compact UTF-8 (RFC 8259's encoding: non-ASCII words are written as they
are). orjson writes a NaN or an infinity as ``null``, where ``json.dumps(...,
allow_nan=False)`` refused it; :func:`dumps` keeps the refusal: a text that holds a
``null`` has its values checked (a walk in Python, so only then), and a number that is
not finite is a :class:`NotFinite`, never a silent null.
"""

from __future__ import annotations

import math

import numpy as np
import orjson

#: NumPy scalars and arrays as numbers and lists (a probability read straight from an array)
OPTIONS = orjson.OPT_SERIALIZE_NUMPY


class NotFinite(ValueError):
    """JSON values hold a NaN or an infinity, which no JSON text may."""


def finite(values) -> bool:
    """Whether every number in the JSON values ``values`` is finite."""
    if isinstance(values, float):
        return math.isfinite(values)
    if isinstance(values, dict):
        return _finite_items(tuple(values.values()))
    if isinstance(values, list | tuple):
        return _finite_items(values)
    if isinstance(values, np.ndarray | np.generic):
        return values.dtype.kind not in "fc" or bool(np.isfinite(values).all())
    return True


def _finite_items(values: list | tuple) -> bool:
    """:func:`finite` of a list's items: a list of numbers summed at C speed (a sum of
    absolute values is finite exactly when each is, short of overflow, which the slow path
    then settles), a list of words joined (nothing to check), anything else item by item
    (a record's walk took longer than orjson's rendering of it before these two)."""
    try:
        return math.isfinite(sum(map(abs, values))) or all(map(math.isfinite, values))
    except (TypeError, OverflowError):  # not only numbers, or an int past float's range
        pass
    try:
        "".join(values)
        return True
    except TypeError:  # not only words either
        return all(map(finite, values))


def dumps(values) -> bytes:
    """``values`` as compact UTF-8 JSON; :class:`NotFinite` where a number is NaN or
    infinite (orjson's ``null`` for them is checked, see the module's doc)."""
    text = orjson.dumps(values, option=OPTIONS)
    if b"null" in text and not finite(values):
        raise NotFinite("a number is NaN or infinite, which JSON cannot hold")
    return text


def dumps_str(values) -> str:
    """:func:`dumps` as a str (for a text stream)."""
    return dumps(values).decode("utf-8")
