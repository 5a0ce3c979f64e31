"""Heads: softmax cross-entropy, and CR-CNN's pairwise ranking loss."""

import torch

from anrc.models.heads import HEADS, RankingHead, RankingParams


def _ranking(n_labels=4):
    torch.manual_seed(0)
    return RankingHead(3, n_labels, 0, RankingParams())


def test_registry_names():
    assert {"softmax", "ranking"} <= set(HEADS.choices())


def test_negative_class_scores_zero_and_wins_when_all_relations_are_negative():
    head = _ranking()
    h = torch.randn(5, 3)
    logits = head(h)
    assert (logits[:, 0] == 0).all()
    with torch.no_grad():
        head.linear.weight.copy_(-head.linear.weight.abs())
    logits = head(torch.rand(5, 3))  # every relation score < 0
    assert (logits.argmax(1) == 0).all()


def test_ranking_loss_is_eq5():
    head = _ranking()
    logits = torch.tensor([[0.0, 3.0, -1.0, 0.5], [0.0, -2.0, 1.0, -0.5]])
    targets = torch.tensor([1, 0])  # a relation, then the negative class
    g, mp, mn = 2.0, 2.5, 0.5
    sp = torch.nn.functional.softplus
    # Example 1: gold score 3.0, best wrong relation 0.5 (the negative never competes).
    first = sp(torch.tensor(g * (mp - 3.0))) + sp(torch.tensor(g * (mn + 0.5)))
    # Example 2 (gold = negative): no positive term; best wrong relation 1.0.
    second = sp(torch.tensor(g * (mn + 1.0)))
    torch.testing.assert_close(head.loss(logits, targets), (first + second) / 2)


def test_ranking_loss_pushes_gold_up_and_competitor_down():
    head = _ranking()
    h = torch.randn(8, 3, requires_grad=True)
    targets = torch.tensor([1, 2, 3, 0, 1, 2, 3, 0])
    opt = torch.optim.SGD(head.parameters(), lr=0.5)
    first = float(head.loss(head(h), targets).detach())
    for _ in range(50):
        opt.zero_grad()
        head.loss(head(h), targets).backward()
        opt.step()
    assert float(head.loss(head(h), targets).detach()) < first
