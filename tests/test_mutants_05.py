"""Hand-written wrong solutions of exercises/ex05_multiclass_margin, each rejected with its own hint."""

import pytest
import torch
import torch.nn as nn

from utils import checks


# --------------------------------------------------------------------------- Weston-Watkins
def ww_all_classes(scores, targets, margin=1.0):
    rows = torch.arange(len(targets))
    margins = scores - scores[rows, targets].view(-1, 1) + margin
    return margins.clamp(min=0).sum(1).mean()


def ww_torch_module(scores, targets, margin=1.0):
    return nn.MultiMarginLoss(margin=margin)(scores, targets)


def ww_no_clamp(scores, targets, margin=1.0):
    rows = torch.arange(len(targets))
    correct = scores[rows, targets].unsqueeze(1)
    total = (scores - correct + margin).sum(1) - margin  # drops the j = c term, forgets the clamp
    return total.mean()


def ww_wrong_sign(scores, targets, margin=1.0):
    rows = torch.arange(len(targets))
    m = torch.relu(scores[rows, targets].unsqueeze(1) - scores + margin)
    mask = torch.ones_like(m)
    mask[rows, targets] = 0
    return (m * mask).sum(1).mean()


def ww_fixed_margin(scores, targets, margin=1.0):
    rows = torch.arange(len(targets))
    m = torch.relu(scores - scores[rows, targets].unsqueeze(1) + 1)
    return (m.sum(1) - 1).mean()


def ww_batch_sum(scores, targets, margin=1.0):
    rows = torch.arange(len(targets))
    m = torch.clamp(scores - scores[rows, targets].unsqueeze(1) + margin, min=0)
    return m.sum() - margin * len(targets)


def ww_inplace_relu(scores, targets, margin=1.0):
    rows = torch.arange(len(targets))
    m = torch.relu(scores - scores[rows, targets].unsqueeze(1) + margin)
    m[rows, targets] = 0.0  # modifies relu's output, which relu's backward needs
    return m.sum(1).mean()


def ww_inplace_input(scores, targets, margin=1.0):
    rows = torch.arange(len(targets))
    correct = scores[rows, targets].clone()
    scores[rows, targets] = correct - margin  # makes the j = c term 0, but writes into the input
    return torch.clamp(scores - correct.unsqueeze(1) + margin, min=0).sum(1).mean()


def ww_the_chapters_code(scores, targets, margin=1.0):
    """The chapter's listing: the in-place zeroing happens before the clamp, which autograd allows."""
    batch_size = scores.shape[0]
    correct_scores = scores[torch.arange(batch_size), targets].unsqueeze(1)
    margins = scores - correct_scores + margin
    margins[torch.arange(batch_size), targets] = 0.0
    return torch.clamp(margins, min=0.0).sum(dim=1).mean()


# --------------------------------------------------------------------------- Crammer-Singer
def cs_max_all(scores, targets, margin=1.0):
    correct = scores[torch.arange(len(targets)), targets]
    return torch.relu(margin - correct + scores.amax(1)).mean()


def cs_sum(scores, targets, margin=1.0):
    return ww_the_chapters_code(scores, targets, margin)


def cs_no_clamp(scores, targets, margin=1.0):
    rows = torch.arange(len(targets))
    correct = scores[rows, targets]
    others = scores.clone()
    others[rows, targets] = -1e30
    return (margin - correct + others.max(1).values).mean()


def cs_fixed_margin(scores, targets, margin=1.0):
    rows = torch.arange(len(targets))
    correct = scores[rows, targets]
    others = torch.where(nn.functional.one_hot(targets, scores.shape[1]) == 1, -torch.inf, scores)
    return torch.clamp(1.0 + others.max(dim=1)[0] - correct, min=0).mean()


# --------------------------------------------------------------------------- vectorised
def vec_all_classes(scores, targets, margin=1.0):
    correct = scores[torch.arange(len(targets)), targets][:, None]
    return torch.clamp(scores - correct + margin, min=0).sum(dim=1)


def vec_scalar(scores, targets, margin=1.0):
    return vec_all_classes(scores, targets, margin).mean() - margin


def vec_no_clamp(scores, targets, margin=1.0):
    correct = scores[torch.arange(len(targets)), targets][:, None]
    return (scores - correct + margin).sum(dim=1) - margin


def vec_class_mean(scores, targets, margin=1.0):
    return (vec_all_classes(scores, targets, margin) - margin) / scores.shape[1]


def vec_loop(scores, targets, margin=1.0):
    n, num_classes = scores.shape
    losses = torch.zeros(n, dtype=scores.dtype)
    for i in range(n):
        c = int(targets[i])
        for j in range(num_classes):
            if j != c:
                losses[i] += torch.clamp(scores[i, j] - scores[i, c] + margin, min=0.0)
    return losses


MUTANTS = [
    ("multiclass_hinge_loss", "correct class counted", ww_all_classes),
    ("multiclass_hinge_loss", "mean over classes", ww_torch_module),
    ("multiclass_hinge_loss", "missing clamp", ww_no_clamp),
    ("multiclass_hinge_loss", "wrong sign", ww_wrong_sign),
    ("multiclass_hinge_loss", "margin ignored", ww_fixed_margin),
    ("multiclass_hinge_loss", "sum over the batch", ww_batch_sum),
    ("multiclass_hinge_loss", "inplace", ww_inplace_relu),
    ("multiclass_hinge_loss", "in-place operation", ww_inplace_input),
    ("crammer_singer_loss", "max includes the correct class", cs_max_all),
    ("crammer_singer_loss", "sum instead of max (Weston-Watkins)", cs_sum),
    ("crammer_singer_loss", "missing clamp", cs_no_clamp),
    ("crammer_singer_loss", "margin ignored", cs_fixed_margin),
    ("multiclass_hinge_vectorised", "correct class counted", vec_all_classes),
    ("multiclass_hinge_vectorised", "reduced to a scalar", vec_scalar),
    ("multiclass_hinge_vectorised", "missing clamp", vec_no_clamp),
    ("multiclass_hinge_vectorised", "mean over classes", vec_class_mean),
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


def test_the_chapters_listing_passes():
    """Zeroing the correct class before the clamp is in place but harmless: it must not be flagged."""
    report = checks.evaluate("multiclass_hinge_loss", ww_the_chapters_code)
    assert report.status == "pass", report.message


def test_the_given_loop_is_correct_but_too_slow():
    report = checks.evaluate("multiclass_hinge_vectorised", vec_loop)
    assert report.status == "fail" and report.score == 0
    assert "correct, but a case took" in report.message and "vectorise it" in report.message


def test_the_vectorised_solution_runs_far_under_its_budget():
    exercise = checks.get("multiclass_hinge_vectorised")

    def fast(scores, targets, margin=1.0):
        correct = scores.gather(1, targets[:, None])
        terms = torch.clamp(scores - correct + margin, min=0)
        return terms.sum(1) - margin

    for hidden in (False, True):
        cases = checks.cases_for(exercise, hidden=hidden)
        outcomes = checks.run_cases(exercise, fast, cases)
        assert max(o.seconds for o in outcomes) < exercise.max_seconds / 3
