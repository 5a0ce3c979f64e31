"""Benchmarks that cannot rot: every script in benchmarks/ runs here on tiny settings and
must finish and print its figures, so a change that breaks one fails the suite (one had
crashed at its first step for weeks: train_step had changed under it). The figures
themselves are not checked: they are the benchmarks' business, not a test's."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--set", "data.train_limit=100"]
#: each script, the arguments that make it small, and a line its output must hold
SMOKE = {
    "bench_chunks.py": (
        [
            "semeval-fast",
            "--repeats",
            "1",
            "--sentences",
            "40",
            "--chunk-ms",
            "25",
            "--chunk-words",
            "64",
        ],
        "| Worker, chunks of 25 ms |",
    ),
    "bench_json.py": (
        ["semeval-fast", "--repeats", "1", "--sentences", "40"],
        "| the records through jsontext.dumps (orjson) |",
    ),
    "bench_encoders.py": (
        ["--configs", "cnn", "att-blstm", "--repeats", "1", "--sentences", "20", *TINY],
        "| encoder (config) |",
    ),
    "bench_forms.py": (
        [
            "semeval-fast",
            "--repeats",
            "1",
            "--sentences",
            "40",
            "--batch",
            "16",
            "--forms",
            "fp32",
            "bf16",
            "int8",
            "onnx-int8",
            "--sweep",
            "8",
            "16",
        ],
        "| form | file MB |",
    ),  # fmt: skip
    "bench_extract.py": (
        ["semeval-fast", "--repeats", "1", "--sentences", "20"],
        "| extract_many (untagged) |",
    ),
    "bench_infer.py": (["--repeats", "1", "--sentences", "20", *TINY], "sentences/s"),
    "bench_paths.py": (
        ["semeval-fast", "--repeats", "1", "--sentences", "40", "--items", "16"],
        "| predict_labels |",
    ),
    "bench_queue.py": (["--runs", "4", "--repeats", "1"], "| sqlite (in the grid's folder) |"),
    "bench_read.py": (["--repeats", "1"], "read 10717 examples"),
    "bench_serve.py": (
        [
            "semeval-fast",
            "--seconds",
            "1",
            "--clients",
            "1",
            "--long-clients",
            "1",
            "--long-items",
            "2",
            "--long-words",
            "40",
        ],
        "/health",
    ),  # fmt: skip
    "bench_shipped.py": (
        ["--models", "semeval-fast", "--repeats", "1", "--sentences", "40"],
        "| semeval-fast | att-blstm |",
    ),
    "bench_startup.py": (["--model", "semeval-fast", "--repeats", "1"], "| anrc --help [this"),
    "bench_step.py": (
        ["--steps", "2", "--precisions", "fp32", "bf16", *TINY],
        "| configs/anrc.toml | bf16 | 64 | none |",
    ),
}


def test_every_benchmark_has_a_smoke_run():
    scripts = {p.name for p in (ROOT / "benchmarks").glob("bench_*.py")}
    assert scripts == set(SMOKE), "add the new benchmark to SMOKE (tests/test_benchmarks.py)"


@pytest.mark.parametrize("script", sorted(SMOKE))
def test_a_benchmark_runs_on_tiny_settings(script, data_dir):
    if script in ("bench_forms.py",):
        pytest.importorskip("onnxruntime")
        pytest.importorskip("onnxscript")
    if script in ("bench_paths.py", "bench_serve.py"):
        pytest.importorskip("fastapi")
    args, expect = SMOKE[script]
    r = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    assert expect in r.stdout, r.stdout[-2000:]
