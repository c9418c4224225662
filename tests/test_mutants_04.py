"""Hand-written wrong solutions of exercises/ex04_squared_hinge, each rejected with its own hint."""

import pytest
import torch

from utils import checks


def loss_not_squared(scores, targets, margin=1.0):
    return torch.relu(margin - scores * targets).mean()


def loss_no_clamp(scores, targets, margin=1.0):
    return torch.mean((1 - targets * scores / margin) ** 2) * margin**2 if margin else torch.mean((targets * scores) ** 2)


def loss_summed(scores, targets, margin=1.0):
    return torch.sum(torch.relu(margin - scores * targets).pow(2))


def loss_fixed_margin(scores, targets, margin=1.0):
    v = 1.0 - targets * scores
    return (v * v * (v > 0)).mean()


def loss_01(scores, targets, margin=1.0):
    y = 2.0 * targets - 1.0
    return torch.relu(margin - y * scores).square().mean()


def grad_half(scores, targets, margin=1.0):
    v = torch.relu(margin - targets * scores)
    return -(targets * v) / len(scores)


def grad_sum(scores, targets, margin=1.0):
    return torch.where(targets * scores < margin, -2 * targets * (margin - targets * scores), 0.0)


def grad_hinge(scores, targets, margin=1.0):
    return -targets * (targets * scores < margin).to(scores.dtype) / len(scores)


def grad_sign(scores, targets, margin=1.0):
    n = scores.shape[0]
    return torch.stack([2 * y * max(0.0, margin - y * s) / n for s, y in zip(scores, targets)])


def grad_no_y(scores, targets, margin=1.0):
    return -2 * torch.clamp(margin - targets * scores, min=0) / scores.numel()


MUTANTS = [
    ("squared_hinge_loss", "not squared", loss_not_squared),
    ("squared_hinge_loss", "missing clamp", loss_no_clamp),
    ("squared_hinge_loss", "sum instead of mean", loss_summed),
    ("squared_hinge_loss", "margin ignored", loss_fixed_margin),
    ("squared_hinge_loss", "labels treated as {0,1}", loss_01),
    ("squared_hinge_gradient", "factor 2 forgotten", grad_half),
    ("squared_hinge_gradient", "gradient of the sum, not the mean", grad_sum),
    ("squared_hinge_gradient", "hinge gradient instead", grad_hinge),
    ("squared_hinge_gradient", "wrong sign", grad_sign),
    ("squared_hinge_gradient", "y forgotten", grad_no_y),
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


def test_the_hand_gradient_equals_autograd_of_utils_squared_hinge():
    """The gradient exercise's reference agrees with autograd through the library loss."""
    import utils

    exercise = checks.get("squared_hinge_gradient")
    for case in checks.cases_for(exercise, hidden=True, seed=3):
        s = case["scores"].clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(utils.squared_hinge_loss(s, case["targets"], margin=case["margin"]), s)
        torch.testing.assert_close(exercise.reference(**case), grad)
