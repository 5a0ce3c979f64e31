"""Predictions off the event loop, in chunks, under a deadline.

The model runs on worker threads of its own (``workers`` of them: ``anrc serve``
runs one per core, at most 4, each with one torch thread, the fastest setting on 2
cores in ``benchmarks/bench_serve.py``; the model is shared, in eval mode, and
saliency takes input gradients only, so no thread writes to it). A request's
sentences are sorted by length (a chunk pads little) and cut into chunks of about
``chunk_seconds`` of work each (25 ms by default: the words that take that long at the
worker's measured speed, a running estimate over its chunks, kept apart for requests
with saliency), or of a fixed ``chunk_words``; a longer sentence is a chunk of its own,
and a request's chunks are a multiple of the workers' number, of about equal words. A
fast model thus gets large chunks, which its cost per call needs, and a slow one small
chunks, which balance the workers better (benchmarks/bench_chunks.py). Each chunk
waits its turn for a worker in arrival order, so the chunks of the requests in
progress take turns: a small request waits for about one chunk of each other request,
not for the whole of a large one; answers go back in the request's order. A request
keeps one chunk in flight, and more (up to one a worker) while the workers have room,
so a request alone uses every worker and requests together share them; a worker whose
chunk ends first takes the request's next chunk at once (it had waited for the chunk
submitted before its own, so two workers went in lock step). Each chunk's predictions
are also turned into JSON on the worker, so the event loop only routes bytes and
``/health`` answers at once while the model works. A request that passes its deadline
stops between chunks and is answered 503; the chunk already running finishes in the
background (threads cannot be stopped), which the chunk size bounds.

A sentence the model cannot take (for the transformer: entities longer than its
max_length) does not sink its chunk: it is answered in place by an :class:`ItemError`
and the other sentences are predicted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import torch

from anrc.data import Example
from anrc.errors import AnrcInputError
from anrc.inference.api import NOT_NUMBERS, NotNumbers
from anrc.inference.jsontext import NotFinite, dumps
from anrc.serve.requests import BadRequest


class Timeout(Exception):
    """A request's predictions ran past its deadline."""


@dataclass(frozen=True)
class ItemError:
    """In place of a prediction: item ``index`` of the request, which the model cannot
    take, and why (one line)."""

    index: int
    problem: str

    def to_json(self) -> dict:
        return {"item": self.index, "error": self.problem}


def chunks(examples: Sequence[Example], chunk_words: int,
           multiple: int = 1) -> Iterator[list[tuple[int, Example]]]:  # fmt: skip
    """Consecutive runs of ``examples``, each as (index, example), of at most
    ``chunk_words`` words each (a longer sentence is a chunk on its own), cut into a
    multiple of ``multiple`` runs of about equal words where the sentences allow: a lone
    request's chunks then keep every worker busy to its end (5 chunks on 2 workers left
    one idle for the last; benchmarks/bench_paths.py)."""
    sizes = [len(ex.tokens) for ex in examples]
    total = sum(sizes)
    if not total:
        return
    runs = -(-total // (max(1, multiple) * chunk_words)) * max(1, multiple)
    share = total / runs
    groups: list[list[tuple[int, Example]]] = [[] for _ in range(runs)]
    at = 0
    for i, (ex, n) in enumerate(zip(examples, sizes, strict=True)):
        groups[min(runs - 1, int((at + n / 2) / share))].append((i, ex))  # by its middle
        at += n
    for group in groups:
        yield from _within(group, chunk_words)


def _within(group: list[tuple[int, Example]], chunk_words: int) -> Iterator[list]:
    """``group`` cut where it would pass ``chunk_words`` words."""
    chunk: list[tuple[int, Example]] = []
    words = 0
    for i, ex in group:
        n = len(ex.tokens)
        if chunk and words + n > chunk_words:
            yield chunk
            chunk, words = [], 0
        chunk.append((i, ex))
        words += n
    if chunk:
        yield chunk


def _as_json(index: int, prediction) -> bytes | ItemError:
    """A prediction as its JSON text (anrc.inference.jsontext); one whose scores are not
    numbers (never valid JSON) is an ItemError instead. Rendered here, on the worker, so
    the event loop only joins bytes."""
    try:
        return dumps(prediction.to_json())
    except NotFinite:
        return ItemError(index, NOT_NUMBERS)


#: words in a chunk before the worker has timed one; the fewest words it ever cuts to
FIRST_CHUNK_WORDS, MIN_CHUNK_WORDS = 128, 16
#: how far a new chunk's speed moves the running estimate
SPEED_WEIGHT = 0.2


class Worker:
    """Runs ``classifier.predict_many`` for requests, chunk by chunk, on its own threads.

    Its own threads, always the same ones: torch's OpenMP thread team belongs to the
    thread that calls it, and a fresh calling thread per chunk (a shared pool) made
    single-sentence requests 40% slower on 2 cores (teams spinning against each other).
    """

    def __init__(self, classifier, workers: int = 1, chunk_words: int | None = None,
                 chunk_seconds: float = 0.025):  # fmt: skip
        self.classifier = classifier
        self.fixed_words = chunk_words
        self.chunk_seconds = chunk_seconds
        #: one worker's words a second, with and without saliency (a running estimate)
        self.speed: dict[bool, float] = {}
        self.workers = max(1, workers)
        self.in_flight = 0  # chunks submitted and not finished (read and written on the loop)
        threads = torch.get_num_threads()
        self.pool = ThreadPoolExecutor(
            self.workers, "anrc-model", initializer=torch.set_num_threads, initargs=(threads,)
        )

    def chunk_words(self, saliency: bool) -> int:
        """Words in a chunk: the fixed ``chunk_words`` if given, else about
        ``chunk_seconds`` of one worker's measured speed (FIRST_CHUNK_WORDS until a chunk
        has been timed). A fast model then gets large chunks, which its per-call cost
        needs, and a slow one small chunks, which wait less and balance the workers
        (benchmarks/bench_chunks.py)."""
        if self.fixed_words:
            return self.fixed_words
        speed = self.speed.get(saliency)
        if speed is None:
            return FIRST_CHUNK_WORDS
        return max(MIN_CHUNK_WORDS, round(speed * self.chunk_seconds))

    def learn(self, saliency: bool, words: int, seconds: float) -> None:
        """Updates the speed estimate from a chunk of ``words`` that took ``seconds``
        (an exponential average: a fifth of the way to the new figure)."""
        if seconds <= 0 or words <= 0:
            return
        speed, old = words / seconds, self.speed.get(saliency)
        self.speed[saliency] = speed if old is None else old + SPEED_WEIGHT * (speed - old)

    def waiting(self) -> int:
        """Chunks queued for a worker thread."""
        return max(0, self.in_flight - self.workers)

    def _submit(self, loop, fn, *args) -> asyncio.Future:
        self.in_flight += 1
        job = loop.run_in_executor(self.pool, fn, *args)

        def done(_) -> None:
            self.in_flight -= 1

        job.add_done_callback(done)
        return job

    def _predict(self, chunk: list[tuple[int, Example]], saliency: bool) -> list[bytes | ItemError]:
        """Each (index, example) of ``chunk`` as its prediction's JSON text, or an ItemError for one
        the model cannot take (checked first: featurised once, reused from the cache)."""
        problems: dict[int, str] = {}
        good: list[Example] = []
        for i, ex in chunk:
            try:
                self.classifier.check(ex)
                good.append(ex)
            except AnrcInputError as err:
                problems[i] = err.problem
        start = time.perf_counter()
        preds = iter(self.classifier.predict_many(good, with_saliency=saliency) if good else ())
        self.learn(saliency, sum(len(ex.tokens) for ex in good), time.perf_counter() - start)
        return [
            ItemError(i, problems[i]) if i in problems else _as_json(i, next(preds))
            for i, _ in chunk
        ]

    async def predict(
        self, examples: Sequence[Example], timeout: float, saliency: bool = True
    ) -> list[bytes | ItemError]:
        """Each example's prediction as JSON text, or an ItemError where the model cannot
        take it (Timeout past ``timeout`` seconds)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        # by length, so that a chunk's sentences pad little; answers go back in order
        order = sorted(range(len(examples)), key=lambda i: len(examples[i].tokens))
        pending = [
            [(order[j], ex) for j, ex in chunk]
            for chunk in chunks(
                [examples[i] for i in order], self.chunk_words(saliency), self.workers
            )
        ]
        pending.reverse()  # popped from the end: the first chunk first
        answers: list[bytes | ItemError] = [b""] * len(examples)
        jobs: dict[asyncio.Future, list] = {}
        try:
            while pending or jobs:
                while pending and (not jobs or self.in_flight < self.workers):
                    chunk = pending.pop()
                    jobs[self._submit(loop, self._predict, chunk, saliency)] = chunk
                await self._collect(jobs, answers, deadline - loop.time(), timeout)
        finally:  # on timeout, an error or a dropped connection: queued chunks dropped
            for job in jobs:
                job.cancel()  # a running one finishes
        return answers

    @staticmethod
    async def _collect(jobs: dict, answers: list, left: float, timeout: float) -> None:
        """Waits for the first of ``jobs`` to finish (any one: a worker whose chunk ends
        first takes the next at once, not after the chunk submitted before it) and puts
        each finished chunk's answers in place; Timeout when ``left`` seconds pass."""
        done, _ = await asyncio.wait(jobs, timeout=max(0.0, left),
                                     return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
        if not done:
            raise Timeout(
                f"the prediction took longer than {timeout:g} s (anrc serve --timeout); "
                "send fewer or shorter sentences"
            )
        for job in done:
            chunk = jobs.pop(job)
            for (i, _), answer in zip(chunk, job.result(), strict=True):
                answers[i] = answer

    def _extract(self, texts: list[str], options: dict) -> list[bytes]:
        """Each text's extraction as its JSON text; a 422 where the model's scores (or a
        mention's) are NaN or infinite."""
        try:
            return [dumps(f.to_json()) for f in self.classifier.extract_many(texts, **options)]
        except (NotNumbers, NotFinite):
            raise BadRequest("request: the model gave scores that are not numbers", 422) from None

    async def extract(self, texts: list[str], options: dict, timeout: float) -> list[bytes]:
        """Each text's extraction (anrc.extraction) as JSON text, computed on a worker
        thread (Timeout past ``timeout`` seconds)."""
        loop = asyncio.get_running_loop()
        job = self._submit(loop, self._extract, texts, options)
        try:
            return await asyncio.wait_for(job, timeout)
        except TimeoutError:
            raise Timeout(
                f"the extraction took longer than {timeout:g} s (anrc serve --timeout); "
                "send fewer or shorter texts"
            ) from None
