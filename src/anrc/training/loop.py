"""The training loop, with checkpoints, resume, clean interruption and refit.

Read top to bottom: :func:`train` prepares a run (or restores it from its
checkpoint), then trains epoch after epoch (:func:`train_epoch`, one
:func:`~anrc.training.step.train_step` per batch), scores dev (and test) after
each, keeps the weights of the best dev epoch, and stops on patience or
``max_epochs``; :func:`finish` restores the selected epoch and writes the run
directory. The dev F1 alone selects the epoch. A checkpoint is written after
every epoch and when SIGINT/SIGTERM arrives (at the next batch boundary), so
``anrc train --resume RUN_DIR`` continues to the same weights and metrics as an
uninterrupted run. With ``train.refit``, :func:`train_refit` first runs the
selection in ``RUN_DIR/selection`` and then retrains on all training data for
the selected number of epochs.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np
import torch

from anrc.adversarial.methods import AdversarialMethod, make_method
from anrc.builder import read_config
from anrc.config import Config, to_toml
from anrc.data.answers import write_answers
from anrc.fsio import atomic_write_text
from anrc.inference.forms import BF16_FLAGS, cpu_flags
from anrc.models.batch import batch_order
from anrc.progress import final, status
from anrc.training.checkpoint import CHECKPOINT, Checkpoint, load_checkpoint, save_checkpoint
from anrc.training.distill import teacher_dirs
from anrc.training.distributed import World, init_world
from anrc.training.setup import Setup, make_optimizer, per_step_schedule, prepare
from anrc.training.state import TrainState
from anrc.training.step import NonFiniteLoss, evaluate_split, train_step


class Interrupted(RuntimeError):
    """Training stopped by a signal after saving a checkpoint."""


class _Signals:
    """Turn SIGINT/SIGTERM into a flag checked between batches."""

    def __init__(self) -> None:
        self.received: int | None = None
        self._old: dict = {}

    def __enter__(self) -> _Signals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        self.received = signum

    def __exit__(self, *exc) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)


def resume_config(run_dir: str | Path) -> Config:
    path = Path(run_dir) / "config.toml"
    try:
        return read_config(path)
    except FileNotFoundError:
        raise ValueError(f"{path}: missing; is {run_dir} a run directory?") from None


@dataclass
class TrainingRun:
    """What the loop works on: the set-up, the optimiser, the RNG and the typed state."""

    cfg: Config
    out: Path
    setup: Setup
    method: AdversarialMethod
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    rng: np.random.Generator
    state: TrainState
    log: TextIO
    saved: Config  # the config written to the run directory (the user's, under refit)
    world: World  # this process among those of a torchrun job (one process: rank 0 of 1)

    def steps_per_epoch(self) -> int:
        """Optimiser steps per epoch: this process's share of the epoch's batches."""
        return len(self.state.order) // self.world.size

    def checkpoint(self) -> None:
        if not self.world.main:
            return
        save_checkpoint(
            self.out,
            Checkpoint(
                self.setup.model.network.state_dict(),
                self.optimizer.state_dict(),
                self.scheduler.state_dict(),
                torch.get_rng_state(),
                self.rng.bit_generator.state,
                self.state,
                self._cuda_rng(),
            ),
        )

    def _cuda_rng(self) -> list[torch.Tensor] | None:
        on_gpu = self.setup.model.device.type == "cuda"
        return torch.cuda.get_rng_state_all() if on_gpu else None

    def restore(self) -> None:
        ck = load_checkpoint(self.out)
        self.setup.model.network.load_state_dict(ck.model)
        self.optimizer.load_state_dict(ck.optimizer)
        self.scheduler.load_state_dict(ck.scheduler)
        torch.set_rng_state(ck.torch_rng)
        self.rng.bit_generator.state = ck.numpy_rng
        if ck.cuda_rng is not None and self.setup.model.device.type == "cuda":
            torch.cuda.set_rng_state_all(ck.cuda_rng)
        self.state = ck.state


def train(
    cfg: Config, out_dir: str | Path, log: TextIO | None = None, resume: bool = False
) -> dict:
    """Train (or resume) into ``out_dir``; returns the summary of the selected epoch."""
    if cfg.train.refit:
        return train_refit(cfg, Path(out_dir), log or sys.stderr, resume)
    return train_run(cfg, Path(out_dir), log or sys.stderr, resume)


def train_run(
    cfg: Config, out: Path, log: TextIO, resume: bool, saved: Config | None = None, data=None
) -> dict:
    """One training run into ``out``; ``saved`` is the config written there (default ``cfg``)."""
    world = init_world()
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(cfg.train.threads or os.cpu_count() or 1)
    setup = prepare(cfg, log, data)
    if world.distributed:  # same initial weights everywhere; own dropout and noise
        torch.manual_seed(cfg.train.seed * 1000 + world.rank)
    steps = -(-len(setup.train) // cfg.train.batch_size) // world.size
    optimizer, scheduler = make_optimizer(cfg, setup.model.network, steps)
    run = TrainingRun(
        cfg, out, setup, make_method(cfg.adversarial, cfg.method), optimizer, scheduler,
        np.random.default_rng(cfg.train.seed), TrainState(), log, saved or cfg, world,
    )  # fmt: skip
    metrics_path = out / "metrics.jsonl"
    if resume:
        run.restore()
        # Drop metric rows of epochs the checkpoint had not completed.
        rows = metrics_path.read_text().splitlines() if metrics_path.exists() else []
        keep = [r for r in rows if json.loads(r)["epoch"] < run.state.epoch]
        if world.main:
            atomic_write_text(metrics_path, "".join(r + "\n" for r in keep))
        s = run.state
        print(f"resuming at epoch {s.epoch}, batch {s.batch} (step {s.step})", file=log)
    elif world.main:
        atomic_write_text(out / "config.toml", to_toml(run.saved))
        metrics_path.write_text("")
        (out / CHECKPOINT).unlink(missing_ok=True)
        _describe(run)
    with _Signals() as signals:
        while not run.state.finished and run.state.epoch <= cfg.train.max_epochs:
            row = train_epoch(run, signals)
            if world.main:
                with open(metrics_path, "a") as f:
                    f.write(json.dumps(row) + "\n")
            run.checkpoint()
            if signals.received is not None and not run.state.finished:
                raise Interrupted(
                    f"stopped by signal {signals.received} after epoch {row['epoch']}; "
                    f"checkpoint saved: continue with anrc train --resume {out}"
                )
    return finish(run)


def _describe(run: TrainingRun) -> None:
    st = run.setup
    n_params = sum(p.numel() for p in st.model.network.parameters())
    print(
        f"train {len(st.train)}  dev {len(st.dev)}  test {len(st.test)}  labels {len(st.labels)}"
        f"  encoder {run.cfg.model.encoder}  {st.model.featurizer.describe()} "
        f"({st.pretrained} pretrained)  params {n_params:,}  {run.method.describe()}"
        + (f"  processes {run.world.size}" if run.world.distributed else "")
        + (f"  {_teacher(run.cfg)}" if run.cfg.train.teacher else "")
        + (f"  device {_device_name(st.model.device)}")
        + ("  bf16" if run.cfg.train.precision == "bf16" else ""),
        file=run.log,
    )
    cpu_bf16 = run.cfg.train.precision == "bf16" and st.model.device.type == "cpu"
    if cpu_bf16 and not cpu_flags() & BF16_FLAGS:
        print("warning: train.precision = bf16 on a CPU without native bfloat16 (no "
              "avx512_bf16 or amx_bf16): emulated, 18 times slower than fp32 "
              "(a MiniLM step with oneDNN held to AVX2); fp32 is the fast choice here",
              file=run.log)  # fmt: skip


def _teacher(cfg: Config) -> str:
    tc = cfg.train
    n = len(teacher_dirs(tc.teacher))
    copies = (
        f", transfer set {tc.transfer_copies} copies swapping {tc.transfer_swap:g} of the words"
        if tc.transfer_copies
        else ""
    )
    return (
        f"distilled from {n} run(s) (w {tc.distill_weight:g}, T {tc.distill_temperature:g}{copies})"
    )


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return device.type


def train_epoch(run: TrainingRun, signals: _Signals) -> dict:
    """Train the rest of the current epoch, score it, update the selection; the metrics row."""
    s, st, tc = run.state, run.setup, run.cfg.train
    epoch = s.epoch
    t0 = time.perf_counter()
    if s.batch == 0:
        lengths = [st.model.featurizer.length(ex) for ex in st.train]
        s.start_epoch(batch_order(lengths, tc.batch_size, run.rng, tc.bucket))
    while s.batch < run.steps_per_epoch():
        idx = s.order[s.batch * run.world.size + run.world.rank]  # this process's shard
        batch = st.train_batch(idx)
        _train_batch(run, batch, idx)
        if signals.received is not None:
            run.checkpoint()
            raise Interrupted(
                f"stopped by signal {signals.received} at epoch {epoch}, step {s.step}; "
                f"checkpoint saved: continue with anrc train --resume {run.out}"
            )
        status(run.log, s.batch, run.steps_per_epoch(), lambda: _state_line(run, t0))
    return end_epoch(run, t0)


def _state_line(run: TrainingRun, t0: float) -> str:
    s = run.state
    rate = s.n_seen / max(time.perf_counter() - t0, 1e-9)
    mean = np.mean(s.losses) if s.losses else float("nan")
    return f"epoch {s.epoch:3d} [{s.batch:4d}/{run.steps_per_epoch()}] loss {mean:.4f}  {rate:6.0f} ex/s"


def _train_batch(run: TrainingRun, batch, idx: list[int]) -> None:
    """The optimiser steps of one minibatch (the method's ``steps`` hook says how many)."""
    s, st, tc = run.state, run.setup, run.cfg.train
    step = s.step

    def unlabelled(size: int):
        return st.unlabelled_batch(size, tc.seed, step)

    results = [
        train_step(st.model.network, one, run.optimizer, run.method, tc.grad_clip, run.world)
        for one in run.method.steps(batch, st.loss.at(idx), unlabelled)
    ]
    s.batch += 1
    s.step += 1
    bad = [r for r in results if not r.finite]
    if bad:
        if tc.on_nan == "stop":
            raise NonFiniteLoss(
                f"loss became {bad[0].loss} at epoch {s.epoch}, step {s.step}; "
                f"stopped; the last good checkpoint is in {run.out}"
            )
        print(f"warning: skipped batch at step {s.step}: loss {bad[0].loss}", file=run.log)
        return
    s.losses.append(sum(r.loss for r in results) / len(results))
    s.n_seen += len(batch)
    if per_step_schedule(run.cfg):
        run.scheduler.step()


def end_epoch(run: TrainingRun, t0: float) -> dict:
    """Score the epoch on dev (and test), keep the best weights, decide whether to stop."""
    s, st, tc = run.state, run.setup, run.cfg.train
    epoch = s.epoch
    train_seconds = time.perf_counter() - t0
    lr = run.optimizer.param_groups[0]["lr"]
    if not per_step_schedule(run.cfg):
        run.scheduler.step()
    row = {
        "epoch": epoch,
        "step": s.step,
        "train_loss": float(np.mean(s.losses)) if s.losses else None,
        "lr": lr,
        "train_seconds": round(train_seconds, 3),
    }
    for name, split, wanted in (("dev", st.dev, True), ("test", st.test, tc.eval_test)):
        if split and wanted:
            _, res = evaluate_split(st.model, split)
            row.update({f"{name}_f1": res["f1"], f"{name}_accuracy": res["accuracy"]})
    row["seconds"] = round(time.perf_counter() - t0, 3)
    # Model selection uses the dev split only; with no dev split, the last epoch.
    improved = s.improve(
        row.get("dev_f1", float(epoch)), epoch, copy.deepcopy(st.model.network.state_dict())
    )
    final(
        run.log,
        f"epoch {epoch:3d} loss {row['train_loss'] or float('nan'):.4f}  "
        f"dev F1 {row.get('dev_f1', float('nan')):6.2f}  "
        f"test F1 {row.get('test_f1', float('nan')):6.2f}  lr {lr:.2e}  "
        f"{len(st.train) / max(train_seconds, 1e-9):6.0f} ex/s{'  *' if improved else ''}",
    )
    s.epoch, s.batch, s.order = epoch + 1, 0, []
    if (tc.patience and s.stale >= tc.patience) or epoch >= tc.max_epochs:
        s.finished = True
    return row


def finish(run: TrainingRun) -> dict:
    """Restore the selected epoch, write predictions, scores and the model."""
    st, s, out = run.setup, run.state, run.out
    model = st.model
    model.network.load_state_dict(s.best_state)
    if run.world.main:
        dataclasses.replace(model, config=run.saved).save(out)
    summary = {
        "selected_epoch": s.best_epoch,
        "epochs_run": s.epoch - 1,
        "steps": s.step,
        "train_examples": st.originals,
        "transfer_examples": len(st.train) - st.originals,
        "dev_examples": len(st.dev),
        "test_examples": len(st.test),
    }
    # Training-set figures (the paper's Table 3 reports them) come from the model in eval mode.
    _, tr = evaluate_split(model, st.train[: st.originals])
    summary.update(train_f1=tr["f1"], train_accuracy=tr["accuracy"])
    scores = {}
    for name, split in (("dev", st.dev), ("test", st.test)):
        if not split:
            continue
        preds, res = evaluate_split(model, split)
        if not run.world.main:
            continue
        write_answers(
            ((ex.id, p) for ex, p in zip(split, preds, strict=True)),
            out / f"{name}_predictions.txt",
        )
        summary[f"{name}_f1"] = res["f1"]
        summary[f"{name}_accuracy"] = res["accuracy"]
        summary["relations"] = res["report"].ways  # for the official line
        summary["directed_labels"] = res["report"].directed_labels
        summary["negative_class"] = res["report"].has_negative
        scores[name] = res["report"].to_dict()
    if run.world.main:
        atomic_write_text(out / "scores.json", json.dumps({"summary": summary, **scores}, indent=1))
    return summary


def train_refit(cfg: Config, out: Path, log: TextIO, resume: bool) -> dict:
    """Select the epoch count on dev in ``out/selection``, then retrain on train + dev.

    The final model is trained with the same seed for exactly the selected number
    of epochs on all the training data (``data.dev_fraction = 0``, or the ``data.dev``
    file added to the training file); the test set
    is scored as always and never selects anything.
    """
    replace = dataclasses.replace
    selection_dir = out / "selection"
    selection_cfg = replace(cfg, train=replace(cfg.train, refit=False))
    done = selection_dir / "scores.json"
    if done.is_file():
        selection = json.loads(done.read_text())["summary"]
    else:
        again = resume and (selection_dir / CHECKPOINT).is_file()
        selection = train_run(selection_cfg, selection_dir, log, again)
    epochs = selection["selected_epoch"]
    print(f"refit: training on all training data for {epochs} epochs", file=log)
    refit_cfg = replace(
        cfg,
        data=replace(cfg.data, dev_fraction=0.0, dev_into_train=bool(cfg.data.dev)),
        train=replace(cfg.train, refit=False, max_epochs=epochs, patience=0),
    )
    again = resume and (out / CHECKPOINT).is_file()
    summary = train_run(refit_cfg, out, log, again, saved=cfg)
    summary["selection"] = {
        k: selection[k] for k in ("selected_epoch", "dev_f1", "test_f1") if k in selection
    }
    if init_world().main:
        scores = json.loads((out / "scores.json").read_text())
        scores["summary"] = summary
        atomic_write_text(out / "scores.json", json.dumps(scores, indent=1))
    return summary
