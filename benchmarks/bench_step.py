"""Cost of an adversarial-training step against a plain step, measured in one run.

Both kinds of step run on the same batches of the real training data, interleaved
(plain, FGM, random, plain, ...) so machine noise hits them alike; the ratio of
medians is the figure the speed target is about (AT step <= 2.1 x plain step).

    .venv/bin/python benchmarks/bench_step.py [--steps N]
"""

import argparse
import statistics
import time

import numpy as np
import torch
from common import setup

from anrc.adversarial.methods import make_method
from anrc.config import AdversarialConfig
from anrc.training.step import train_step

ap = argparse.ArgumentParser()
ap.add_argument("--steps", type=int, default=60)
args = ap.parse_args()

cfg, st = setup()
opt = torch.optim.Adam(st.model.parameters(), lr=cfg.train.lr)
batches = [b for _, b in st.featurizer.batches(st.train, 64, st.labels, np.random.default_rng(0))]
kinds = {
    name: make_method(AdversarialConfig(method=name, epsilon=0.02))
    for name in ("none", "fgm", "random")
}
times = {name: [] for name in kinds}
for i in range(args.steps + 5):
    batch = batches[i % len(batches)]
    for name, pert in kinds.items():
        t = time.perf_counter()
        train_step(st.model, batch, opt, pert, cfg.train.grad_clip)
        if i >= 5:  # warm-up
            times[name].append(time.perf_counter() - t)
plain = statistics.median(times["none"])
print(
    f"threads {torch.get_num_threads()}, {args.steps} steps each, batch 64, real training batches"
)
for name, ts in times.items():
    med = statistics.median(ts)
    print(f"{name:7s} median {1000 * med:7.2f} ms/step   ratio to plain {med / plain:.2f}")
