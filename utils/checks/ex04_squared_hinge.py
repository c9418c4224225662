"""Exercises of 04 Squared hinge loss: the loss, and its gradient derived by hand."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from utils.checks import Exercise, Mistake, register


def _cases(generator: torch.Generator, hidden: bool) -> list[dict]:
    cases = [dict(scores=torch.tensor([2.0, 0.5, 1.0, -0.5, -3.0], dtype=torch.float64),
                  targets=torch.tensor([1.0, 1.0, -1.0, -1.0, 1.0], dtype=torch.float64), margin=1.0)]
    sizes, margins = (6, 40), (1.0, 0.5, 2.0)
    ### BEGIN HIDDEN
    if hidden:  # the grader's cases: other sizes and margins (0 included)
        sizes, margins = (1, 9, 128, 301), (1.0, 0.0, 3.0)
    ### END HIDDEN
    for n in sizes:
        for margin in margins:
            scores = 3 * torch.randn(n, generator=generator, dtype=torch.float64)
            targets = torch.randint(0, 2, (n,), generator=generator).to(torch.float64) * 2 - 1
            cases.append(dict(scores=scores, targets=targets, margin=margin))
    return cases


def _reference_loss(scores, targets, margin=1.0):
    # Oracle (REFERENCES.md, "Oracles"): 2 * multi_margin_loss(p=2) on the two-column scores [0, s/margin'] is the
    # squared hinge at margin 1; for another margin, rescale: max(0, m - ys)^2 = m^2 max(0, 1 - ys/m)^2.
    if margin == 0:
        return torch.clamp(-targets * scores, min=0).pow(2).mean()
    two = torch.stack([torch.zeros_like(scores), scores / margin], dim=1)
    per = 2 * F.multi_margin_loss(two, ((targets + 1) // 2).long(), p=2, reduction="none")
    return margin**2 * per.mean()


def _reference_gradient(scores, targets, margin=1.0):
    s = scores.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(_reference_loss(s, targets, margin), s)
    return grad


def _violation(scores, targets, margin):
    return torch.clamp(margin - targets * scores, min=0)


SQUARED_HINGE_LOSS = register(Exercise(
    name="squared_hinge_loss",
    notebook="ex04_squared_hinge",
    function="squared_hinge_loss",
    points=1,
    reference=_reference_loss,
    make_cases=_cases,
    mistakes=(
        Mistake("not squared",
                "this is the plain hinge loss: square the clamped violation, max(0, margin - y*s) ** 2.",
                lambda scores, targets, margin=1.0: _violation(scores, targets, margin).mean()),
        Mistake("missing clamp",
                "squaring without clamping penalises examples beyond the margin too: clamp at 0 first, "
                "then square.",
                lambda scores, targets, margin=1.0: ((margin - targets * scores) ** 2).mean()),
        Mistake("sum instead of mean",
                "the values are N times too large: average over the batch with .mean().",
                lambda scores, targets, margin=1.0: (_violation(scores, targets, margin) ** 2).sum()),
        Mistake("margin ignored",
                "your result does not change with `margin`: use the margin argument, not a fixed 1.",
                lambda scores, targets, margin=1.0: (_violation(scores, targets, 1.0) ** 2).mean()),
        Mistake("labels treated as {0,1}",
                "the targets are already in {-1,+1}: do not convert them with 2*y - 1.",
                lambda scores, targets, margin=1.0: (_violation(scores, 2 * targets - 1, margin) ** 2).mean()),
    ),
    grad_inputs=("scores",),
    forbidden=("utils.squared_hinge_loss", "utils.losses", "torch.nn.functional.multi_margin_loss"),
    description="Mean squared hinge loss max(0, margin - y s)^2 for targets in {-1, +1}.",
))

SQUARED_HINGE_GRADIENT = register(Exercise(
    name="squared_hinge_gradient",
    notebook="ex04_squared_hinge",
    function="squared_hinge_gradient",
    points=2,
    reference=_reference_gradient,
    make_cases=_cases,
    mistakes=(
        Mistake("factor 2 forgotten",
                "the derivative of v**2 is 2*v: your gradient is half the right one.",
                lambda scores, targets, margin=1.0:
                    -targets * _violation(scores, targets, margin) / scores.numel()),
        Mistake("gradient of the sum, not the mean",
                "your gradient is N times too large: the loss is a mean, so divide by N.",
                lambda scores, targets, margin=1.0: -2 * targets * _violation(scores, targets, margin)),
        Mistake("hinge gradient instead",
                "you return the hinge gradient -y/N, constant inside the margin; the squared hinge's "
                "gradient grows with the violation: -2*y*max(0, margin - y*s)/N.",
                lambda scores, targets, margin=1.0:
                    torch.where(targets * scores < margin, -targets, 0 * targets) / scores.numel()),
        Mistake("wrong sign",
                "the sign is flipped: increasing y*s decreases the loss, so the gradient is -2*y*v/N.",
                lambda scores, targets, margin=1.0:
                    2 * targets * _violation(scores, targets, margin) / scores.numel()),
        Mistake("y forgotten",
                "the chain rule through y*s brings a factor y: -2*y*max(0, margin - y*s)/N, not -2*max(...)/N.",
                lambda scores, targets, margin=1.0: -2 * _violation(scores, targets, margin) / scores.numel()),
    ),
    forbidden=("torch.autograd.grad", "torch.autograd.backward", "torch.Tensor.backward", "torch.autograd.functional", "utils.squared_hinge_loss", "utils.losses", "torch.nn.functional.multi_margin_loss"),
    equivalent_mutants={
        'L3:11 * -> /': 'targets are ±1, so y·v and v/y are equal',
    },
    description="d/ds of the mean squared hinge loss, derived by hand and implemented without autograd.",
))
