"""The size of ``anrc serve``'s chunks, measured without HTTP: the server's own
:class:`~anrc.serve.worker.Worker` (``--workers`` threads of ``--threads`` torch
threads each, the model loaded as ``anrc serve`` loads it) answers the first
``--sentences`` test sentences in requests of ``--items``, one request after another
(a single client's closed loop), once for each chunk time (``--chunk-ms``, serve's
rule: the words that take that long at the worker's measured speed; the words each
came to are printed) and each fixed size (``--chunk-words``); ``predict_labels`` on all of
them at once (``--threads`` x ``--workers`` torch threads) is the baseline. Passes
interleaved, median of ``--repeats``; the ratio is each time over the baseline's.

    .venv/bin/python benchmarks/bench_chunks.py [MODEL] [--chunk-words 64 128 256]
        [--sentences 1000] [--items 64] [--repeats 5] [--out results/benchmarks/chunks-MODEL.txt]
"""

import argparse
import asyncio
from pathlib import Path

import torch
from common import add_model_options, interleaved, ratio_table, report, test_sentences

import anrc
from anrc.cli.serve import WORKERS
from anrc.serve.requests import Limits
from anrc.serve.worker import Worker

ap = argparse.ArgumentParser()
add_model_options(ap, repeats=5, threads=1)  # --threads: each worker's
ap.add_argument("--chunk-ms", type=float, nargs="+", default=[10.0, 25.0, 50.0])
ap.add_argument("--chunk-words", type=int, nargs="*", default=[64, 256, 1024])
ap.add_argument("--items", type=int, default=64, help="sentences a request")
ap.add_argument("--workers", type=int, default=WORKERS)
args = ap.parse_args()

test = test_sentences(args.sentences)
requests = [test[i : i + args.items] for i in range(0, len(test), args.items)]
torch.set_num_threads(args.threads * args.workers)
whole = anrc.load(args.model)
torch.set_num_threads(args.threads)  # as anrc serve: before loading (an ONNX form's threads)
served = anrc.load(args.model)
whole.predict_labels(test[:64])  # warm-up
served.predict_many(test[:64])


def closed_loop(worker: Worker):
    async def one_client():
        for examples in requests:
            await worker.predict(examples, 600.0, saliency=False)

    return lambda: asyncio.run(one_client())


torch.set_num_threads(args.threads)  # each worker thread's own team (Worker's initializer)
paths = {"predict_labels": lambda: whole.predict_labels(test)}
timed = {}
for ms in args.chunk_ms:
    timed[ms] = Worker(served, args.workers, chunk_seconds=ms / 1000)
    paths[f"Worker, chunks of {ms:g} ms"] = closed_loop(timed[ms])
for words in args.chunk_words:
    paths[f"Worker, chunks of {words} words"] = closed_loop(Worker(served, args.workers, words))
torch.set_num_threads(args.threads * args.workers)
times = interleaved(paths, args.repeats)


def words(ms: float) -> int:
    return timed[ms].chunk_words(saliency=False)


out = [
    f"{args.model}, form {served.form}: the first {len(test):,} test sentences in requests "
    f"of {args.items}, one client; {args.workers} workers x {args.threads} threads; "
    f"median of {args.repeats} interleaved passes (anrc serve's default: chunks of "
    f"{Limits().chunk_ms:g} ms); words a chunk at the end: "
    + ", ".join(f"{words(ms)} ({ms:g} ms)" for ms in timed),
    *ratio_table(times, "predict_labels", len(test)),
]
report(out, args.out and Path(args.out))
