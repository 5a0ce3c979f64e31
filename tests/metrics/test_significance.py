import random

import pytest

from anrc.metrics.scorer import official_f1
from anrc.metrics.significance import FastOfficialF1, paired_bootstrap, sign_test


def test_fast_f1_matches_the_scorer(data_dir):
    from anrc.data.answers import read_answers

    key, _ = read_answers(data_dir / "TEST_FILE_KEY.TXT")
    gold = list(key.values())
    labels = sorted(set(gold))
    rng = random.Random(0)
    for _ in range(5):
        pred = [g if rng.random() < 0.6 else rng.choice(labels) for g in gold]
        assert FastOfficialF1(gold).score(pred)[0] == pytest.approx(official_f1(gold, pred))


def test_bootstrap_and_sign_test():
    gold = ["A(e1,e2)", "B(e2,e1)", "Other"] * 100
    good = list(gold)
    bad = ["Other"] * 300
    res = paired_bootstrap(gold, bad, good, n=200)
    assert res["delta"] > 50 and res["p_value"] == 0.0
    assert paired_bootstrap(gold, good, good, n=50)["p_value"] == 1.0
    assert sign_test([1, 2, 3, 4, 5]) == pytest.approx(2 / 32)
    assert sign_test([1, -1]) == 1.0 and sign_test([]) == 1.0
