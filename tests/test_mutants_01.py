"""Hand-written wrong solutions of exercises/ex01_binary_margins, each rejected with its own hint."""

import pytest
import torch

from utils import checks


def predict_sign(scores):
    return torch.sign(scores).float()


def predict_strict(scores):
    labels = -torch.ones_like(scores)
    labels[scores > 0] = 1.0
    return labels


def predict_01(scores):
    return torch.heaviside(scores, torch.tensor(1.0, dtype=scores.dtype))


def predict_swapped(scores):
    return 1.0 - 2.0 * (scores >= 0).to(scores.dtype)


def report_strict(scores, targets, margin=1.0):
    ys = scores * targets
    wrong = (ys < 0).sum().item()
    safe = (ys > margin).sum().item()
    return {"misclassified": wrong, "inside_margin": len(ys) - wrong - safe, "with_margin": safe}


def report_tie_wrong(scores, targets, margin=1.0):
    counts = {"misclassified": 0, "inside_margin": 0, "with_margin": 0}
    for s, y in zip(scores.tolist(), targets.tolist()):
        m = s * y
        key = "misclassified" if m <= 0 else ("inside_margin" if m < margin else "with_margin")
        counts[key] += 1
    return counts


def report_01(scores, targets, margin=1.0):
    y = torch.where(targets > 0, 1.0, -3.0).to(scores.dtype)  # 2*y - 1 applied to {-1,+1} labels
    ys = y * scores
    return {"misclassified": int((ys < 0).sum()), "inside_margin": int(((0 <= ys) & (ys < margin)).sum()),
            "with_margin": int((ys >= margin).sum())}


def report_fixed_margin(scores, targets, margin=1.0):
    ys = scores * targets
    return {"misclassified": int(torch.count_nonzero(ys < 0)),
            "inside_margin": int(torch.count_nonzero((ys >= 0) & (ys < 1))),
            "with_margin": int(torch.count_nonzero(ys >= 1))}


MUTANTS = [
    ("predict_labels", "torch.sign at the tie", predict_sign),
    ("predict_labels", "tie sent to -1", predict_strict),
    ("predict_labels", "labels {0,1}", predict_01),
    ("predict_labels", "classes swapped", predict_swapped),
    ("margin_report", "strict boundary at the margin", report_strict),
    ("margin_report", "tie at zero counted as misclassified", report_tie_wrong),
    ("margin_report", "labels treated as {0,1}", report_01),
    ("margin_report", "margin ignored", report_fixed_margin),
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


def test_an_integer_valued_result_is_accepted():
    report = checks.evaluate("predict_labels", lambda scores: torch.where(scores < 0, -1, 1))
    assert report.status == "pass", report.message
