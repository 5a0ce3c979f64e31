"""Faults: interruption and resume, SIGKILL, non-finite loss, damaged checkpoints, determinism."""

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from safetensors.torch import load_file

from anrc.adversarial.methods import METHODS
from anrc.builder import load_config
from anrc.training import step as train_mod
from anrc.training.checkpoint import CheckpointError, load_checkpoint
from anrc.training.loop import Interrupted, resume_config, train
from anrc.training.step import NonFiniteLoss

TIME_FIELDS = {"seconds", "train_seconds"}


def tiny_overrides(data_dir, **extra):
    sets = {
        "data.train": str(data_dir / "TRAIN_FILE.TXT"),
        "data.test": "",
        "data.train_limit": "320",
        "data.embeddings": "none",
        "encoder.hidden": "16",
        "train.batch_size": "32",
        "train.max_epochs": "3",
        "train.patience": "0",
        "train.threads": "1",
        **extra,
    }
    return [f"{k}={v}" for k, v in sets.items()]


def train_cmd(run, overrides):
    cmd = [
        sys.executable,
        "-m",
        "anrc",
        "train",
        "--config",
        "configs/anrc.toml",
        "--out",
        str(run),
    ]
    for o in overrides:
        cmd += ["--set", o]
    return cmd


def metrics(run):
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k not in TIME_FIELDS} for r in rows]


def weights(run):
    return load_file(str(run / "model.safetensors"))


def same_weights(a, b):
    wa, wb = weights(a), weights(b)
    return wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


def train_interrupted_at(n_steps, cfg, run, monkeypatch):
    """Train into ``run`` and send SIGINT after the n-th optimiser step; expect Interrupted."""
    real_step = train_mod.train_step
    calls = {"n": 0}

    def step_then_signal(*a, **k):
        calls["n"] += 1
        res = real_step(*a, **k)
        if calls["n"] == n_steps:
            os.kill(os.getpid(), signal.SIGINT)
        return res

    monkeypatch.setattr("anrc.training.loop.train_step", step_then_signal)
    with pytest.raises(Interrupted, match="--resume"):
        train(cfg, run)
    monkeypatch.setattr("anrc.training.loop.train_step", real_step)


@pytest.fixture(scope="module")
def reference(tmp_path_factory, data_dir):
    out = tmp_path_factory.mktemp("ref") / "run"
    train(load_config("configs/anrc.toml", tiny_overrides(data_dir)), out)
    return out


def test_same_seed_same_metrics(reference, tmp_path, data_dir):
    again = tmp_path / "again"
    train(load_config("configs/anrc.toml", tiny_overrides(data_dir)), again)
    assert metrics(again) == metrics(reference)
    assert same_weights(again, reference)


def test_interrupt_mid_epoch_then_resume_is_exact(reference, tmp_path, data_dir, monkeypatch):
    run = tmp_path / "run"
    cfg = load_config("configs/anrc.toml", tiny_overrides(data_dir))
    train_interrupted_at(13, cfg, run, monkeypatch)  # inside epoch 2 (10 batches an epoch)
    ck = load_checkpoint(run)
    assert (ck.state.epoch, ck.state.batch) == (2, 3)
    train(resume_config(run), run, resume=True)
    assert metrics(run) == metrics(reference)
    assert same_weights(run, reference)


def test_sigkill_then_resume(reference, tmp_path, data_dir):
    run = tmp_path / "killed"
    proc = subprocess.Popen(
        train_cmd(run, tiny_overrides(data_dir)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while time.time() < deadline:
        m = run / "metrics.jsonl"
        if m.exists() and len(m.read_text().splitlines()) >= 1 and (run / "checkpoint.pt").exists():
            break
        time.sleep(0.02)
    time.sleep(0.3)  # somewhere inside epoch 2
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    r = subprocess.run(
        [sys.executable, "-m", "anrc", "train", "--resume", str(run)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    assert metrics(run) == metrics(reference)
    assert same_weights(run, reference)


def test_sigterm_exits_cleanly_with_checkpoint(tmp_path, data_dir):
    run = tmp_path / "term"
    cmd = train_cmd(run, tiny_overrides(data_dir, **{"train.max_epochs": "50"}))
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not (run / "checkpoint.pt").exists():
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "Traceback" not in err and "--resume" in err
    load_checkpoint(run)


def test_truncated_checkpoint_is_refused(reference, tmp_path):
    import shutil

    run = tmp_path / "trunc"
    shutil.copytree(reference, run)
    data = (run / "checkpoint.pt").read_bytes()
    (run / "checkpoint.pt").write_bytes(data[: len(data) // 3])
    with pytest.raises(CheckpointError, match="unreadable checkpoint"):
        load_checkpoint(run)
    r = subprocess.run(
        [sys.executable, "-m", "anrc", "train", "--resume", str(run)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and "checkpoint.pt: unreadable" in r.stderr
    assert "Traceback" not in r.stderr


def test_pickled_checkpoint_runs_no_code(reference, tmp_path):
    import shutil

    run = tmp_path / "evil"
    shutil.copytree(reference, run)
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    torch.save({"model": Evil()}, run / "checkpoint.pt")
    with pytest.raises(CheckpointError):
        load_checkpoint(run)
    assert not marker.exists()


def test_non_finite_loss_stops_and_keeps_checkpoint(tmp_path, data_dir, monkeypatch):
    run = tmp_path / "nan"
    real_step = train_mod.train_step
    calls = {"n": 0}

    def poisoned(model, batch, *a, **k):
        calls["n"] += 1
        if calls["n"] == 15:
            with torch.no_grad():
                model.head.linear.bias.fill_(float("nan"))
        return real_step(model, batch, *a, **k)

    monkeypatch.setattr("anrc.training.loop.train_step", poisoned)
    with pytest.raises(NonFiniteLoss, match="epoch 2, step 15"):
        train(load_config("configs/anrc.toml", tiny_overrides(data_dir)), run)
    ck = load_checkpoint(run)
    assert ck.state.epoch == 2 and ck.state.batch == 0
    assert all(torch.isfinite(v).all() for v in ck.model.values())


def test_non_finite_loss_skip_setting(tmp_path, data_dir, monkeypatch):
    run = tmp_path / "skip"
    real_step = train_mod.train_step
    calls = {"n": 0}

    def flaky(*a, **k):
        calls["n"] += 1
        if calls["n"] == 5:
            return train_mod.StepResult(float("nan"), float("nan"), False)
        return real_step(*a, **k)

    monkeypatch.setattr("anrc.training.loop.train_step", flaky)
    summary = train(
        load_config("configs/anrc.toml", tiny_overrides(data_dir, **{"train.on_nan": "skip"})), run
    )
    assert summary["steps"] == 30


@pytest.mark.parametrize("name", ["random", "pgd", "freelb", "free", "vat"])
def test_resume_is_exact_with_every_method(name, tmp_path, data_dir, monkeypatch):
    """Interrupt inside epoch 2, resume: same metrics and weights as straight through."""
    extra = {
        "adversarial.method": name,
        "adversarial.epsilon": "0.5",
        "data.train_limit": "160",
        "train.batch_size": "32",
    }
    own = {f.name for f in dataclasses.fields(METHODS.get(name).Params)}
    for key, value in {"steps": "2", "replays": "2", "random_start": "true"}.items():
        if key in own:  # the method's own settings ([method]); the others it would refuse
            extra[f"method.{key}"] = value
    if name == "vat":  # the unlabelled draw must repeat on resume too
        extra["data.unlabelled"] = str(data_dir / "TRAIN_FILE.TXT")
    overrides = tiny_overrides(data_dir, **extra)
    ref = tmp_path / "ref"
    train(load_config("configs/anrc.toml", overrides), ref)
    run = tmp_path / "run"
    calls = 7 * (2 if name == "free" else 1)  # inside epoch 2 (5 batches an epoch)
    train_interrupted_at(calls, load_config("configs/anrc.toml", overrides), run, monkeypatch)
    assert load_checkpoint(run).state.epoch == 2
    train(resume_config(run), run, resume=True)
    assert metrics(run) == metrics(ref)
    assert same_weights(run, ref)
