"""Mean, standard deviation and per-seed official test F1 of runs under a results folder.

.venv/bin/python results/summarise.py results/main > results/main/summary.md
"""

import json
import statistics
import sys
from pathlib import Path

root = Path(sys.argv[1])
print(
    "| config | seeds | test F1 mean ± std | per seed | dev F1 mean | selected epochs | train s (to selected) |"
)
print("|---|---|---|---|---|---|---|")
for cdir in sorted(p for p in root.iterdir() if p.is_dir()):
    rows = []
    for sdir in sorted(cdir.glob("seed*")):
        if not (sdir / "scores.json").is_file():
            continue
        s = json.loads((sdir / "scores.json").read_text())["summary"]
        metrics = [json.loads(line) for line in (sdir / "metrics.jsonl").read_text().splitlines()]
        secs = sum(m["seconds"] for m in metrics if m["epoch"] <= s["selected_epoch"])
        rows.append((sdir.name, s["test_f1"], s["dev_f1"], s["selected_epoch"], secs))
    if not rows:
        continue
    f1 = [r[1] for r in rows]
    std = statistics.stdev(f1) if len(f1) > 1 else 0.0
    print(
        f"| {cdir.name} | {len(rows)} | {statistics.mean(f1):.2f} ± {std:.2f} | "
        + ", ".join(f"{r[1]:.2f}" for r in rows)
        + f" | {statistics.mean(r[2] for r in rows):.2f} | "
        + ", ".join(str(r[3]) for r in rows)
        + f" | {statistics.median(r[4] for r in rows):.0f} |"
    )
