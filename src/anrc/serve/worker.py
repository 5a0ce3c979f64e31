"""Predictions off the event loop, in chunks, under a deadline.

The model runs on worker threads of its own (``workers`` of them: ``anrc serve``
runs one per core, at most 4, each with one torch thread, the fastest setting on 2
cores in ``benchmarks/bench_serve.py``; the model is shared, in eval mode, and
saliency takes input gradients only, so no thread writes to it). A request's
sentences are cut into chunks of at most ``chunk_words`` words (a longer sentence
is a chunk of its own); each chunk waits its turn for a worker in arrival order,
so the chunks of the requests in progress take turns: a small request waits for
about one chunk of each other request, not for the whole of a large one. Each
chunk's predictions are also turned into JSON on the worker, so the event loop
only routes bytes and ``/health`` answers at once while the model works. A
request that passes its deadline stops between chunks and is answered 503; the
chunk already running finishes in the background (threads cannot be stopped),
which the chunk size bounds.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

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
    """Runs ``classifier.predict_many`` for requests, chunk by chunk, on its own threads.

    Its own threads, always the same ones: torch's OpenMP thread team belongs to the
    thread that calls it, and a fresh calling thread per chunk (a shared pool) made
    single-sentence requests 40% slower on 2 cores (teams spinning against each other).
    """

    def __init__(self, classifier, workers: int = 1, chunk_words: int = 256):
        import torch

        self.classifier = classifier
        self.chunk_words = chunk_words
        threads = torch.get_num_threads()
        self.pool = ThreadPoolExecutor(
            max(1, workers), "anrc-model", initializer=torch.set_num_threads, initargs=(threads,)
        )

    def waiting(self) -> int:
        """Chunks queued for a worker thread."""
        return self.pool._work_queue.qsize()

    def _predict(self, chunk: list[Example], saliency: bool) -> list[str]:
        preds = self.classifier.predict_many(chunk, with_saliency=saliency)
        return [json.dumps(p.to_json()) for p in preds]

    async def predict(
        self, examples: Sequence[Example], timeout: float, saliency: bool = True
    ) -> list[str]:
        """Each example's prediction as JSON text (Timeout past ``timeout`` seconds)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        out: list[str] = []
        for chunk in chunks(examples, self.chunk_words):
            job = loop.run_in_executor(self.pool, self._predict, chunk, saliency)
            try:  # on timeout a queued chunk is dropped; a running one finishes
                out += await asyncio.wait_for(job, max(0.0, deadline - loop.time()))
            except TimeoutError:
                raise Timeout(
                    f"the prediction took longer than {timeout:g} s (anrc serve --timeout); "
                    "send fewer or shorter sentences"
                ) from None
        return out
