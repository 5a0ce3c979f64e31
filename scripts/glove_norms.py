"""L2 norms of the packaged GloVe 6B 50-d vectors, for scale next to eps.

Usage: .venv/bin/python scripts/glove_norms.py > results/glove_norms.txt
"""

import numpy as np

from anrc.data.vectors import load_vectors

v = load_vectors("glove-6b-50d")
for top in (20000, len(v.words)):
    n = np.linalg.norm(v.matrix[:top], axis=1)
    p10, p50, p90 = np.percentile(n, [10, 50, 90])
    print(f"most frequent {top} words: median norm {p50:.2f} (10th pct {p10:.2f}, 90th {p90:.2f})")
