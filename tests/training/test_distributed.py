"""torchrun: the same config on 2 CPU processes (gloo) trains and reports like 1 process."""

import json
import subprocess
import sys

import pytest
from test_reliability import tiny_overrides, train_cmd


def _metrics(run):
    return [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("method", ["none", "fgm"])
def test_two_processes_match_one_in_format(tmp_path, data_dir, method):
    overrides = tiny_overrides(data_dir, **{"adversarial.method": method, "train.max_epochs": "2"})
    one, two = tmp_path / "one", tmp_path / "two"
    subprocess.run(train_cmd(one, overrides), check=True, capture_output=True, timeout=300)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    cmd += ["-m", *train_cmd(two, overrides)[2:]]  # drop "python -m": torchrun's own
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.count('"selected_epoch"') == 1  # process 0 reports, once
    m1, m2 = _metrics(one), _metrics(two)
    assert [r.keys() for r in m1] == [r.keys() for r in m2]
    # 290 training sentences at batch 32: 10 batches an epoch; each process takes 5
    assert [r["step"] for r in m1] == [10, 20] and [r["step"] for r in m2] == [5, 10]
    for r in m2:
        assert 0 <= r["dev_f1"] <= 100 and r["train_loss"] > 0
    for name in ("model.safetensors", "scores.json", "config.toml", "dev_predictions.txt"):
        assert (two / name).is_file()
