"""Cost of each adversarial-training method's step against a plain step, in one run, and
what a whole run of each config costs at that rate.

Every registered method (or those ``--methods`` names) steps on the same batches of the
real training data, interleaved (none, random, fgm, pgd, ..., none, ...) and, with
several ``--config``, config by config within each round, so machine noise hits them
alike; the ratio of medians to the plain step is the figure. ``free`` is timed per
replay (one optimiser step; an epoch of free AT with m replays costs m of them per
batch and is run for max_epochs / m). Each config's batch size is its own
(``train.batch_size``) unless ``--batch``; the projected run is ``max_epochs`` epochs
over its training split at the median step (free: its m replays over max_epochs / m
epochs rounded up), evaluation not included.

    .venv/bin/python benchmarks/bench_step.py [--steps N] [--config configs/att-blstm.toml ...]
        [--methods none free fgm freelb] [--precisions fp32 bf16] [--out results/benchmarks/step-NAME.txt]
"""

import argparse
import math
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from common import add_size_options, report, setup

from anrc.adversarial.methods import METHODS, make_method, method_params
from anrc.config import AdversarialConfig
from anrc.training.setup import make_optimizer
from anrc.training.step import train_step

ap = argparse.ArgumentParser()
ap.add_argument("--steps", type=int, default=40)
ap.add_argument("--config", action="append", help="default: configs/anrc.toml")
ap.add_argument("--methods", nargs="*", help="default: every registered method")
ap.add_argument("--batch", type=int, default=0, help="default: each config's own")
ap.add_argument("--k", type=int, default=3, help="steps of pgd/freelb, power iterations of vat")
ap.add_argument("--replays", type=int, default=4, help="free: replays of each minibatch (m)")
ap.add_argument("--precisions", nargs="*", default=["fp32"], choices=["fp32", "bf16"],
                help="train.precision of the passes, each timed on the same batches")  # fmt: skip
ap.add_argument("--out", help="also write the table here")
add_size_options(ap)
args = ap.parse_args()
configs = args.config or ["configs/anrc.toml"]
names = args.methods or METHODS.choices()


class Bench:
    """One config's model, optimiser, batches and the methods to step with."""

    def __init__(self, config: str, precision: str):
        self.cfg, self.st = setup(
            [*(args.set or []), f"train.precision={precision}"], config=config
        )
        self.st.model.network.precision = precision
        self.opt, _ = make_optimizer(self.cfg, self.st.model.network)
        self.batch = args.batch or self.cfg.train.batch_size
        rng = np.random.default_rng(0)
        self.batches = list(
            self.st.model.featurizer.batches(self.st.train, self.batch, self.st.labels, rng)
        )
        self.kinds = {
            n: make_method(
                AdversarialConfig(method=n, epsilon=1.0),
                method_params(n, steps=args.k, replays=args.replays),
            )
            for n in names
        }
        self.times = {n: [] for n in names}

    def round(self, i: int) -> None:
        idx, batch = self.batches[i % len(self.batches)]
        for name, method in self.kinds.items():
            # the optimiser steps the training loop takes on this minibatch (free: m replays)
            steps = method.steps(batch, self.st.loss.at(idx), lambda n: None)
            t = time.perf_counter()
            for step in steps:
                train_step(self.st.model.network, step, self.opt, method, self.cfg.train.grad_clip)
            if i >= 3:  # warm-up
                self.times[name].append((time.perf_counter() - t) / len(steps))

    def run_minutes(self, name: str, med: float) -> float:
        """A whole run's training time at ``med`` seconds a step."""
        per_epoch = math.ceil(len(self.st.train) / self.batch)
        epochs = self.cfg.train.max_epochs
        if name == "free":  # m replays a minibatch, max_epochs / m epochs
            return med * per_epoch * args.replays * math.ceil(epochs / args.replays) / 60
        return med * per_epoch * epochs / 60


benches = {(c, p): Bench(c, p) for c in configs for p in args.precisions}
for i in range(args.steps + 3):
    for b in benches.values():
        b.round(i)
lines = [
    f"threads {torch.get_num_threads()}, {args.steps} steps each (after 3 of warm-up), "
    f"K = {args.k}, free m = {args.replays}, real training batches, configs and precisions "
    "interleaved; ratio: to the plain step of the same config in fp32",
    "| config | precision | batch | method | ms a step | ratio to plain | projected run (min) |",
    "|---|---|---|---|---|---|---|",
]
for (config, precision), b in benches.items():
    base = benches.get((config, "fp32"), b).times.get("none")
    plain = statistics.median(base) if base else None
    for name, ts in b.times.items():
        med = statistics.median(ts)
        ratio = f"{med / plain:.2f}" if plain else "-"
        lines.append(
            f"| {config} | {precision} | {b.batch} | {name} | {1000 * med:.1f} | {ratio} | "
            f"{b.run_minutes(name, med):.0f} |"
        )
report(lines, args.out and Path(args.out))
