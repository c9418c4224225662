"""Hand-written wrong solutions of exercises/ex01_binary_margins, each rejected with its own hint."""

import pytest
import torch

from utils import checks


def geo_functional(x, targets, weight, bias):
    return targets * (x.matmul(weight) + bias)


def geo_unsigned(x, targets, weight, bias):
    return (x @ weight + bias) / weight.norm()


def geo_bias_in_norm(x, targets, weight, bias):
    w = torch.cat([weight, torch.tensor([bias], dtype=weight.dtype)])
    return targets * (x @ weight + bias) / w.norm()


def geo_squared_norm(x, targets, weight, bias):
    return targets * (x @ weight + bias) / (weight @ weight)


def geo_no_bias(x, targets, weight, bias):
    return targets * (x * weight).sum(dim=1) / torch.sqrt((weight**2).sum())


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
    ("geometric_margin", "functional margin, not geometric", geo_functional),
    ("geometric_margin", "targets forgotten", geo_unsigned),
    ("geometric_margin", "bias inside the norm", geo_bias_in_norm),
    ("geometric_margin", "squared norm", geo_squared_norm),
    ("geometric_margin", "bias forgotten", geo_no_bias),
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


def test_a_float32_computation_is_accepted():
    report = checks.evaluate("geometric_margin", lambda x, targets, weight, bias:
                             (targets * (x.float() @ weight.float() + bias) / weight.float().norm()))
    assert report.status == "pass", report.message
