"""Summary statistics of a dataset (``anrc data stats``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from anrc.data import Example
from anrc.data.labels import strip_direction


def _summary(values: Sequence[int]) -> dict:
    if not values:
        return {"min": 0, "max": 0, "mean": 0.0, "median": 0.0, "p95": 0}
    s = sorted(values)
    n = len(s)
    median = s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2
    return {
        "min": s[0],
        "max": s[-1],
        "mean": round(sum(s) / n, 2),
        "median": median,
        "p95": s[min(n - 1, int(0.95 * n))],
    }


def _percent(count: int, total: int) -> str:
    # Half-up rounding, as the task's TRAIN_TEST_DISTRIB.TXT prints 1410/8000 as 17.63%.
    q = (Decimal(100 * count) / Decimal(total)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return f"{q:5}"


def entity_distance(ex: Example) -> int:
    """Number of tokens strictly between the two entity mentions."""
    (s1, e1), (s2, e2) = sorted([ex.e1, ex.e2])
    return max(0, s2 - e1)


def dataset_stats(examples: Sequence[Example]) -> dict:
    labels = [ex.label for ex in examples if ex.label is not None]
    relations = Counter(strip_direction(lab) for lab in labels)
    return {
        "examples": len(examples),
        "labelled": len(labels),
        "relations": dict(relations.most_common()),
        "labels": dict(Counter(labels).most_common()),
        "sentence_length": _summary([len(ex.tokens) for ex in examples]),
        "entity_distance": _summary([entity_distance(ex) for ex in examples]),
        "entity_length": _summary([e - s for ex in examples for s, e in (ex.e1, ex.e2)]),
    }


def format_stats(stats: dict, name: str) -> str:
    """Text layout; the distribution block follows TRAIN_TEST_DISTRIB.TXT."""
    n = stats["examples"]
    lines = [f"{name}", f"TOTAL : {n}"]
    total = stats["labelled"] or 1
    if stats["labelled"]:
        lines.append("")
        lines.append(f"<<<Distribution ({stats['labelled']} labelled)>>>")
        for rel, count in stats["relations"].items():
            lines.append(f"{rel:>20} : {count:5d} ({_percent(count, total)}%)")
        lines.append("")
        lines.append("<<<Directed labels>>>")
        for lab, count in stats["labels"].items():
            lines.append(f"{lab:>26} : {count:5d} ({_percent(count, total)}%)")
    for key, title in (
        ("sentence_length", "sentence length (tokens)"),
        ("entity_distance", "tokens between the entities"),
        ("entity_length", "entity length (tokens)"),
    ):
        s = stats[key]
        lines.append("")
        lines.append(
            f"{title}: min {s['min']}  median {s['median']}  mean {s['mean']}  "
            f"p95 {s['p95']}  max {s['max']}"
        )
    return "\n".join(lines) + "\n"
