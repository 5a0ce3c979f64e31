"""The training loop, with checkpoints, resume, and clean interruption.

One epoch: a seeded batch order, one :func:`train_step` per batch, then dev (and
test) scoring. The dev F1 alone selects the epoch. A checkpoint is written after
every epoch and when SIGINT/SIGTERM arrives (at the next batch boundary), so
``anrc train --resume RUN_DIR`` continues to the same weights and metrics as an
uninterrupted run.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import signal
import sys
import time
import tomllib
from pathlib import Path
from typing import TextIO

import numpy as np
import torch

from .answers import write_answers
from .batching import batch_order, collate
from .checkpoint import CHECKPOINT, load_checkpoint, save_checkpoint
from .config import Config, to_toml
from .perturb import make_perturbation
from .runio import atomic_write_text, save_run
from .train import NonFiniteLoss, evaluate_split, prepare, train_step


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


def _progress(stream: TextIO, text: str, final: bool = False) -> None:
    if stream.isatty():
        stream.write("\r" + text + ("\n" if final else ""))
    elif final:
        stream.write(text + "\n")
    stream.flush()


def resume_config(run_dir: str | Path) -> Config:
    path = Path(run_dir) / "config.toml"
    try:
        with open(path, "rb") as f:
            return Config.from_dict(tomllib.load(f))
    except FileNotFoundError:
        raise ValueError(f"{path}: missing; is {run_dir} a run directory?") from None


def train(
    cfg: Config, out_dir: str | Path, log: TextIO | None = None, resume: bool = False
) -> dict:
    """Train (or resume) into ``out_dir``; returns the summary of the selected epoch."""
    log = log or sys.stderr
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tc = cfg.train
    torch.set_num_threads(tc.threads or os.cpu_count() or 1)

    st = prepare(cfg, log)
    model, vocab, labels = st.model, st.vocab, st.labels
    perturbation = make_perturbation(cfg.adversarial.method, cfg.adversarial.epsilon)
    optimizer = torch.optim.Adam(model.parameters(), lr=tc.lr)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=tc.lr_decay)
    rng = np.random.default_rng(tc.seed)
    metrics_path = out / "metrics.jsonl"
    s = {
        "epoch": 1,
        "batch": 0,
        "order": [],
        "losses": [],
        "n_seen": 0,
        "step": 0,
        "best_f1": -1.0,
        "best_epoch": 0,
        "best_state": None,
        "stale": 0,
        "finished": False,
    }

    if resume:
        ck = load_checkpoint(out)
        model.load_state_dict(ck["model"])
        optimizer.load_state_dict(ck["optimizer"])
        scheduler.load_state_dict(ck["scheduler"])
        torch.set_rng_state(ck["torch_rng"])
        rng.bit_generator.state = ck["numpy_rng"]
        s.update({k: ck[k] for k in s})
        # Drop metric rows of epochs the checkpoint had not completed.
        rows = metrics_path.read_text().splitlines() if metrics_path.exists() else []
        keep = [r for r in rows if json.loads(r)["epoch"] < s["epoch"]]
        atomic_write_text(metrics_path, "".join(r + "\n" for r in keep))
        print(f"resuming at epoch {s['epoch']}, batch {s['batch']} (step {s['step']})", file=log)
    else:
        atomic_write_text(out / "config.toml", to_toml(cfg))
        metrics_path.write_text("")
        (out / CHECKPOINT).unlink(missing_ok=True)
        n_params = sum(p.numel() for p in model.parameters())
        print(
            f"train {len(st.train)}  dev {len(st.dev)}  test {len(st.test)}  labels {len(labels)}"
            f"  vocab {len(vocab)} ({st.pretrained} pretrained)  params {n_params:,}  "
            f"{perturbation!r}",
            file=log,
        )

    def checkpoint() -> None:
        save_checkpoint(
            out,
            {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "torch_rng": torch.get_rng_state(),
                "numpy_rng": rng.bit_generator.state,
                **s,
            },
        )

    with _Signals() as signals:
        while not s["finished"] and s["epoch"] <= tc.max_epochs:
            epoch = s["epoch"]
            t0 = time.perf_counter()
            if s["batch"] == 0:
                lengths = [len(ex.tokens) for ex in st.train]
                s["order"] = batch_order(lengths, tc.batch_size, rng, tc.bucket)
                s["losses"], s["n_seen"] = [], 0
            order = s["order"]
            while s["batch"] < len(order):
                idx = order[s["batch"]]
                batch = collate([st.train[i] for i in idx], vocab, cfg.model.max_distance, labels)
                res = train_step(model, batch, optimizer, perturbation, cfg)
                s["batch"] += 1
                s["step"] += 1
                if not res.finite:
                    if tc.on_nan == "stop":
                        raise NonFiniteLoss(
                            f"loss became {res.loss} at epoch {epoch}, step {s['step']}; "
                            f"stopped; the last good checkpoint is in {out}"
                        )
                    print(f"warning: skipped batch at step {s['step']}: loss {res.loss}", file=log)
                else:
                    s["losses"].append(res.loss)
                    s["n_seen"] += len(batch)
                    if tc.lr_decay_every == "step":
                        scheduler.step()
                if signals.received is not None:
                    checkpoint()
                    raise Interrupted(
                        f"stopped by signal {signals.received} at epoch {epoch}, step {s['step']}; "
                        f"checkpoint saved: continue with anrc train --resume {out}"
                    )
                b = s["batch"]
                if b % 10 == 0 or b == len(order):
                    rate = s["n_seen"] / max(time.perf_counter() - t0, 1e-9)
                    mean = np.mean(s["losses"]) if s["losses"] else float("nan")
                    _progress(
                        log,
                        f"epoch {epoch:3d} [{b:4d}/{len(order)}] loss {mean:.4f}  {rate:6.0f} ex/s",
                    )
            train_seconds = time.perf_counter() - t0
            lr = optimizer.param_groups[0]["lr"]
            if tc.lr_decay_every == "epoch":
                scheduler.step()
            losses = s["losses"]
            row = {
                "epoch": epoch,
                "step": s["step"],
                "train_loss": float(np.mean(losses)) if losses else None,
                "lr": lr,
                "train_seconds": round(train_seconds, 3),
            }
            if st.dev:
                _, dev = evaluate_split(model, vocab, labels, st.dev, cfg)
                row.update(dev_f1=dev["f1"], dev_accuracy=dev["accuracy"])
            if st.test and tc.eval_test:
                _, test = evaluate_split(model, vocab, labels, st.test, cfg)
                row.update(test_f1=test["f1"], test_accuracy=test["accuracy"])
            row["seconds"] = round(time.perf_counter() - t0, 3)
            with open(metrics_path, "a") as f:
                f.write(json.dumps(row) + "\n")
            # Model selection uses the dev split only; with no dev split, the last epoch.
            sel = row.get("dev_f1", float(epoch))
            improved = sel > s["best_f1"]
            if improved:
                s.update(
                    best_f1=sel,
                    best_epoch=epoch,
                    stale=0,
                    best_state=copy.deepcopy(model.state_dict()),
                )
            else:
                s["stale"] += 1
            _progress(
                log,
                f"epoch {epoch:3d} loss {row['train_loss'] or float('nan'):.4f}  "
                f"dev F1 {row.get('dev_f1', float('nan')):6.2f}  "
                f"test F1 {row.get('test_f1', float('nan')):6.2f}  lr {lr:.2e}  "
                f"{len(st.train) / max(train_seconds, 1e-9):6.0f} ex/s{'  *' if improved else ''}",
                final=True,
            )
            s.update(epoch=epoch + 1, batch=0, order=[])
            if (tc.patience and s["stale"] >= tc.patience) or epoch >= tc.max_epochs:
                s["finished"] = True
            checkpoint()
            if signals.received is not None and not s["finished"]:
                raise Interrupted(
                    f"stopped by signal {signals.received} after epoch {epoch}; "
                    f"checkpoint saved: continue with anrc train --resume {out}"
                )
    return finish(cfg, out, st, s)


def finish(cfg: Config, out: Path, st, s: dict) -> dict:
    """Restore the selected epoch, write predictions, scores and the model."""
    model, vocab, labels = st.model, st.vocab, st.labels
    model.load_state_dict(s["best_state"])
    save_run(out, cfg, model, vocab, labels, st.word_dim)
    summary = {
        "selected_epoch": s["best_epoch"],
        "epochs_run": s["epoch"] - 1,
        "steps": s["step"],
        "train_examples": len(st.train),
        "dev_examples": len(st.dev),
        "test_examples": len(st.test),
    }
    # Training-set figures (the paper's Table 3 reports them) come from the model in eval mode.
    _, tr = evaluate_split(model, vocab, labels, st.train, cfg)
    summary.update(train_f1=tr["f1"], train_accuracy=tr["accuracy"])
    scores = {}
    for name, split in (("dev", st.dev), ("test", st.test)):
        if not split:
            continue
        preds, res = evaluate_split(model, vocab, labels, split, cfg)
        write_answers(
            ((ex.id, p) for ex, p in zip(split, preds, strict=True)),
            out / f"{name}_predictions.txt",
        )
        summary[f"{name}_f1"] = res["f1"]
        summary[f"{name}_accuracy"] = res["accuracy"]
        scores[name] = res["report"].to_dict()
    atomic_write_text(out / "scores.json", json.dumps({"summary": summary, **scores}, indent=1))
    return summary
