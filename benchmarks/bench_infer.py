"""Inference throughput on the 2,717 test sentences in batches of 256.

Weights do not change the cost, so a fresh model of the paper's configuration is
used unless a run directory is given. Median of ``--repeats`` passes.

    .venv/bin/python benchmarks/bench_infer.py [RUN_DIR] [--repeats 5]
"""

import argparse

import torch
from common import add_size_options, first, median_time, setup

from anrc.inference.predict import predict_probs

ap = argparse.ArgumentParser()
ap.add_argument("run_dir", nargs="?", help="a trained run (default: a fresh paper model)")
ap.add_argument("--repeats", type=int, default=5)
add_size_options(ap)
args = ap.parse_args()

cfg, st = setup(args.set)
model = st.model
if args.run_dir:
    import anrc

    model = anrc.load(args.run_dir, form="fp32").trained
test = first(st.test, args.sentences)
predict_probs(model, test, 256)  # warm-up
med, times = median_time(lambda: predict_probs(model, test, 256), args.repeats)
print(
    f"threads {torch.get_num_threads()}: {len(test)} sentences, batch 256: median {med:.3f} s "
    f"= {len(test) / med:,.0f} sentences/s (min {min(times):.3f} s, max {max(times):.3f} s)"
)
