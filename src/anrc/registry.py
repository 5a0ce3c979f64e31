"""Registries: one name list for each kind of pluggable piece.

An encoder, an adversarial method, a pooling or a head registers itself under a
name where it is defined::

    ENCODERS = Registry("encoder")

    @ENCODERS.register("cnn")
    class CNNEncoder(Encoder): ...

Config validation (``model.encoder`` must be a registered name) and the CLI's
``choices`` read :meth:`Registry.choices`, so a name list lives in one place.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

T = TypeVar("T")


def did_you_mean(name: str, known: Iterable[str], prefix: str = "") -> str:
    """`` (did you mean PREFIX+X?)`` for the closest X of ``known`` to a mistyped ``name``,
    or ''."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {prefix}{close[0]}?)" if close else ""


class Registry(Generic[T]):
    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def add(item: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._items[name] = item
            if isinstance(item, type):
                item.registered_name = name  # type: ignore[attr-defined]
            return item

        return add

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise ValueError(
                f"unknown {self.kind} {name!r}{did_you_mean(name, self.choices())}; choose "
                f"from {', '.join(self.choices())}"
            ) from None

    def choices(self) -> tuple[str, ...]:
        return tuple(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items
