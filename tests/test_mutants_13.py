"""Hand-written wrong solutions of exercises/ex13_margins_vs_cross_entropy, each rejected with its own hint."""

import math

import pytest
import torch

from utils import checks


def _bins(confidence, n_bins, *, left_closed=False):
    edges = torch.linspace(0, 1, n_bins + 1, dtype=confidence.dtype)[1:-1]
    return torch.bucketize(confidence, edges, right=left_closed)


def ece_unweighted(probs, targets, n_bins=10):
    conf, pred = probs.max(1)
    index = _bins(conf, n_bins)
    gaps = []
    for b in range(n_bins):
        members = index == b
        if members.any():
            gaps.append(abs((pred[members] == targets[members]).double().mean() - conf[members].mean()))
    return float(sum(gaps) / len(gaps))


def ece_true_class(probs, targets, n_bins=10):
    conf = probs.gather(1, targets[:, None]).squeeze(1)
    correct = probs.argmax(1) == targets
    index = _bins(conf, n_bins)
    total = 0.0
    for b in range(n_bins):
        members = index == b
        if members.sum() > 0:
            total += members.sum() / len(conf) * abs(correct[members].double().mean() - conf[members].mean())
    return total


def ece_empty_bins(probs, targets, n_bins=10):
    conf, pred = probs.max(1)
    index = _bins(conf, n_bins)
    total = 0.0
    for b in range(n_bins):
        members = index == b
        acc = (pred[members] == targets[members]).double().mean()  # NaN for an empty bin
        total = total + members.double().mean() * (acc - conf[members].mean()).abs()
    return total.item()


def ece_signed(probs, targets, n_bins=10):
    conf, pred = probs.max(1)
    index = _bins(conf, n_bins)
    total = 0.0
    for b in range(n_bins):
        members = index == b
        if members.any():
            total += members.double().mean() * ((pred[members] == targets[members]).double().mean() - conf[members].mean())
    return abs(float(total))


def ece_left_closed(probs, targets, n_bins=10):
    conf, pred = probs.max(1)
    index = _bins(conf, n_bins, left_closed=True)
    total = 0.0
    for b in range(n_bins):
        members = index == b
        if members.any():
            total += members.double().mean() * ((pred[members] == targets[members]).double().mean() - conf[members].mean()).abs()
    return float(total)


def ece_fixed_bins(probs, targets, n_bins=10):
    conf, pred = probs.max(1)
    index = torch.clamp(torch.ceil(conf * 10).long() - 1, min=0)
    total = 0.0
    for b in range(10):
        members = index == b
        if members.any():
            total += members.double().mean() * ((pred[members] == targets[members]).double().mean() - conf[members].mean()).abs()
    return float(total)


MUTANTS = [
    ("expected_calibration_error", "unweighted mean over bins", ece_unweighted),
    ("expected_calibration_error", "confidence of the true class", ece_true_class),
    ("expected_calibration_error", "NaN from empty bins", ece_empty_bins),
    ("expected_calibration_error", "signed gaps", ece_signed),
    ("expected_calibration_error", "left-closed bins", ece_left_closed),
    ("expected_calibration_error", "n_bins ignored", ece_fixed_bins),
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


def test_the_library_ece_agrees_with_the_exercise():
    from utils.calibration import expected_calibration_error

    report = checks.evaluate("expected_calibration_error", lambda probs, targets, n_bins=10:
                             expected_calibration_error(probs, targets, n_bins=n_bins))
    assert report.status == "pass", report.message


def test_a_nan_result_is_not_accepted_for_a_number():
    exercise = checks.get("expected_calibration_error")
    assert not exercise.compare(float("nan"), 0.25) and not exercise.compare("0.25", 0.25)
    assert exercise.compare(torch.tensor(0.25, dtype=torch.float64), 0.25) and exercise.compare(math.nan, math.nan)
