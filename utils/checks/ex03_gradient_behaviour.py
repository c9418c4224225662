"""Exercises of 03 Gradient behaviour: which examples get gradient, and the {0,1} label bug."""

from __future__ import annotations

import torch

import utils
from utils.checks import Exercise, Mistake, register


def _grid_scores(n: int, generator: torch.Generator) -> torch.Tensor:
    """Scores on a grid of 0.25 in [-3, 3], so y s hits the margin (and 0) exactly."""
    return torch.randint(-12, 13, (n,), generator=generator).to(torch.float64) / 4


def _signs(n: int, generator: torch.Generator) -> torch.Tensor:
    return torch.randint(0, 2, (n,), generator=generator).to(torch.float64) * 2 - 1


# --------------------------------------------------------------------------- active_examples
def _active_cases(generator: torch.Generator, hidden: bool) -> list[dict]:
    cases = [dict(scores=torch.tensor([2.0, 1.0, 0.3, -0.5, -1.0, -2.0], dtype=torch.float64),
                  targets=torch.tensor([1.0, 1.0, 1.0, -1.0, -1.0, -1.0], dtype=torch.float64), margin=1.0)]
    sizes, margins = (10, 64), (1.0, 0.5, 2.0)
    ### BEGIN HIDDEN
    if hidden:  # the grader's cases: other sizes and margins (0 included)
        sizes, margins = (1, 13, 300), (1.0, 0.25, 2.5, 0.0)
    ### END HIDDEN
    for n in sizes:
        for margin in margins:
            cases.append(dict(scores=_grid_scores(n, generator), targets=_signs(n, generator), margin=margin))
    return cases


def _reference_active(scores, targets, margin=1.0):
    # The gradient utils.hinge_loss actually returns, per example: nonzero where the example is active.
    s = scores.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(utils.hinge_loss(s, targets, margin=margin, reduction="sum"), s)
    return grad != 0


ACTIVE_EXAMPLES = register(Exercise(
    name="active_examples",
    notebook="ex03_gradient_behaviour",
    function="active_examples",
    points=2,
    reference=_reference_active,
    make_cases=_active_cases,
    mistakes=(
        Mistake("kink counted as inactive",
                "at the kink y*s == margin utils.hinge_loss gives the subgradient -y (active), so the "
                "mask must be y*s <= margin, not y*s < margin.",
                lambda scores, targets, margin=1.0: targets * scores < margin),
        Mistake("active set from the sign, not the margin",
                "you keep only misclassified examples; correctly classified examples inside the margin "
                "(0 <= y*s <= margin) get gradient too.",
                lambda scores, targets, margin=1.0: targets * scores <= 0),
        Mistake("mask inverted",
                "you return the examples with zero gradient: the active ones are those with y*s <= margin.",
                lambda scores, targets, margin=1.0: targets * scores > margin),
        Mistake("margin ignored",
                "your mask does not change with `margin`: compare y*s with the margin argument, not 1.",
                lambda scores, targets, margin=1.0: targets * scores <= 1.0),
        Mistake("labels treated as {0,1}",
                "the targets are already in {-1,+1}: do not convert them with 2*y - 1.",
                lambda scores, targets, margin=1.0: (2 * targets - 1) * scores <= margin),
    ),
    description="Boolean mask of the examples whose hinge-loss gradient is nonzero (utils.hinge_loss's convention).",
))


# --------------------------------------------------------------------------- hinge_from_01_labels
def _labels01_cases(generator: torch.Generator, hidden: bool) -> list[dict]:
    cases = [dict(scores=torch.tensor([2.0, 0.3, -0.5, -2.0], dtype=torch.float64),
                  labels01=torch.tensor([1.0, 1.0, 0.0, 0.0], dtype=torch.float64))]
    sizes = (8, 50)
    ### BEGIN HIDDEN
    if hidden:  # the grader's cases: other sizes (one example, odd, large)
        sizes = (1, 17, 257)
    ### END HIDDEN
    for n in sizes:
        scores = 2 * torch.randn(n, generator=generator, dtype=torch.float64)
        labels = torch.randint(0, 2, (n,), generator=generator)
        cases.append(dict(scores=scores, labels01=labels.to(torch.float64)))
        ### BEGIN HIDDEN
        if hidden:  # integer labels, as a data loader gives them
            cases.append(dict(scores=scores.flip(0), labels01=labels.clone()))
        ### END HIDDEN
    return cases


def _reference_hinge_01(scores, labels01):
    return utils.hinge_loss(scores, labels01.to(torch.float64) * 2 - 1)


HINGE_FROM_01_LABELS = register(Exercise(
    name="hinge_from_01_labels",
    notebook="ex03_gradient_behaviour",
    function="hinge_from_01_labels",
    points=2,
    reference=_reference_hinge_01,
    make_cases=_labels01_cases,
    mistakes=(
        Mistake("bug left in: {0,1} labels used as targets",
                "with a label 0 the term max(0, 1 - 0*s) is 1 whatever the score, and its gradient is 0: "
                "convert the labels to {-1,+1} first, y = 2*labels01 - 1.",
                lambda scores, labels01: torch.clamp(1 - labels01 * scores, min=0).mean()),
        Mistake("conversion flipped",
                "you map 1 -> -1 and 0 -> +1; the class labelled 1 is the positive class: y = 2*labels01 - 1.",
                lambda scores, labels01: torch.clamp(1 - (1 - 2 * labels01) * scores, min=0).mean()),
        Mistake("labels only doubled",
                "2*labels01 gives {0, 2}, not {-1,+1}: subtract 1, y = 2*labels01 - 1.",
                lambda scores, labels01: torch.clamp(1 - 2 * labels01 * scores, min=0).mean()),
        Mistake("sum instead of mean",
                "the values are N times too large: the fixed function returns the mean over the batch.",
                lambda scores, labels01: torch.clamp(1 - (2 * labels01 - 1) * scores, min=0).sum()),
    ),
    grad_inputs=("scores",),
    description="Fix a hinge loss that was fed {0,1} labels: convert them to {-1,+1}, mean hinge with margin 1.",
))
