"""utils.ranking against brute-force loops, utils.ranking_margin_loss, F.margin_ranking_loss and
sklearn's roc_auc_score."""

import itertools

import pytest
import torch
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score
from torch.testing import assert_close

import utils
from utils.ranking import (
    all_pairs_ranking_loss,
    pairwise_auc,
    pairwise_differences,
    split_by_label,
    violation_fraction,
)


def _scores(n, seed, *, ties=False):
    g = torch.Generator().manual_seed(seed)
    if ties:  # integer-valued scores: many exact ties and exact kinks
        return torch.randint(-3, 4, (n,), generator=g).double()
    return torch.randn(n, generator=g, dtype=torch.float64)


def _loop_loss(pos, neg, margin):
    return torch.tensor([[max(0.0, margin - p + q) for q in neg.tolist()] for p in pos.tolist()], dtype=pos.dtype)


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("margin", [0.0, 0.5, 1.0, 2.0])
def test_all_pairs_loss_matches_a_loop_and_the_oracles(margin, ties):
    pos, neg = _scores(7, 0, ties=ties), _scores(5, 1, ties=ties)
    got = all_pairs_ranking_loss(pos, neg, margin=margin, reduction="none")
    assert got.shape == (7, 5)
    assert_close(got, _loop_loss(pos, neg, margin))
    # oracle: every pair listed explicitly
    i, j = zip(*itertools.product(range(7), range(5)))
    p, q = pos[list(i)], neg[list(j)]
    oracle = F.margin_ranking_loss(p, q, torch.ones_like(p), margin=margin, reduction="none")
    assert_close(got.reshape(-1), oracle)
    assert_close(got.reshape(-1), utils.ranking_margin_loss(p, q, margin=margin, reduction="none"))
    assert_close(all_pairs_ranking_loss(pos, neg, margin=margin), oracle.mean())
    assert_close(all_pairs_ranking_loss(pos, neg, margin=margin, reduction="sum"), oracle.sum())


def test_all_pairs_gradient_matches_explicit_pairs_including_kinks():
    pos, neg = _scores(6, 2, ties=True), _scores(4, 3, ties=True)  # integer scores hit the kink at margin 1
    pos1, neg1 = pos.clone().requires_grad_(True), neg.clone().requires_grad_(True)
    all_pairs_ranking_loss(pos1, neg1, margin=1.0).backward()
    pos2, neg2 = pos.clone().requires_grad_(True), neg.clone().requires_grad_(True)
    i, j = zip(*itertools.product(range(6), range(4)))
    utils.ranking_margin_loss(pos2[list(i)], neg2[list(j)], margin=1.0).backward()
    assert_close(pos1.grad, pos2.grad)
    assert_close(neg1.grad, neg2.grad)
    # brute force: d/ds+_i = -(# active pairs of i) / (P Q), a pair at the kink counting as active
    active = (pos.unsqueeze(1) - neg.unsqueeze(0)) <= 1.0
    assert bool(((pos.unsqueeze(1) - neg.unsqueeze(0)) == 1.0).any())  # the test does visit a kink
    assert_close(pos1.grad, -active.double().sum(1) / 24)
    assert_close(neg1.grad, active.double().sum(0) / 24)


def test_pairwise_differences_broadcast():
    pos, neg = torch.tensor([2.0, 0.0]), torch.tensor([1.0, 0.5, -1.0])
    expected = torch.tensor([[1.0, 1.5, 3.0], [-1.0, -0.5, 1.0]])
    assert_close(pairwise_differences(pos, neg), expected)


@pytest.mark.parametrize("ties", [False, True])
def test_pairwise_auc_is_sklearn_roc_auc(ties):
    scores, g = _scores(40, 4, ties=ties), torch.Generator().manual_seed(5)
    y = torch.where(torch.rand(40, generator=g) < 0.4, -1.0, 1.0).double()
    pos, neg = split_by_label(scores, y)
    assert_close(pairwise_auc(pos, neg), float(roc_auc_score(y.numpy(), scores.numpy())))


def test_one_minus_auc_is_the_fraction_of_misordered_pairs_without_ties():
    pos, neg = _scores(30, 6), _scores(20, 7)
    assert_close(1 - pairwise_auc(pos, neg), violation_fraction(pos, neg, margin=0.0))
    # and the zero-margin loss is positive on exactly those pairs
    positive = all_pairs_ranking_loss(pos, neg, margin=0.0, reduction="none") > 0
    assert_close(positive.double().mean().item(), violation_fraction(pos, neg, margin=0.0))


def test_violation_fraction_brute_force_and_kink_is_not_a_violation():
    pos, neg = torch.tensor([2.0, 0.0, 1.0]), torch.tensor([1.0, -1.0])
    # differences: [1, 3], [-1, 1], [0, 2]; margin 1: 1 is at the kink (loss 0), violations: -1, 0
    assert violation_fraction(pos, neg, margin=1.0) == pytest.approx(2 / 6)
    loss = all_pairs_ranking_loss(pos, neg, margin=1.0, reduction="none")
    assert violation_fraction(pos, neg, margin=1.0) == pytest.approx((loss > 0).double().mean().item())


def test_split_by_label():
    pos, neg = split_by_label(torch.tensor([0.5, -1.0, 2.0]), torch.tensor([1, -1, 1]))
    assert_close(pos, torch.tensor([0.5, 2.0]))
    assert_close(neg, torch.tensor([-1.0]))


@pytest.mark.parametrize(
    "call, error, text",
    [
        (lambda: split_by_label(torch.tensor([0.5, 1.0]), torch.tensor([0, 1])), ValueError, "2 * targets - 1"),
        (lambda: split_by_label(torch.tensor([0.5, 1.0]), torch.tensor([1, 1])), ValueError, "both classes"),
        (lambda: all_pairs_ranking_loss(torch.tensor([1, 2]), torch.tensor([0.0])), TypeError, "floating-point"),
        (lambda: all_pairs_ranking_loss(torch.ones(2, 2), torch.ones(2)), ValueError, "(P,)"),
        (lambda: all_pairs_ranking_loss(torch.ones(2), torch.ones(0)), ValueError, "empty"),
        (lambda: all_pairs_ranking_loss(torch.ones(2), torch.ones(2), margin=-1.0), ValueError, ">= 0"),
        (lambda: all_pairs_ranking_loss(torch.ones(2), torch.ones(2), reduction="avg"), ValueError, "reduction"),
    ],
)
def test_errors_are_clear(call, error, text):
    with pytest.raises(error, match=None) as info:
        call()
    assert text in str(info.value)
