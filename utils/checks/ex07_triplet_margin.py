"""Exercises of 07 Triplet margin loss: the exact loss, and torch's eps at zero distance."""

from __future__ import annotations

import torch
import torch.nn.functional as F

import utils
from utils.checks import Exercise, Mistake, register


def _random_triplets(n: int, d: int, generator: torch.Generator) -> tuple[torch.Tensor, ...]:
    anchor = torch.randn(n, d, generator=generator, dtype=torch.float64)
    positive = anchor + 0.5 * torch.randn(n, d, generator=generator, dtype=torch.float64)
    negative = anchor + 0.8 * torch.randn(n, d, generator=generator, dtype=torch.float64)
    return anchor, positive, negative


def _duplicates(n: int, d: int, gap: float, generator: torch.Generator) -> dict:
    """anchor == positive in every row; the negative sits at distance margin - gap, so loss = gap (small)."""
    anchor = torch.randn(n, d, generator=generator, dtype=torch.float64)
    direction = torch.randn(n, d, generator=generator, dtype=torch.float64)
    direction = direction / torch.linalg.vector_norm(direction, dim=1, keepdim=True)
    return dict(anchor=anchor, positive=anchor.clone(), negative=anchor + (1.0 - gap) * direction, margin=1.0)


def _cases(generator: torch.Generator, hidden: bool) -> list[dict]:
    cases = [dict(anchor=torch.zeros(2, 2, dtype=torch.float64),
                  positive=torch.tensor([[3.0, 4.0], [0.3, 0.4]], dtype=torch.float64),
                  negative=torch.tensor([[6.0, 8.0], [0.0, 1.2]], dtype=torch.float64), margin=1.0)]
    shapes, margins = ((5, 2), (32, 16)), (1.0, 0.5, 2.0)
    duplicate_dim = 100
    ### BEGIN HIDDEN
    if hidden:  # the grader's cases: other shapes (one triplet, 1-D embeddings) and margins
        shapes, margins = ((1, 1), (9, 3), (64, 32)), (1.0, 0.2, 3.0)
        duplicate_dim = 64
    ### END HIDDEN
    for n, d in shapes:
        for margin in margins:
            a, p, neg = _random_triplets(n, d, generator)
            cases.append(dict(anchor=a, positive=p, negative=neg, margin=margin))
    # duplicates (anchor == positive), as in a batch with repeated examples; the loss is small there
    cases.append(_duplicates(8, duplicate_dim, 0.02, generator))
    a, p, neg = _random_triplets(6, 4, generator)
    p[::2] = a[::2]  # some rows duplicated, others not
    cases.append(dict(anchor=a, positive=p, negative=neg, margin=1.5))
    return cases


def _reference(anchor, positive, negative, margin=1.0):
    return utils.triplet_margin_loss(anchor, positive, negative, margin=margin)


def _dist(x, y):
    return torch.linalg.vector_norm(x - y, dim=1)


TRIPLET_LOSS = register(Exercise(
    name="triplet_loss",
    notebook="ex07_triplet_margin",
    function="triplet_loss",
    points=2,
    reference=_reference,
    make_cases=_cases,
    mistakes=(
        Mistake("squared distances",
                "you used squared Euclidean distances; the chapter's d(a, p) is the distance itself, "
                "||a - p||_2 (take the square root, or use torch.linalg.vector_norm).",
                lambda anchor, positive, negative, margin=1.0: torch.clamp(
                    ((anchor - positive) ** 2).sum(1) - ((anchor - negative) ** 2).sum(1) + margin, min=0).mean()),
        Mistake("missing clamp",
                "triplets that already satisfy the margin give negative loss: clamp at 0, "
                "max(0, d(a, p) - d(a, n) + margin).",
                lambda anchor, positive, negative, margin=1.0:
                    (_dist(anchor, positive) - _dist(anchor, negative) + margin).mean()),
        Mistake("sum instead of mean",
                "the value is N times too large: average over the triplets with .mean().",
                lambda anchor, positive, negative, margin=1.0: torch.clamp(
                    _dist(anchor, positive) - _dist(anchor, negative) + margin, min=0).sum()),
        Mistake("margin ignored",
                "your result does not change with `margin`: use the margin argument, not a fixed 1.",
                lambda anchor, positive, negative, margin=1.0: torch.clamp(
                    _dist(anchor, positive) - _dist(anchor, negative) + 1.0, min=0).mean()),
        Mistake("torch's default eps",
                "your distances are not exact: F.pairwise_distance / F.triplet_margin_loss add eps=1e-6 to "
                "every coordinate of x - y, so d(x, x) = 1e-6*sqrt(D), not 0 (visible when anchor == "
                "positive). Compute ||a - p|| exactly, e.g. torch.linalg.vector_norm(a - p, dim=1).",
                lambda anchor, positive, negative, margin=1.0:
                    F.triplet_margin_loss(anchor, positive, negative, margin=margin)),
    ),
    description="Mean triplet loss max(0, d(a,p) - d(a,n) + margin) with the exact Euclidean distance.",
))


# --------------------------------------------------------------------------- exact at zero distance
def _exact_cases(generator: torch.Generator, hidden: bool) -> list[dict]:
    cases = [_duplicates(4, 3, 0.02, generator)]
    cases[0]["positive"][1] += 0.5  # one non-duplicated row among duplicates
    shapes = ((6, 3), (32, 16))
    duplicate_dim = 100
    ### BEGIN HIDDEN
    if hidden:  # the grader's cases: other shapes
        shapes = ((1, 1), (7, 5), (40, 64))
        duplicate_dim = 64
    ### END HIDDEN
    for n, d in shapes:
        a, p, neg = _random_triplets(n, d, generator)
        p[::2] = a[::2]
        cases.append(dict(anchor=a, positive=p, negative=neg, margin=1.0))
    cases.append(_duplicates(8, duplicate_dim, 0.02, generator))
    a, p, neg = _random_triplets(12, 8, generator)
    cases.append(dict(anchor=a, positive=p, negative=neg, margin=0.5))
    return cases


EXACT_TRIPLET_LOSS = register(Exercise(
    name="exact_triplet_loss",
    notebook="ex07_triplet_margin",
    function="exact_triplet_loss",
    points=3,
    reference=_reference,
    make_cases=_exact_cases,
    mistakes=(
        Mistake("torch's default eps",
                "nn.TripletMarginLoss's default eps=1e-6 is added to a - p, so at anchor == positive "
                "the distance is 1e-6*sqrt(D) and its gradient a spurious unit vector (1/sqrt(D) per "
                "coordinate) instead of 0. Compute the distances exactly with torch.linalg.vector_norm.",
                lambda anchor, positive, negative, margin=1.0:
                    torch.nn.TripletMarginLoss(margin=margin)(anchor, positive, negative)),
        Mistake("sqrt of a sum of squares",
                "sqrt(((a - p)**2).sum()) has an infinite derivative at 0, so anchor == positive gives NaN "
                "gradients. Use torch.linalg.vector_norm (its gradient at 0 is 0) or mask the zero rows.",
                lambda anchor, positive, negative, margin=1.0: torch.clamp(
                    torch.sqrt(((anchor - positive) ** 2).sum(1)) - torch.sqrt(((anchor - negative) ** 2).sum(1))
                    + margin, min=0).mean()),
        Mistake("eps under the square root",
                "sqrt(sum + eps) keeps the gradient finite but the distance at anchor == positive is "
                "sqrt(eps), not 0, so the loss is off by about that much. Make it exact: "
                "torch.linalg.vector_norm(a - p, dim=1) is 0 at 0 and has gradient 0 there.",
                lambda anchor, positive, negative, margin=1.0: torch.clamp(
                    torch.sqrt(((anchor - positive) ** 2).sum(1) + 1e-12)
                    - torch.sqrt(((anchor - negative) ** 2).sum(1) + 1e-12) + margin, min=0).mean()),
        Mistake("eps only removed from the value",
                "the value is exact but the gradient is not: you still differentiate a distance with eps "
                "(e.g. d_eps + (d - d_eps).detach()). The gradient must be that of the exact distance.",
                lambda anchor, positive, negative, margin=1.0: (
                    torch.nn.TripletMarginLoss(margin=margin)(anchor, positive, negative)
                    + (_reference(anchor, positive, negative, margin)
                       - torch.nn.TripletMarginLoss(margin=margin)(anchor, positive, negative)).detach())),
    ),
    grad_inputs=("anchor", "positive", "negative"),
    description="Triplet loss whose value and gradient are exact when anchor == positive (no eps).",
))
