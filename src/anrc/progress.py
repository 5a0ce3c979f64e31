"""Progress feedback for long jobs: a tqdm bar with ETA on a terminal, plain lines otherwise.

    for batch in progress(batches, total=len(batches), desc="predict", unit="batch"):
        ...

A loop that writes its own line (training: the loss so far) calls :func:`status` at
every item and :func:`final` at its end, under the same rule.

On a terminal (the stream is a TTY) a tqdm bar is drawn and removed at the end;
elsewhere (logs, pipes, CI) a plain line ``desc: done/total (pct%), rate/s, ETA``
is written at every tenth of the way, so logs stay short and readable. With
``total`` unknown the plain lines come every ``every`` items.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TextIO, TypeVar

from tqdm import tqdm

T = TypeVar("T")


def _eta(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def progress(
    items: Iterable[T],
    total: int | None = None,
    desc: str = "",
    unit: str = "it",
    stream: TextIO | None = None,
    every: int = 1000,
) -> Iterator[T]:
    stream = stream or sys.stderr
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    if stream.isatty():
        yield from tqdm(items, total=total, desc=desc, unit=unit, file=stream, leave=False)
        return
    t0 = time.perf_counter()
    step = max(1, total // 10) if total else every
    for done, item in enumerate(items, start=1):
        yield item
        if done % step == 0 or done == total:
            rate = done / max(time.perf_counter() - t0, 1e-9)
            if total:
                left = _eta((total - done) / rate)
                line = f"{desc}: {done}/{total} {unit} ({100 * done / total:.0f}%), "
                line += f"{rate:.1f} {unit}/s, ETA {left}"
            else:
                line = f"{desc}: {done} {unit}, {rate:.1f} {unit}/s"
            print(line, file=stream, flush=True)


def status(stream: TextIO, done: int, total: int, line: Callable[[], str]) -> None:
    """A loop's own state line after item ``done`` of ``total``: redrawn in place every
    10 items on a terminal; elsewhere written at every tenth of the way."""
    if stream.isatty():
        if done % 10 == 0 or done == total:
            stream.write("\r" + line())
            stream.flush()
    elif done % max(1, total // 10) == 0 or done == total:
        print(line(), file=stream, flush=True)


def final(stream: TextIO, text: str) -> None:
    """The loop's closing line (over the state line on a terminal)."""
    print(("\r" if stream.isatty() else "") + text, file=stream, flush=True)
