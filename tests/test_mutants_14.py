"""Hand-written wrong solutions of exercises/ex14_practical_guidelines, each rejected with its own hint."""

import pytest
import torch

from utils import checks


def violations_misclassified(scores, targets, margin=1.0):
    return (torch.sign(scores) != targets).float().mean().item()


def violations_01(scores, targets, margin=1.0):
    y = targets * 2 - 1  # "convert the labels to ±1"
    return torch.count_nonzero(y * scores < margin).item() / len(scores)


def violations_non_strict(scores, targets, margin=1.0):
    return sum(1 for s, y in zip(scores.tolist(), targets.tolist()) if y * s <= margin) / len(scores)


def violations_margin_one(scores, targets, margin=1.0):
    return torch.relu(1 - targets * scores).gt(0).float().mean().item()


def violations_count(scores, targets, margin=1.0):
    return int(torch.count_nonzero(targets * scores < margin))


def _graded(convert):
    """The notebook's given wrapper around the student's to_plus_minus_one."""
    def to_plus_minus_one_or_error(labels):
        try:
            return convert(labels)
        except ValueError:
            return "ValueError"
    return to_plus_minus_one_or_error


def convert_always_01(labels):
    return (labels * 2 - 1).float()


def convert_int(labels):
    values = set(labels.tolist())
    if values <= {0, 1}:
        return labels.long() * 2 - 1
    if values <= {-1, 1}:
        return labels.long()
    raise ValueError(f"bad labels {sorted(values)}")


def convert_no_check(labels):
    return torch.where(labels == 1, 1.0, -1.0)


def convert_swapped(labels):
    values = set(labels.tolist())
    if values.issubset({0, 1}):
        return torch.where(labels == 0, 1.0, -1.0)
    if values.issubset({-1, 1}):
        return labels.float()
    raise ValueError("labels must be {0,1} or {-1,+1}")


def convert_two_classes(labels):
    values = sorted(set(labels.tolist()))
    if values == [0, 1]:
        return labels.float() * 2 - 1
    if values == [-1, 1]:
        return labels.float()
    raise ValueError(f"expected {{0,1}} or {{-1,+1}}, got {values}")


MUTANTS = [
    ("violation_fraction", "misclassified only", violations_misclassified),
    ("violation_fraction", "labels treated as {0,1}", violations_01),
    ("violation_fraction", "example at the margin counted", violations_non_strict),
    ("violation_fraction", "margin ignored", violations_margin_one),
    ("violation_fraction", "count instead of fraction", violations_count),
    ("to_plus_minus_one", "always converted as {0,1}", _graded(convert_always_01)),
    ("to_plus_minus_one", "integer result", _graded(convert_int)),
    ("to_plus_minus_one", "no validation", _graded(convert_no_check)),
    ("to_plus_minus_one", "0 mapped to +1", _graded(convert_swapped)),
    ("to_plus_minus_one", "single-class batch rejected", _graded(convert_two_classes)),
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


def test_other_errors_are_not_swallowed_by_the_wrapper():
    def typo(labels):
        raise TypeError("oops")

    report = checks.evaluate("to_plus_minus_one", _graded(typo))
    assert report.status == "error" and "TypeError" in report.message


def test_the_library_monitor_agrees_with_violation_fraction():
    from utils.monitor import binary_violations

    report = checks.evaluate("violation_fraction", lambda scores, targets, margin=1.0:
                             binary_violations(scores, targets, margin=margin).double().mean().item())
    assert report.status == "pass", report.message
