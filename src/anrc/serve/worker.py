"""Predictions off the event loop, in chunks, under a deadline.

The model runs on worker threads (``workers`` of them; 1 by default, so the model
is never used by two threads at once and torch's own threads do the parallel
work). A request's sentences are cut into chunks of at most ``chunk_words``
words; each chunk waits its turn for a worker in arrival order, so the chunks
of a large request and those of small ones interleave: a small request waits
for at most one chunk per worker, not for the whole large request. The event
loop only parses and answers, so ``/health`` answers at once while a model
works. A request that passes its deadline stops between chunks and is answered
503; the chunk already running finishes in the background (threads cannot be
stopped), which the chunk size bounds.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import anyio
import anyio.to_thread

from anrc.data import Example


class Timeout(Exception):
    """A request's predictions ran past its deadline."""


def chunks(examples: Sequence[Example], chunk_words: int) -> Iterator[list[Example]]:
    """Consecutive runs of ``examples`` of at most ``chunk_words`` words each (a longer
    sentence is a chunk on its own)."""
    chunk: list[Example] = []
    words = 0
    for ex in examples:
        n = len(ex.tokens)
        if chunk and words + n > chunk_words:
            yield chunk
            chunk, words = [], 0
        chunk.append(ex)
        words += n
    if chunk:
        yield chunk


class Worker:
    """Runs ``classifier.predict_many`` for requests, chunk by chunk, on worker threads."""

    def __init__(self, classifier, workers: int = 1, chunk_words: int = 1024):
        self.classifier = classifier
        self.chunk_words = chunk_words
        self.limiter = anyio.CapacityLimiter(max(1, workers))

    def _predict(self, chunk: list[Example]) -> list:
        return self.classifier.predict_many(chunk, with_saliency=True)

    async def predict(self, examples: Sequence[Example], timeout: float) -> list:
        """Predictions for ``examples`` (Timeout past ``timeout`` seconds)."""
        out: list = []
        try:
            with anyio.fail_after(timeout):
                for chunk in chunks(examples, self.chunk_words):
                    out += await anyio.to_thread.run_sync(
                        self._predict, chunk, limiter=self.limiter, abandon_on_cancel=True
                    )
        except TimeoutError:
            raise Timeout(
                f"the prediction took longer than {timeout:g} s (anrc serve --timeout); send "
                "fewer or shorter sentences"
            ) from None
        return out
