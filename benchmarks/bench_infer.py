"""Inference throughput on the 2,717 test sentences in batches of 256.

Weights do not change the cost, so a fresh model of the paper's configuration is
used unless a run directory is given. Median of 5 passes.

    .venv/bin/python benchmarks/bench_infer.py [RUN_DIR]
"""

import sys

import torch
from common import median_time, setup

from anrc.inference.predict import predict_probs

cfg, st = setup()
model, feat = st.model, st.featurizer
if len(sys.argv) > 1:
    import anrc

    clf = anrc.load(sys.argv[1])
    model, feat = clf.model, clf.featurizer
test = st.test
predict_probs(model, feat, test, 256)  # warm-up
med, times = median_time(lambda: predict_probs(model, feat, test, 256), 5)
print(
    f"threads {torch.get_num_threads()}: {len(test)} sentences, batch 256: median {med:.3f} s "
    f"= {len(test) / med:,.0f} sentences/s (min {min(times):.3f} s, max {max(times):.3f} s)"
)
