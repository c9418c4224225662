"""Exercises of 08 Contrastive margin loss: the chapter's loss, and a distance that is safe at zero."""

from __future__ import annotations

import torch

from utils.checks import Exercise, Mistake, register

NOTEBOOK = "ex08_contrastive_margin"


# --------------------------------------------------------------------------- contrastive_loss
def _pair_cases(generator: torch.Generator, hidden: bool) -> list[dict]:
    """Pairs at distances on both sides of the margin; never two identical rows (d > 0 everywhere)."""
    z1 = torch.tensor([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    z2 = torch.tensor([[0.6, 0.8], [0.3, 0.4], [1.2, 1.6], [1.0, 2.0]], dtype=torch.float64)  # d = 1, .5, 2, 1
    cases = [dict(z1=z1, z2=z2, similar=torch.tensor([1.0, 0.0, 0.0, 1.0], dtype=torch.float64), margin=1.0)]
    shapes, margins = ((6, 2), (40, 8)), (1.0, 2.0)
    ### BEGIN HIDDEN
    if hidden:  # the grader's cases: other shapes (one pair, many pairs, wide embeddings) and margins
        shapes, margins = ((1, 3), (9, 2), (50, 16), (128, 5)), (1.0, 0.25, 3.0)
    ### END HIDDEN
    for n, dim in shapes:
        for margin in margins:
            # scale so that distances spread around the margin: some dissimilar pairs inside, some outside
            scale = margin / (2.0 * dim) ** 0.5
            z1 = scale * torch.randn(n, dim, generator=generator, dtype=torch.float64)
            z2 = scale * torch.randn(n, dim, generator=generator, dtype=torch.float64)
            similar = torch.randint(0, 2, (n,), generator=generator).to(torch.float64)
            cases.append(dict(z1=z1, z2=z2, similar=similar, margin=margin))
    return cases


def _distance(z1, z2):
    return torch.linalg.vector_norm(z1 - z2, dim=1)


def _reference_contrastive(z1, z2, similar, margin=1.0):
    d = _distance(z1, z2)
    pull = d.square()
    push = torch.clamp(margin - d, min=0.0).square()
    return torch.where(similar == 1, pull, push).mean()


def _flipped(z1, z2, similar, margin=1.0):
    d = _distance(z1, z2)
    return ((1 - similar) * d**2 + similar * torch.clamp(margin - d, min=0) ** 2).mean()


def _dissimilar_unsquared(z1, z2, similar, margin=1.0):
    d = _distance(z1, z2)
    return (similar * d**2 + (1 - similar) * torch.clamp(margin - d, min=0)).mean()


def _similar_unsquared(z1, z2, similar, margin=1.0):
    d = _distance(z1, z2)
    return (similar * d + (1 - similar) * torch.clamp(margin - d, min=0) ** 2).mean()


def _summed(z1, z2, similar, margin=1.0):
    d = _distance(z1, z2)
    return (similar * d**2 + (1 - similar) * torch.clamp(margin - d, min=0) ** 2).sum()


def _fixed_margin(z1, z2, similar, margin=1.0):
    d = _distance(z1, z2)
    return (similar * d**2 + (1 - similar) * torch.clamp(1.0 - d, min=0) ** 2).mean()


def _halved(z1, z2, similar, margin=1.0):
    d = _distance(z1, z2)
    return 0.5 * (similar * d**2 + (1 - similar) * torch.clamp(margin - d, min=0) ** 2).mean()


CONTRASTIVE_LOSS = register(Exercise(
    name="contrastive_loss",
    notebook=NOTEBOOK,
    function="contrastive_loss",
    points=3,
    reference=_reference_contrastive,
    make_cases=_pair_cases,
    mistakes=(
        Mistake("label convention flipped",
                "you pull the pairs labelled 0 together and push the pairs labelled 1 apart — that is Hadsell "
                "et al.'s convention (Y=0 similar). Here `similar` is 1 for a similar pair: "
                "L = y d² + (1 - y) max(0, m - d)².", _flipped),
        Mistake("dissimilar term not squared",
                "the dissimilar term must be squared, max(0, m - d)², so that its gradient vanishes smoothly "
                "at d = m; you used max(0, m - d).", _dissimilar_unsquared),
        Mistake("similar term not squared",
                "a similar pair costs the squared distance d², not d (d² has gradient 2d, which fades as the "
                "pair comes together).", _similar_unsquared),
        Mistake("sum instead of mean",
                "the values are N times too large: average the per-pair losses with .mean(), not .sum().",
                _summed),
        Mistake("margin ignored",
                "your result does not change with `margin`: use the margin argument in max(0, margin - d), "
                "not a fixed 1.", _fixed_margin),
        Mistake("Hadsell's factor 1/2",
                "your loss is half the expected one: Hadsell et al. write ½ in front of both terms, the "
                "chapter's form has no ½.", _halved),
    ),
    grad_inputs=("z1", "z2"),
    description="Implement the chapter's contrastive loss y d² + (1 - y) max(0, m - d)², mean over pairs.",
))


# --------------------------------------------------------------------------- safe_distance
def _distance_cases(generator: torch.Generator, hidden: bool) -> list[dict]:
    """Row pairs, some of them identical (d = 0, where the gradient must be 0, not NaN)."""
    x = torch.tensor([[3.0, 4.0], [1.0, -2.0], [0.0, 0.0]], dtype=torch.float64)
    y = torch.tensor([[0.0, 0.0], [1.0, -2.0], [0.0, 0.0]], dtype=torch.float64)
    cases = [dict(x=x, y=y)]
    shapes = ((5, 2), (32, 16))
    ### BEGIN HIDDEN
    if hidden:  # the grader's cases: other shapes (one row, one dimension, wide, many rows)
        shapes = ((1, 1), (7, 3), (64, 128), (200, 2))
    ### END HIDDEN
    for n, dim in shapes:
        x = torch.randn(n, dim, generator=generator, dtype=torch.float64)
        y = torch.randn(n, dim, generator=generator, dtype=torch.float64)
        same = torch.rand(n, generator=generator) < 0.3
        same[0] = True  # at least one zero distance per case
        y[same] = x[same]
        cases.append(dict(x=x, y=y))
    ### BEGIN HIDDEN
    if hidden:  # all rows identical; tiny but non-zero differences
        x = torch.randn(4, 3, generator=generator, dtype=torch.float64)
        cases.append(dict(x=x, y=x.clone()))
        cases.append(dict(x=x, y=x + 1e-3))
    ### END HIDDEN
    return cases


def _reference_distance(x, y):
    diff = x - y
    # masked square root: sqrt where the distance is positive, a constant 0 where it is zero
    squared = (diff * diff).sum(dim=1)
    positive = squared > 0
    safe = torch.where(positive, squared, torch.ones_like(squared))
    return torch.where(positive, safe.sqrt(), torch.zeros_like(squared))


SAFE_DISTANCE = register(Exercise(
    name="safe_distance",
    notebook=NOTEBOOK,
    function="safe_distance",
    points=2,
    reference=_reference_distance,
    make_cases=_distance_cases,
    mistakes=(
        Mistake("square root of the sum (NaN gradient at d = 0)",
                "the values are right but the gradient is NaN where x == y: the derivative of sqrt at 0 is "
                "infinite and autograd multiplies it by 0. Take the square root only where the squared "
                "distance is positive (torch.where with a safe input), or use torch.linalg.vector_norm.",
                lambda x, y: ((x - y) ** 2).sum(dim=1).sqrt()),
        Mistake("F.pairwise_distance's default eps",
                "torch.nn.functional.pairwise_distance adds eps=1e-6 to every coordinate of x - y: the "
                "distance of a point to itself is then 1e-6·√D, not 0, and its gradient is a spurious unit "
                "vector. Pass eps=0.0, or compute the norm yourself.",
                lambda x, y: torch.nn.functional.pairwise_distance(x, y)),
        Mistake("squared distance",
                "you return the squared distance ||x - y||²: take its square root (safely at 0).",
                lambda x, y: ((x - y) ** 2).sum(dim=1)),
        Mistake("norm over the wrong dimension",
                "the result must have one distance per row, shape (N,): reduce over the feature "
                "dimension (dim=1), not over the rows.",
                lambda x, y: torch.linalg.vector_norm(x - y, dim=0)),
    ),
    grad_inputs=("x", "y"),
    description="Row-wise Euclidean distance whose gradient is finite (0) where the rows coincide.",
))
