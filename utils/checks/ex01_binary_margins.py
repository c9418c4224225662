"""Exercises of 01 Binary classification margins: the sign rule and the three margin regions."""

from __future__ import annotations

import torch

from utils.checks import Exercise, Mistake, register


def _quantised(n: int, generator: torch.Generator, step: float = 0.25) -> torch.Tensor:
    """Scores on a grid of ``step`` in [-3, 3], so exact ties s = 0 and y s = margin occur."""
    return torch.randint(-12, 13, (n,), generator=generator).to(torch.float64) * step


def _signs(n: int, generator: torch.Generator) -> torch.Tensor:
    return torch.randint(0, 2, (n,), generator=generator).to(torch.float64) * 2 - 1


# --------------------------------------------------------------------------- predict_labels
def _label_cases(generator: torch.Generator, hidden: bool) -> list[dict]:
    cases = [dict(scores=torch.tensor([2.0, 0.3, 0.0, -0.5, -2.0], dtype=torch.float64))]
    sizes = (6, 40)
    ### BEGIN HIDDEN
    if hidden:  # the grader's cases: other sizes (one example, odd, large)
        sizes = (1, 9, 100, 513)
    ### END HIDDEN
    for n in sizes:
        scores = _quantised(n, generator)
        scores[0] = 0.0  # every case has a tie
        cases.append(dict(scores=scores))
    ### BEGIN HIDDEN
    if hidden:  # edge cases: signed zero, tiny scores, all ties
        cases.append(dict(scores=torch.tensor([-0.0, 1e-300, -1e-300], dtype=torch.float64)))
        cases.append(dict(scores=torch.zeros(4, dtype=torch.float64)))
    ### END HIDDEN
    return cases


def _reference_labels(scores):
    plus = torch.ones_like(scores, dtype=torch.float64)
    return torch.where(scores < 0, -plus, plus)


PREDICT_LABELS = register(Exercise(
    name="predict_labels",
    notebook="ex01_binary_margins",
    function="predict_labels",
    points=1,
    reference=_reference_labels,
    make_cases=_label_cases,
    mistakes=(
        Mistake("torch.sign at the tie",
                "torch.sign(0) is 0, which is no class: the chapter's rule sends the tie s = 0 to +1 "
                "(+1 where s >= 0, -1 where s < 0).",
                lambda scores: torch.sign(scores)),
        Mistake("tie sent to -1",
                "you test s > 0, so the tie s = 0 becomes -1; the chapter's rule is +1 where s >= 0.",
                lambda scores: torch.where(scores > 0, 1.0, -1.0).to(torch.float64)),
        Mistake("labels {0,1}",
                "your labels are {0, 1}; the chapter's classes are -1 and +1 (return -1.0 where s < 0).",
                lambda scores: (scores >= 0).to(torch.float64)),
        Mistake("classes swapped",
                "positive scores must give +1 and negative scores -1; yours are the other way round.",
                lambda scores: torch.where(scores >= 0, -1.0, 1.0).to(torch.float64)),
    ),
    description="The chapter's sign rule: +1 where s >= 0 (the tie included), -1 where s < 0.",
))


# --------------------------------------------------------------------------- margin_report
def _report_cases(generator: torch.Generator, hidden: bool) -> list[dict]:
    cases = [dict(scores=torch.tensor([2.0, 0.3, -0.5, -2.0, 0.0, 1.0, -1.0], dtype=torch.float64),
                  targets=torch.tensor([1.0, 1.0, -1.0, -1.0, -1.0, 1.0, 1.0], dtype=torch.float64),
                  margin=1.0)]
    sizes, margins = (12, 60), (1.0, 0.5, 2.0)
    ### BEGIN HIDDEN
    if hidden:  # the grader's cases: other sizes and margins (0 included)
        sizes, margins = (1, 11, 200), (1.0, 0.5, 2.0, 0.0)
    ### END HIDDEN
    for n in sizes:
        for margin in margins:
            cases.append(dict(scores=_quantised(n, generator), targets=_signs(n, generator), margin=margin))
    return cases


def _reference_report(scores, targets, margin=1.0):
    ys = targets * scores
    wrong = int((ys < 0).sum())
    safe = int((ys >= margin).sum())
    return {"misclassified": wrong, "inside_margin": ys.numel() - wrong - safe, "with_margin": safe}


def _counts(wrong, inside, safe):
    return {"misclassified": int(wrong.sum()), "inside_margin": int(inside.sum()), "with_margin": int(safe.sum())}


def _strict_margin(scores, targets, margin=1.0):
    ys = targets * scores
    return _counts(ys < 0, (ys >= 0) & (ys <= margin), ys > margin)


def _tie_wrong(scores, targets, margin=1.0):
    ys = targets * scores
    return _counts(ys <= 0, (ys > 0) & (ys < margin), ys >= margin)


def _labels_01(scores, targets, margin=1.0):
    ys = (2 * targets - 1) * scores
    return _counts(ys < 0, (ys >= 0) & (ys < margin), ys >= margin)


def _margin_ignored(scores, targets, margin=1.0):
    ys = targets * scores
    return _counts(ys < 0, (ys >= 0) & (ys < 1.0), ys >= 1.0)


MARGIN_REPORT = register(Exercise(
    name="margin_report",
    notebook="ex01_binary_margins",
    function="margin_report",
    points=2,
    reference=_reference_report,
    make_cases=_report_cases,
    mistakes=(
        Mistake("strict boundary at the margin",
                "an example exactly at y*s == margin satisfies the margin: count it in 'with_margin' "
                "(y*s >= margin) and keep 'inside_margin' for 0 <= y*s < margin.",
                _strict_margin),
        Mistake("tie at zero counted as misclassified",
                "'misclassified' is y*s < 0 (strict): an example with y*s == 0 lies on the decision "
                "boundary and counts as 'inside_margin' (0 <= y*s < margin).",
                _tie_wrong),
        Mistake("labels treated as {0,1}",
                "the targets are already in {-1,+1}: use y*s directly, do not convert them with 2*y - 1.",
                _labels_01),
        Mistake("margin ignored",
                "your counts do not change with `margin`: compare y*s with the margin argument, not a fixed 1.",
                _margin_ignored),
    ),
    description="Count misclassified (ys < 0), inside the margin (0 <= ys < margin), with margin (ys >= margin).",
))
