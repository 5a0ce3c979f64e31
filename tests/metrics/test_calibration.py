"""Temperature scaling and the expected calibration error, on data with a known answer."""

import numpy as np
import pytest

from anrc.metrics.calibration import (
    expected_calibration_error,
    fit_temperature,
    nll,
    reliability,
    scaled,
)


def _overconfident(n=4000, seed=0, t_true=3.0):
    """Labels drawn from softmax(z), reported as softmax(t_true * z): too sure by t_true."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 5))
    p_true = scaled(z, 1.0)
    gold = np.array([rng.choice(5, p=row) for row in p_true])
    return np.log(scaled(t_true * z, 1.0)), gold


def test_the_fitted_temperature_recovers_the_overconfidence():
    log_probs, gold = _overconfident()
    t = fit_temperature(log_probs, gold)
    assert t == pytest.approx(3.0, rel=0.1)
    assert nll(log_probs, gold, t) < nll(log_probs, gold, 1.0)


def test_scaling_keeps_every_argmax_and_lowers_the_ece():
    log_probs, gold = _overconfident()
    before = np.exp(log_probs)
    after = scaled(log_probs, fit_temperature(log_probs, gold))
    assert (before.argmax(1) == after.argmax(1)).all()
    assert expected_calibration_error(after, gold) < 0.5 * expected_calibration_error(before, gold)


def test_a_calibrated_model_keeps_a_temperature_near_one():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(4000, 4))
    p = scaled(z, 1.0)
    gold = np.array([rng.choice(4, p=row) for row in p])
    assert fit_temperature(np.log(p), gold) == pytest.approx(1.0, rel=0.1)
    assert expected_calibration_error(p, gold) < 0.03


def test_reliability_bins_count_every_prediction():
    probs = np.array([[0.9, 0.1], [0.6, 0.4], [0.55, 0.45], [1.0, 0.0]])
    gold = np.array([0, 1, 0, 0])
    bins = reliability(probs, gold, bins=10)
    assert sum(b.count for b in bins) == 4
    top = [b for b in bins if b.hi == 1.0][0]  # 0.9 and 1.0, both right
    assert (top.count, top.accuracy) == (2, 1.0)
    assert expected_calibration_error(probs, gold, bins=10) == pytest.approx(
        (2 * abs(1 - 0.95) + 2 * abs(0.5 - 0.575)) / 4
    )
