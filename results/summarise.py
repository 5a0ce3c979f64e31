"""Mean, standard deviation and per-seed official test F1 of runs under a results folder.

    .venv/bin/python results/summarise.py results/main > results/main/summary.md

Each sub-folder is one configuration: either a single run (it holds scores.json) or
seed*/ runs. "train s" is the wall-clock time from the first epoch to the selected
one (metrics.jsonl), median over seeds.
"""

import json
import statistics
import sys
from pathlib import Path


def run_row(d: Path):
    s = json.loads((d / "scores.json").read_text())["summary"]
    metrics = [json.loads(line) for line in (d / "metrics.jsonl").read_text().splitlines()]
    secs = sum(m["seconds"] for m in metrics if m["epoch"] <= s["selected_epoch"])
    return s["test_f1"], s["dev_f1"], s["selected_epoch"], secs, s.get("test_accuracy")


root = Path(sys.argv[1])
print(
    "| config | seeds | test F1 mean ± std | per seed | test acc mean | dev F1 mean | selected epochs | train s (to selected, median) |"
)
print("|---|---|---|---|---|---|---|---|")
for cdir in sorted(p for p in root.iterdir() if p.is_dir()):
    dirs = [cdir] if (cdir / "scores.json").is_file() else sorted(cdir.glob("seed*"))
    rows = [run_row(d) for d in dirs if (d / "scores.json").is_file()]
    if not rows:
        continue
    f1 = [r[0] for r in rows]
    std = statistics.stdev(f1) if len(f1) > 1 else 0.0
    acc = [r[4] for r in rows if r[4] is not None]
    print(
        f"| {cdir.name} | {len(rows)} | {statistics.mean(f1):.2f} ± {std:.2f} | "
        + ", ".join(f"{r[0]:.2f}" for r in rows)
        + f" | {statistics.mean(acc):.2f} | {statistics.mean(r[1] for r in rows):.2f} | "
        + ", ".join(str(r[2]) for r in rows)
        + f" | {statistics.median(r[3] for r in rows):.0f} |"
    )
