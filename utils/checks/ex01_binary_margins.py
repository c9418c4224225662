"""Exercises of 01 Binary classification margins: the sign rule and the three margin regions."""

from __future__ import annotations

import torch

from utils.checks import Exercise, Mistake, grouped, register


def _quantised(n: int, generator: torch.Generator, step: float = 0.25) -> torch.Tensor:
    """Scores on a grid of ``step`` in [-3, 3], so exact ties s = 0 and y s = margin occur."""
    return torch.randint(-12, 13, (n,), generator=generator).to(torch.float64) * step


def _signs(n: int, generator: torch.Generator) -> torch.Tensor:
    return torch.randint(0, 2, (n,), generator=generator).to(torch.float64) * 2 - 1


# --------------------------------------------------------------------------- geometric_margin
# (Issue 13: this exercise replaced ``predict_labels``, whose answer chapter 01 prints verbatim.)
def _geometric_cases(generator: torch.Generator, hidden: bool) -> list[dict]:
    """Points, ±1 targets, a linear scorer (w, b); the same scorer rescaled by c > 0 must give the same
    margins (the chapter's section 5: the margin size only sets the scale of w)."""
    x = torch.tensor([[1.0, 2.0], [0.0, 0.0], [-1.0, 1.0], [2.0, -2.0]], dtype=torch.float64)
    targets = torch.tensor([1.0, -1.0, 1.0, -1.0], dtype=torch.float64)
    weight, bias = torch.tensor([3.0, 4.0], dtype=torch.float64), 1.0  # ||w|| = 5, exact
    cases = grouped("the worked example", dict(x=x, targets=targets, weight=weight, bias=bias))
    cases += grouped("the scorer rescaled: (c·w, c·b) gives the same margins",
                     *(dict(x=x, targets=targets, weight=c * weight, bias=c * bias) for c in (0.5, 4.0)))
    shapes = ((6, 2), (40, 5))
    ### BEGIN HIDDEN
    if hidden:  # the grader's cases: one example, one dimension, wide
        shapes = ((1, 3), (9, 1), (100, 16))
    ### END HIDDEN
    for n, d in shapes:
        x = torch.randn(n, d, generator=generator, dtype=torch.float64)
        weight = torch.randn(d, generator=generator, dtype=torch.float64)
        bias = float(torch.randn((), generator=generator, dtype=torch.float64))
        cases += grouped("one example" if n == 1 else "random points and scorers",
                         dict(x=x, targets=_signs(n, generator), weight=weight, bias=bias))
    return cases


def _reference_geometric(x, targets, weight, bias):
    norm = sum(w * w for w in weight.tolist()) ** 0.5
    return torch.tensor([y * (sum(a * w for a, w in zip(row, weight.tolist())) + bias) / norm
                         for row, y in zip(x.tolist(), targets.tolist())], dtype=torch.float64)


GEOMETRIC_MARGIN = register(Exercise(
    name="geometric_margin",
    notebook="ex01_binary_margins",
    function="geometric_margin",
    points=1,
    reference=_reference_geometric,
    make_cases=_geometric_cases,
    mistakes=(
        Mistake("functional margin, not geometric",
                "you return y·(w·x + b), which doubles when (w, b) doubles; divide by ||w|| to get the "
                "distance to the boundary, which does not depend on the scale of the scorer.",
                lambda x, targets, weight, bias: targets * (x @ weight + bias)),
        Mistake("targets forgotten",
                "your distances are signed by the side of the boundary, not by correctness: multiply by "
                "the target y, so that a misclassified point gets a negative margin.",
                lambda x, targets, weight, bias: (x @ weight + bias) / weight.norm()),
        Mistake("bias inside the norm",
                "divide by ||w|| only: the bias shifts the boundary, it does not tilt it, so it is not part "
                "of the normal vector.",
                lambda x, targets, weight, bias:
                    targets * (x @ weight + bias) / (weight.pow(2).sum() + bias**2).sqrt()),
        Mistake("squared norm",
                "divide by ||w||, not ||w||² (w / ||w|| is the unit normal of the boundary).",
                lambda x, targets, weight, bias: targets * (x @ weight + bias) / weight.pow(2).sum()),
        Mistake("bias forgotten",
                "the score is w·x + b: include the bias, or the boundary goes through the origin.",
                lambda x, targets, weight, bias: targets * (x @ weight) / weight.norm()),
    ),
    description="Geometric margin y (w·x + b) / ||w||: invariant to rescaling the scorer.",
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
