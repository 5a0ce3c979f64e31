"""Cost of each adversarial-training method's step against a plain step, in one run.

Every registered method steps on the same batches of the real training data,
interleaved (none, random, fgm, pgd, ..., none, ...) so machine noise hits them
alike; the ratio of medians to the plain step is the figure. ``free`` is timed
per replay (one optimiser step; an epoch of free AT with m replays costs m of
them per batch and is run for max_epochs / m).

    .venv/bin/python benchmarks/bench_step.py [--steps N] [--config configs/att-blstm.toml]
"""

import argparse
import statistics
import time

import numpy as np
import torch
from common import add_size_options, setup

from anrc.adversarial.methods import METHODS, make_method
from anrc.config import AdversarialConfig
from anrc.training.setup import make_optimizer
from anrc.training.step import train_step

ap = argparse.ArgumentParser()
ap.add_argument("--steps", type=int, default=40)
ap.add_argument("--config", default="configs/anrc.toml")
ap.add_argument("--batch", type=int, default=64)
ap.add_argument("--k", type=int, default=3, help="steps of pgd/freelb, power iterations of vat")
add_size_options(ap)
args = ap.parse_args()

cfg, st = setup(args.set, config=args.config)
opt, _ = make_optimizer(cfg, st.model)
rng = np.random.default_rng(0)
batches = list(st.featurizer.batches(st.train, args.batch, st.labels, rng))
kinds = {
    name: make_method(AdversarialConfig(method=name, epsilon=1.0, steps=args.k, replays=4))
    for name in METHODS.choices()
}
times = {name: [] for name in kinds}
for i in range(args.steps + 3):
    idx, batch = batches[i % len(batches)]
    for name, method in kinds.items():
        # the optimiser steps the training loop takes on this minibatch (free: m replays)
        steps = method.steps(batch, st.loss.at(idx), lambda n: None)
        t = time.perf_counter()
        for step in steps:
            train_step(st.model, step, opt, method, cfg.train.grad_clip)
        if i >= 3:  # warm-up
            times[name].append((time.perf_counter() - t) / len(steps))
plain = statistics.median(times["none"])
print(
    f"{args.config}: threads {torch.get_num_threads()}, {args.steps} steps each, "
    f"batch {args.batch}, K = {args.k}, real training batches"
)
for name, ts in times.items():
    med = statistics.median(ts)
    print(f"{name:7s} median {1000 * med:8.2f} ms/step   ratio to plain {med / plain:.2f}")
