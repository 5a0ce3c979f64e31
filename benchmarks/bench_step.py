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
from common import setup

from anrc.adversarial.methods import METHODS, make_method
from anrc.config import AdversarialConfig
from anrc.training.setup import make_optimizer
from anrc.training.step import train_step

ap = argparse.ArgumentParser()
ap.add_argument("--steps", type=int, default=40)
ap.add_argument("--config", default="configs/anrc.toml")
ap.add_argument("--batch", type=int, default=64)
ap.add_argument("--k", type=int, default=3, help="steps of pgd/freelb, power iterations of vat")
args = ap.parse_args()

cfg, st = setup(config=args.config)
opt, _ = make_optimizer(cfg, st.model)
rng = np.random.default_rng(0)
batches = [b for _, b in st.featurizer.batches(st.train, args.batch, st.labels, rng)]
kinds = {
    name: make_method(AdversarialConfig(method=name, epsilon=1.0, steps=args.k, replays=4))
    for name in METHODS.choices()
}
times = {name: [] for name in kinds}
for i in range(args.steps + 3):
    batch = batches[i % len(batches)]
    for name, method in kinds.items():
        t = time.perf_counter()
        train_step(st.model, batch, opt, method, cfg.train.grad_clip)
        if i >= 3:  # warm-up
            times[name].append(time.perf_counter() - t)
plain = statistics.median(times["none"])
print(
    f"{args.config}: threads {torch.get_num_threads()}, {args.steps} steps each, "
    f"batch {args.batch}, K = {args.k}, real training batches"
)
for name, ts in times.items():
    med = statistics.median(ts)
    print(f"{name:7s} median {1000 * med:8.2f} ms/step   ratio to plain {med / plain:.2f}")
