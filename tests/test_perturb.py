"""Perturbations: norms, first-order effect of FGM, and the cost of an AT step."""

import pytest
import torch
from helpers import batch_of, tiny

from anrc.config import Config
from anrc.perturb import PERTURBATIONS, make_perturbation
from anrc.train import train_step


def _anchor_and_grad(target="word"):
    model, vocab, labels, exs, cfg = tiny(dropout=0.0)
    b = batch_of(exs, vocab, labels, cfg)
    out = model(b, b.labels, anchor=target)
    out.loss.backward()
    return model, b, out


@pytest.mark.parametrize("name", ["fgm", "random"])
@pytest.mark.parametrize("target", ["word", "word_position", "window"])
def test_norm_is_epsilon_per_example_on_real_tokens(name, target):
    model, b, out = _anchor_and_grad(target)
    r = make_perturbation(name, 0.02)(out.anchor, out.anchor.grad, b.mask)
    assert r.shape == out.anchor.shape
    torch.testing.assert_close(r.flatten(1).norm(dim=1), torch.full((len(b),), 0.02))
    assert (r[~b.mask] == 0).all()
    assert not r.requires_grad


def test_fgm_raises_the_loss_more_than_random():
    torch.manual_seed(0)
    model, b, out = _anchor_and_grad()
    model.eval()
    base = float(out.loss.detach())
    eps = 1e-2
    r = make_perturbation("fgm", eps)(out.anchor, out.anchor.grad, b.mask)
    fgm = float(model(b, b.labels, perturb={"word": r}).loss.detach())
    # First order: the increase is about <g, r> = eps * sum_b ||g_b|| / B (mean loss).
    g = out.anchor.grad
    predicted = eps * float(g.flatten(1).norm(dim=1).sum())
    assert fgm > base
    assert fgm - base == pytest.approx(predicted, rel=0.2)
    rnd = [
        float(
            model(
                b,
                b.labels,
                perturb={"word": make_perturbation("random", eps)(out.anchor, None, b.mask)},
            ).loss.detach()
        )
        - base
        for _ in range(20)
    ]
    assert fgm - base > max(rnd)


def test_registry():
    assert set(PERTURBATIONS) == {"none", "random", "fgm"}
    assert "epsilon=0.02" in repr(make_perturbation("fgm", 0.02))
    with pytest.raises(ValueError):
        make_perturbation("pgd", 0.1)


@pytest.mark.parametrize("method,passes", [("none", (1, 1)), ("fgm", (2, 2)), ("random", (2, 2))])
@pytest.mark.parametrize("objective", ["sum", "adv_only"])
def test_at_step_costs_two_forward_two_backward(method, passes, objective):
    model, vocab, labels, exs, mcfg = tiny()
    cfg = Config(model=mcfg)
    cfg.adversarial.method = method
    cfg.adversarial.objective = objective
    counts = {"fwd": 0, "bwd": 0}
    model.classifier.register_forward_hook(lambda *a: counts.__setitem__("fwd", counts["fwd"] + 1))
    model.classifier.register_full_backward_hook(
        lambda *a: counts.__setitem__("bwd", counts["bwd"] + 1)
    )
    opt = torch.optim.Adam(model.parameters())
    b = batch_of(exs, vocab, labels, mcfg)
    before = [p.detach().clone() for p in model.parameters()]
    res = train_step(model, b, opt, make_perturbation(method, 0.02), cfg)
    assert res.finite
    fwd, bwd = passes
    assert counts["fwd"] == fwd
    # adv_only with random noise needs no gradient of the clean loss: one backward fewer.
    assert counts["bwd"] == (1 if (objective, method) == ("adv_only", "random") else bwd)
    assert any(not torch.equal(a, p) for a, p in zip(before, model.parameters(), strict=True))
