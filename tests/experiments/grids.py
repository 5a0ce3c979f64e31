"""A tiny grid and the helpers the grid tests share (tests/experiments)."""

import json
import subprocess
import sys
import time

TINY = """
description = "tiny engine grid"
config = "configs/cnn.toml"
seeds = 2
baseline = "plain"
{extra}
[set]
"data.train" = "{train}"
"data.test" = "{test}"
"data.train_limit" = 160
"data.embeddings" = "none"
"encoder.filters" = 8
"encoder.hidden" = 8
"train.batch_size" = 16
"train.max_epochs" = {epochs}
"train.patience" = 0
[variants.plain]
"adversarial.method" = "none"
[variants.at]
"adversarial.method" = "fgm"
"adversarial.epsilon" = 1.0
"""


def runner(grid, out, *extra):
    cmd = [sys.executable, "-m", "anrc", "experiment", str(grid), "--out", str(out)]
    return subprocess.Popen([*cmd, "--heartbeat", "1", *extra], stderr=subprocess.PIPE, text=True)


def report_rows(out):
    """Every figure of the report but the timings."""
    rows = json.loads((out / "summary.json").read_text())["rows"]
    return [{k: v for k, v in r.items() if "seconds" not in k} for r in rows]


def wait_for(predicate, seconds=120):
    end = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


def run_logs(out):
    return {p.parent.relative_to(out).as_posix(): p.read_text() for p in out.rglob("run.log")}
