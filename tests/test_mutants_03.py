"""Hand-written wrong solutions of exercises/ex03_gradient_behaviour, each rejected with its own hint."""

import pytest
import torch

from utils import checks


def active_strict(scores, targets, margin=1.0):
    return (margin - targets * scores) > 0


def active_sign(scores, targets, margin=1.0):
    return torch.tensor([y * s <= 0 for s, y in zip(scores.tolist(), targets.tolist())])


def active_inverted(scores, targets, margin=1.0):
    return ~(scores * targets <= margin)


def active_fixed_margin(scores, targets, margin=1.0):
    return torch.relu(1 - targets * scores) + (targets * scores == 1) > 0


def active_01(scores, targets, margin=1.0):
    y = targets * 2 - 1
    return y * scores - margin <= 0


def hinge_unchanged(scores, labels01):
    return torch.mean(torch.relu(1.0 - labels01 * scores))


def hinge_flipped(scores, labels01):
    y = torch.where(labels01 == 1, -1.0, 1.0).to(scores.dtype)
    return torch.clamp(1.0 - y * scores, min=0).mean()


def hinge_doubled(scores, labels01):
    y = labels01 * 2.0
    return torch.clamp(1.0 - y * scores, min=0).mean()


def hinge_summed(scores, labels01):
    y = labels01.to(scores.dtype) * 2 - 1
    return torch.clamp(1.0 - y * scores, min=0).sum()


MUTANTS = [
    ("active_examples", "kink counted as inactive", active_strict),
    ("active_examples", "active set from the sign, not the margin", active_sign),
    ("active_examples", "mask inverted", active_inverted),
    ("active_examples", "margin ignored", active_fixed_margin),
    ("active_examples", "labels treated as {0,1}", active_01),
    ("hinge_from_01_labels", "bug left in: {0,1} labels used as targets", hinge_unchanged),
    ("hinge_from_01_labels", "conversion flipped", hinge_flipped),
    ("hinge_from_01_labels", "labels only doubled", hinge_doubled),
    ("hinge_from_01_labels", "sum instead of mean", hinge_summed),
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


def test_the_active_mask_matches_autograd_through_utils_hinge_loss_at_the_kink():
    """The documented convention (kink active) is the one utils.hinge_loss really uses."""
    scores = torch.tensor([1.0, -1.0, 0.5], dtype=torch.float64, requires_grad=True)
    targets = torch.tensor([1.0, -1.0, 1.0], dtype=torch.float64)
    import utils

    (grad,) = torch.autograd.grad(utils.hinge_loss(scores, targets, reduction="sum"), scores)
    assert torch.equal(grad != 0, torch.tensor([True, True, True]))


def test_a_hinge_without_autograd_is_rejected():
    def detached(scores, labels01):
        y = 2 * labels01 - 1
        return torch.tensor(torch.clamp(1 - y * scores, min=0).mean().item())

    report = checks.evaluate("hinge_from_01_labels", detached)
    assert report.status == "error" and "NoGradient" in report.message
