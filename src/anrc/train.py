"""The training loop: one readable function, with adversarial training at one point."""

from __future__ import annotations

import copy
import json
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np
import torch

from .answers import write_answers
from .batching import Batch, iterate
from .config import Config, to_toml
from .data import Example
from .inference import predict_labels
from .labels import LabelSet
from .model import ANRC
from .perturb import NoPerturbation, Perturbation, make_perturbation
from .runio import atomic_write_text, build_model, save_run
from .scorer import accuracy, score
from .splits import load_training_data
from .vectors import load_vectors
from .vocab import Vocab, initial_embeddings


class NonFiniteLoss(RuntimeError):
    pass


@dataclass
class StepResult:
    loss: float  # the objective that was minimised
    clean_loss: float
    finite: bool


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed % (2**32))


def train_step(
    model: ANRC,
    batch: Batch,
    optimizer: torch.optim.Optimizer,
    perturbation: Perturbation,
    cfg: Config,
) -> StepResult:
    """One optimisation step. With a perturbation: two forward and two backward passes.

    Pass 1 computes the clean loss and, through the same backward, the gradient g
    with respect to the anchor (Eq. 8 needs it); pass 2 adds r (a constant: no
    gradient flows through it) and back-propagates lambda * L_adv (Eq. 7).
    """
    adv = cfg.adversarial
    model.train()
    optimizer.zero_grad(set_to_none=True)
    plain = isinstance(perturbation, NoPerturbation)
    anchor = None if plain else adv.target
    out = model(batch, batch.labels, anchor=anchor)
    clean = out.loss
    if plain:
        total = clean
        clean.backward()
    else:
        if adv.objective == "sum":
            clean.backward()
            grad = out.anchor.grad
        else:  # adv_only: Eq. 7 replaces Eq. 5; g still comes from the clean loss
            grad = None
            if perturbation.needs_gradient:
                (grad,) = torch.autograd.grad(clean, out.anchor)
        r = perturbation(out.anchor.detach(), grad, batch.mask)  # (B, L, D)
        adv_loss = model(batch, batch.labels, perturb={adv.target: r}).loss
        weighted = adv.weight * adv_loss
        weighted.backward()
        total = (clean + weighted) if adv.objective == "sum" else weighted
    value = float(total.detach())
    if not math.isfinite(value):
        optimizer.zero_grad(set_to_none=True)
        return StepResult(value, float(clean.detach()), False)
    if cfg.train.grad_clip > 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.train.grad_clip)
    optimizer.step()
    return StepResult(value, float(clean.detach()), True)


def evaluate_split(
    model: ANRC, vocab: Vocab, labels: LabelSet, examples, cfg: Config
) -> tuple[list[str], dict]:
    """Predictions and official figures for labelled examples."""
    preds = predict_labels(model, vocab, labels, examples, cfg.model.max_distance)
    gold = [ex.label for ex in examples]
    key = {ex.id: ex.label for ex in examples}
    report = score(key, {ex.id: p for ex, p in zip(examples, preds, strict=True)}, labels.negative)
    return preds, {"f1": report.official_f1, "accuracy": accuracy(gold, preds), "report": report}


def _progress(stream: TextIO, text: str, final: bool = False) -> None:
    if stream.isatty():
        stream.write("\r" + text + ("\n" if final else ""))
    elif final:
        stream.write(text + "\n")
    stream.flush()


@dataclass
class Setup:
    train: list[Example]
    dev: list[Example]
    test: list[Example]
    labels: LabelSet
    vocab: Vocab
    model: ANRC
    word_dim: int
    pretrained: int  # vocabulary rows initialised from the vectors


def prepare(cfg: Config, log: TextIO | None = None) -> Setup:
    """Data, label set, vocabulary and a freshly initialised model, as the config says."""
    log = log or sys.stderr
    seed_everything(cfg.train.seed)
    train_ex, dev_ex, test_ex = load_training_data(cfg.data)
    labels = LabelSet.from_labels([ex.label for ex in train_ex], cfg.data.negative)
    for name, split in (("dev", dev_ex), ("test", test_ex)):
        unknown = sorted({ex.label for ex in split} - set(labels.labels))
        if unknown:
            print(f"warning: {name} labels never seen in training: {unknown}", file=log)
    dev_ex = [ex for ex in dev_ex if ex.label in labels]
    vectors = load_vectors(cfg.data.embeddings)
    vocab = Vocab.build(
        (ex.tokens for ex in train_ex), cfg.data.lowercase, vectors, cfg.data.vectors_vocab
    )
    word_dim = vectors.dim if vectors is not None else cfg.model.word_dim
    emb, found = initial_embeddings(vocab, vectors, word_dim, cfg.train.seed)
    model = build_model(cfg, vocab, labels, word_dim)
    with torch.no_grad():
        model.encoder.word.weight.copy_(torch.from_numpy(emb))
    return Setup(train_ex, dev_ex, test_ex, labels, vocab, model, word_dim, found)


def train(cfg: Config, out_dir: str | Path, log: TextIO | None = None) -> dict:
    """Train, select the epoch by dev F1, write the run directory; returns the summary."""
    log = log or sys.stderr
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tc = cfg.train
    torch.set_num_threads(tc.threads or os.cpu_count() or 1)

    st = prepare(cfg, log)
    train_ex, dev_ex, test_ex = st.train, st.dev, st.test
    model, vocab, labels, word_dim = st.model, st.vocab, st.labels, st.word_dim
    perturbation = make_perturbation(cfg.adversarial.method, cfg.adversarial.epsilon)
    n_params = sum(p.numel() for p in model.parameters())
    print(
        f"train {len(train_ex)}  dev {len(dev_ex)}  test {len(test_ex)}  labels {len(labels)}  "
        f"vocab {len(vocab)} ({st.pretrained} pretrained)  params {n_params:,}  {perturbation!r}",
        file=log,
    )
    atomic_write_text(out / "config.toml", to_toml(cfg))

    optimizer = torch.optim.Adam(model.parameters(), lr=tc.lr)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=tc.lr_decay)
    rng = np.random.default_rng(tc.seed)
    metrics_path = out / "metrics.jsonl"
    metrics_path.write_text("")
    best_f1, best_epoch, best_state, stale = -1.0, 0, None, 0
    step = 0
    for epoch in range(1, tc.max_epochs + 1):
        t0 = time.perf_counter()
        losses, n_seen = [], 0
        batches = list(
            iterate(train_ex, vocab, cfg.model.max_distance, tc.batch_size, labels, rng, tc.bucket)
        )
        for b, (_, batch) in enumerate(batches, start=1):
            res = train_step(model, batch, optimizer, perturbation, cfg)
            step += 1
            if not res.finite:
                if tc.on_nan == "stop":
                    raise NonFiniteLoss(
                        f"loss became {res.loss} at epoch {epoch}, step {step}; "
                        f"the last good model is in {out}"
                    )
                print(f"warning: skipped batch at step {step}: loss {res.loss}", file=log)
                continue
            losses.append(res.loss)
            n_seen += len(batch)
            if tc.lr_decay_every == "step":
                scheduler.step()
            if b % 10 == 0 or b == len(batches):
                rate = n_seen / (time.perf_counter() - t0)
                _progress(
                    log,
                    f"epoch {epoch:3d} [{b:4d}/{len(batches)}] loss "
                    f"{np.mean(losses):.4f}  {rate:6.0f} ex/s",
                )
        train_seconds = time.perf_counter() - t0
        lr = optimizer.param_groups[0]["lr"]
        if tc.lr_decay_every == "epoch":
            scheduler.step()
        row = {
            "epoch": epoch,
            "step": step,
            "train_loss": float(np.mean(losses)) if losses else None,
            "lr": lr,
            "train_seconds": round(train_seconds, 3),
        }
        if dev_ex:
            _, dev = evaluate_split(model, vocab, labels, dev_ex, cfg)
            row.update(dev_f1=dev["f1"], dev_accuracy=dev["accuracy"])
        if test_ex and tc.eval_test:
            _, test = evaluate_split(model, vocab, labels, test_ex, cfg)
            row.update(test_f1=test["f1"], test_accuracy=test["accuracy"])
        row["seconds"] = round(time.perf_counter() - t0, 3)
        with open(metrics_path, "a") as f:
            f.write(json.dumps(row) + "\n")
        # Model selection uses the dev split only; with no dev split, the last epoch.
        sel = row.get("dev_f1", float(epoch))
        improved = sel > best_f1
        if improved:
            best_f1, best_epoch, stale = sel, epoch, 0
            best_state = copy.deepcopy(model.state_dict())
            save_run(out, cfg, model, vocab, labels, word_dim)
        else:
            stale += 1
        _progress(
            log,
            f"epoch {epoch:3d} loss {row['train_loss']:.4f}  dev F1 {row.get('dev_f1', float('nan')):6.2f}"
            f"  test F1 {row.get('test_f1', float('nan')):6.2f}  lr {lr:.2e}  "
            f"{len(train_ex) / train_seconds:6.0f} ex/s{'  *' if improved else ''}",
            final=True,
        )
        if tc.patience and stale >= tc.patience:
            break

    model.load_state_dict(best_state)
    summary = {
        "selected_epoch": best_epoch,
        "epochs_run": epoch,
        "steps": step,
        "train_examples": len(train_ex),
        "dev_examples": len(dev_ex),
        "test_examples": len(test_ex),
    }
    scores = {}
    for name, split in (("dev", dev_ex), ("test", test_ex)):
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
