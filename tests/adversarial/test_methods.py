"""Adversarial methods: norms, first-order effect of FGM, and the cost of an AT step."""

import pytest
import torch
from helpers import batch_of, tiny, train_minibatch

from anrc.adversarial.geometry import normalise
from anrc.adversarial.methods import METHODS, make_method, method_params
from anrc.config import AdversarialConfig


def _embeds_and_grad(target="word"):
    model, feat, labels, exs, cfg = tiny(dropout=0.0)
    model.encoder.site = target
    b = batch_of(exs, feat, labels)
    x = model.embed(b)
    x.retain_grad()
    out = model(b, embeds=x, targets=b.labels)
    out.loss.backward()
    return model, b, x, out


@pytest.mark.parametrize("name", ["fgm", "random"])
@pytest.mark.parametrize("target", ["word", "word_position", "window"])
def test_norm_is_epsilon_per_example_on_real_tokens(name, target):
    model, b, x, out = _embeds_and_grad(target)
    method = make_method(AdversarialConfig(method=name, epsilon=0.02))
    r = normalise(method.direction(x.detach(), x.grad), b.mask, 0.02)
    assert r.shape == x.shape
    torch.testing.assert_close(r.flatten(1).norm(dim=1), torch.full((len(b),), 0.02))
    assert (r[~b.mask] == 0).all()
    assert not r.requires_grad


def test_fgm_raises_the_loss_more_than_random():
    torch.manual_seed(0)
    model, b, x, out = _embeds_and_grad()
    model.eval()
    base = float(out.loss.detach())
    eps = 1e-2
    g = x.grad
    r = normalise(g, b.mask, eps)
    x0 = x.detach()
    fgm = float(model(b, embeds=x0 + r, targets=b.labels).loss.detach())
    # First order: the increase is about <g, r> = eps * sum_b ||g_b|| / B (mean loss).
    predicted = eps * float(g.flatten(1).norm(dim=1).sum())
    assert fgm > base
    assert fgm - base == pytest.approx(predicted, rel=0.2)
    rnd = [
        float(
            model(
                b, embeds=x0 + normalise(torch.randn_like(x0), b.mask, eps), targets=b.labels
            ).loss.detach()
        )
        - base
        for _ in range(20)
    ]
    assert fgm - base > max(rnd)


def test_registry():
    assert {"none", "random", "fgm"} <= set(METHODS.choices())
    assert "epsilon=0.02" in repr(make_method(AdversarialConfig(method="fgm", epsilon=0.02)))
    with pytest.raises(ValueError, match="unknown adversarial method"):
        METHODS.get("no-such-method")


@pytest.mark.parametrize("method,passes", [("none", (1, 1)), ("fgm", (2, 2)), ("random", (2, 2))])
@pytest.mark.parametrize("objective", ["sum", "adv_only"])
def test_at_step_costs_two_forward_two_backward(method, passes, objective):
    model, feat, labels, exs, cfg = tiny()
    adv = AdversarialConfig(method=method)
    counts = {"fwd": 0, "bwd": 0}
    model.head.register_forward_hook(lambda *a: counts.__setitem__("fwd", counts["fwd"] + 1))
    model.head.register_full_backward_hook(lambda *a: counts.__setitem__("bwd", counts["bwd"] + 1))
    opt = torch.optim.Adam(model.parameters())
    b = batch_of(exs, feat, labels)
    before = [p.detach().clone() for p in model.parameters()]
    (res,) = train_minibatch(
        model, b, opt, make_method(adv, method_params(method, objective=objective))
    )
    assert res.finite
    fwd, bwd = passes
    assert counts["fwd"] == fwd
    # adv_only with random noise needs no gradient of the clean loss: one backward fewer.
    assert counts["bwd"] == (1 if (objective, method) == ("adv_only", "random") else bwd)
    assert any(not torch.equal(a, p) for a, p in zip(before, model.parameters(), strict=True))
