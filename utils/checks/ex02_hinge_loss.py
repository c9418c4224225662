"""Exercises of 02 Hinge loss (and 03 Gradient behaviour): the loss and its gradient by hand."""

from __future__ import annotations

import torch

from utils.checks import Exercise, Mistake, register


def _binary_cases(generator: torch.Generator, hidden: bool) -> list[dict]:
    """Scores and {-1,+1} targets: a fixed case from the chapter, then random ones with various margins."""
    cases = [dict(scores=torch.tensor([2.0, 0.3, -0.5, -2.0], dtype=torch.float64),
                  targets=torch.tensor([1.0, 1.0, -1.0, -1.0], dtype=torch.float64), margin=1.0)]
    sizes, margins = (5, 32), (1.0, 0.5, 2.0)
    ### BEGIN HIDDEN
    if hidden:  # the grader's cases: other sizes (one example, odd, large) and margins (0 included)
        sizes, margins = (1, 7, 64, 257), (1.0, 0.0, 2.5)
    ### END HIDDEN
    for n in sizes:
        for margin in margins:
            scores = 3 * torch.randn(n, generator=generator, dtype=torch.float64)
            targets = torch.randint(0, 2, (n,), generator=generator).to(torch.float64) * 2 - 1
            cases.append(dict(scores=scores, targets=targets, margin=margin))
    return cases


def _reference_hinge(scores, targets, margin=1.0):
    return torch.clamp(margin - targets * scores, min=0.0).mean()


def _reference_gradient(scores, targets, margin=1.0):
    # d/ds of mean_i max(0, m - y_i s_i): -y_i / N where the margin is violated (y s < m), else 0.
    return torch.where(targets * scores < margin, -targets, torch.zeros_like(targets)) / scores.numel()


HINGE_MISTAKES = (
    Mistake("labels treated as {0,1}",
            "your function converts the targets as if they were {0,1} labels (2*y - 1), but they are "
            "already in {-1,+1}. Use the targets as given: max(0, margin - y*s).",
            lambda scores, targets, margin=1.0: torch.clamp(margin - (2 * targets - 1) * scores, min=0).mean()),
    Mistake("sum instead of mean",
            "the values are N times too large: average over the batch with .mean(), not .sum().",
            lambda scores, targets, margin=1.0: torch.clamp(margin - targets * scores, min=0).sum()),
    Mistake("missing clamp",
            "examples beyond the margin give negative loss: clamp the margin violation at zero, "
            "max(0, margin - y*s), e.g. torch.clamp(..., min=0.0).",
            lambda scores, targets, margin=1.0: (margin - targets * scores).mean()),
    Mistake("wrong sign",
            "the sign of y*s is flipped: the loss must shrink as y*s grows, max(0, margin - y*s).",
            lambda scores, targets, margin=1.0: torch.clamp(margin + targets * scores, min=0).mean()),
    Mistake("margin ignored",
            "your result does not change with `margin`: use the margin argument instead of a fixed 1.",
            lambda scores, targets, margin=1.0: torch.clamp(1.0 - targets * scores, min=0).mean()),
)

HINGE_LOSS = register(Exercise(
    name="hinge_loss",
    notebook="ex02_hinge_loss",
    function="hinge_loss",
    points=2,
    reference=_reference_hinge,
    make_cases=_binary_cases,
    mistakes=HINGE_MISTAKES,
    grad_inputs=("scores",),
    description="Implement the mean hinge loss max(0, margin - y s) for targets in {-1, +1}.",
))

HINGE_GRADIENT = register(Exercise(
    name="hinge_gradient",
    notebook="ex02_hinge_loss",
    function="hinge_gradient",
    points=2,
    reference=_reference_gradient,
    make_cases=_binary_cases,
    mistakes=(
        Mistake("gradient of the sum, not the mean",
                "your gradient is N times too large: the loss is a mean, so each example's gradient is divided by N.",
                lambda scores, targets, margin=1.0: torch.where(targets * scores < margin, -targets, 0 * targets)),
        Mistake("wrong sign",
                "the sign is flipped: increasing y*s decreases the loss, so d/ds = -y/N inside the margin.",
                lambda scores, targets, margin=1.0:
                    torch.where(targets * scores < margin, targets, 0 * targets) / scores.numel()),
        Mistake("active set from the sign, not the margin",
                "you give gradient only to misclassified examples (y*s < 0); correctly classified examples "
                "inside the margin (0 <= y*s < margin) still get -y/N.",
                lambda scores, targets, margin=1.0:
                    torch.where(targets * scores < 0, -targets, 0 * targets) / scores.numel()),
        Mistake("y forgotten",
                "the gradient inside the margin is -y/N, not -1/N: the chain rule through y*s brings the factor y.",
                lambda scores, targets, margin=1.0:
                    torch.where(targets * scores < margin, -torch.ones_like(targets), 0 * targets) / scores.numel()),
    ),
    description="Derive d loss / d scores of the mean hinge loss by hand and implement it without autograd.",
))
