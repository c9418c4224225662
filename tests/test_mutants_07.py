"""Hand-written wrong solutions of exercises/ex07_triplet_margin, each rejected with its own hint."""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from utils import checks


def trip_squared(anchor, positive, negative, margin=1.0):
    d_ap = (anchor - positive).pow(2).sum(dim=-1)
    d_an = (anchor - negative).pow(2).sum(dim=-1)
    return F.relu(d_ap - d_an + margin).mean()


def trip_no_clamp(anchor, positive, negative, margin=1.0):
    return torch.norm(anchor - positive, dim=1).mean() - torch.norm(anchor - negative, dim=1).mean() + margin


def trip_summed(anchor, positive, negative, margin=1.0):
    d_ap = torch.cdist(anchor[:, None], positive[:, None]).flatten()
    d_an = torch.cdist(anchor[:, None], negative[:, None]).flatten()
    return torch.clamp(d_ap - d_an + margin, min=0).sum()


def trip_fixed_margin(anchor, positive, negative, margin=1.0):
    return F.triplet_margin_loss(anchor, positive, negative, margin=1.0, eps=0.0)


def trip_torch_eps(anchor, positive, negative, margin=1.0):
    d_ap = F.pairwise_distance(anchor, positive)
    d_an = F.pairwise_distance(anchor, negative)
    return torch.clamp(d_ap - d_an + margin, min=0).mean()


def exact_default_eps(anchor, positive, negative, margin=1.0):
    return F.triplet_margin_loss(anchor, positive, negative, margin=margin)


def exact_sqrt(anchor, positive, negative, margin=1.0):
    d_ap = ((anchor - positive) ** 2).sum(1) ** 0.5
    d_an = ((anchor - negative) ** 2).sum(1) ** 0.5
    return (d_ap - d_an + margin).clamp(min=0).mean()


def exact_eps_under_sqrt(anchor, positive, negative, margin=1.0):
    eps = 1e-12
    d_ap = torch.sqrt(torch.sum((anchor - positive) ** 2, dim=1) + eps)
    d_an = torch.sqrt(torch.sum((anchor - negative) ** 2, dim=1) + eps)
    return F.relu(d_ap - d_an + margin).mean()


def exact_value_patched(anchor, positive, negative, margin=1.0):
    with_eps = nn.TripletMarginLoss(margin=margin)(anchor, positive, negative)
    with torch.no_grad():
        exact = F.relu(torch.linalg.norm(anchor - positive, dim=1) - torch.linalg.norm(anchor - negative, dim=1)
                       + margin).mean()
    return with_eps - with_eps.detach() + exact


MUTANTS = [
    ("triplet_loss", "squared distances", trip_squared),
    ("triplet_loss", "missing clamp", trip_no_clamp),
    ("triplet_loss", "sum instead of mean", trip_summed),
    ("triplet_loss", "margin ignored", trip_fixed_margin),
    ("triplet_loss", "torch's default eps", trip_torch_eps),
    ("exact_triplet_loss", "torch's default eps", exact_default_eps),
    ("exact_triplet_loss", "sqrt of a sum of squares", exact_sqrt),
    ("exact_triplet_loss", "eps under the square root", exact_eps_under_sqrt),
    ("exact_triplet_loss", "eps only removed from the value", exact_value_patched),
]


@pytest.mark.parametrize("name, mistake, mutant", MUTANTS, ids=[f"{n}-{m}" for n, m, _ in MUTANTS])
def test_mutant_is_rejected_with_its_hint(name, mistake, mutant):
    report = checks.evaluate(name, mutant)
    assert report.status != "pass"
    assert f"Likely mistake — {mistake}:" in report.message, report.message


def test_every_catalogued_mistake_has_a_mutant():
    for name in {n for n, _, _ in MUTANTS}:
        covered = {m for n, m, _ in MUTANTS if n == name}
        assert covered == {m.name for m in checks.get(name).mistakes}, name


def test_the_exact_gradient_at_a_duplicate_is_that_of_the_negative_term_only():
    """The reference's convention, checked by hand: d(a, p) contributes nothing at a == p."""
    exercise = checks.get("exact_triplet_loss")
    a = torch.zeros(1, 4, dtype=torch.float64, requires_grad=True)
    n = torch.tensor([[0.6, 0.0, 0.0, 0.0]], dtype=torch.float64)
    (grad,) = torch.autograd.grad(exercise.reference(a, a.detach().clone(), n), a)
    torch.testing.assert_close(grad, torch.tensor([[1.0, 0.0, 0.0, 0.0]], dtype=torch.float64))


@pytest.mark.parametrize("fix", [
    lambda anchor, positive, negative, margin=1.0: F.triplet_margin_loss(anchor, positive, negative,
                                                                         margin=margin, eps=0.0),
    lambda anchor, positive, negative, margin=1.0: F.relu(
        F.pairwise_distance(anchor, positive, eps=0.0) - F.pairwise_distance(anchor, negative, eps=0.0)
        + margin).mean(),
], ids=["triplet_margin_loss eps=0", "pairwise_distance eps=0"])
def test_other_correct_fixes_pass(fix):
    for hidden in (False, True):
        report = checks.evaluate("exact_triplet_loss", fix, hidden=hidden, seed=0 if not hidden else 12345)
        assert report.status == "pass", report.message
