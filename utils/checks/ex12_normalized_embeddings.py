"""Exercises of 12 Margins with normalised embeddings: CosFace and ArcFace logits from cosines."""

from __future__ import annotations

import math

import torch

from utils.checks import Exercise, Mistake, register

NOTEBOOK = "ex12_normalized_embeddings"
EPS = 1e-7


def _cosine_matrix(generator, n, classes):
    """Cosines strictly inside (-1, 1); the target column partly near -1 (angle beyond pi - m)."""
    cosines = (2 * torch.rand(n, classes, generator=generator, dtype=torch.float64) - 1) * 0.99
    targets = torch.randint(0, classes, (n,), generator=generator)
    near_minus_one = torch.rand(n, generator=generator) < 0.3
    low = -0.999 + 0.09 * torch.rand(n, generator=generator, dtype=torch.float64)  # cos in (-0.999, -0.909)
    rows = torch.arange(n)
    cosines[rows, targets] = torch.where(near_minus_one, low, cosines[rows, targets])
    return cosines, targets


def _logit_cases(generator: torch.Generator, hidden: bool, *, margins, with_extremes: bool) -> list[dict]:
    cases = [dict(cosines=torch.tensor([[0.8, 0.1, -0.3], [0.2, 0.6, 0.5], [-0.95, 0.0, 0.4]], dtype=torch.float64),
                  targets=torch.tensor([0, 2, 0]), margin=margins[0], scale=64.0)]
    shapes, scales = ((8, 4), (32, 10)), (64.0, 16.0)
    ### BEGIN HIDDEN
    if hidden:  # the grader's cases: other shapes (one row, two classes, many rows) and scales
        shapes, scales = ((1, 2), (7, 5), (64, 10), (129, 3)), (64.0, 30.0, 1.0)
    ### END HIDDEN
    for (n, classes), scale, margin in zip(shapes, scales * 2, margins * 4):
        cosines, targets = _cosine_matrix(generator, n, classes)
        cases.append(dict(cosines=cosines, targets=targets, margin=margin, scale=scale))
    if with_extremes:
        # target cosine exactly +1 in one case, exactly -1 in another (arccos has an infinite slope there)
        for value in (1.0, -1.0):
            cosines, targets = _cosine_matrix(generator, 6, 4)
            cosines[torch.arange(6)[::2], targets[::2]] = value
            cases.append(dict(cosines=cosines, targets=targets, margin=margins[0], scale=64.0))
    return cases


# --------------------------------------------------------------------------- cosface_logits
def _reference_cosface(cosines, targets, margin=0.35, scale=64.0):
    out = cosines.clone()
    for row, target in enumerate(targets.tolist()):
        out[row, target] = out[row, target] - margin
    return scale * out


def _one_hot(cosines, targets):
    return torch.nn.functional.one_hot(targets, cosines.shape[1]).to(cosines.dtype)


COSFACE_LOGITS = register(Exercise(
    name="cosface_logits",
    notebook=NOTEBOOK,
    function="cosface_logits",
    points=2,
    reference=_reference_cosface,
    make_cases=lambda generator, hidden: _logit_cases(generator, hidden, margins=(0.35, 0.2), with_extremes=False),
    mistakes=(
        Mistake("margin subtracted from every class",
                "the margin penalises only the TARGET class's cosine (cos θ_y - m); the other classes keep "
                "their plain cosines. Subtracting m everywhere changes nothing after softmax.",
                lambda cosines, targets, margin=0.35, scale=64.0: scale * (cosines - margin)),
        Mistake("scale forgotten",
                "multiply every logit by `scale`: cosines lie in [-1, 1], and softmax over such small logits "
                "cannot get confident.",
                lambda cosines, targets, margin=0.35, scale=64.0: cosines - margin * _one_hot(cosines, targets)),
        Mistake("margin added instead of subtracted",
                "the margin makes the target HARDER to win: subtract it from the target cosine, cos θ_y - m.",
                lambda cosines, targets, margin=0.35, scale=64.0:
                    scale * (cosines + margin * _one_hot(cosines, targets))),
        Mistake("margin not scaled",
                "the margin is applied before scaling, s·(cos θ_y - m); you computed s·cos θ_y - m.",
                lambda cosines, targets, margin=0.35, scale=64.0:
                    scale * cosines - margin * _one_hot(cosines, targets)),
    ),
    grad_inputs=("cosines",),
    description="CosFace logits s·(cos θ_j - m·[j = y]).",
))


# --------------------------------------------------------------------------- arcface_logits
def _reference_arcface(cosines, targets, margin=0.5, scale=64.0):
    rows = torch.arange(cosines.shape[0])
    target_cos = cosines[rows, targets]
    theta = torch.acos(target_cos.clamp(-1 + EPS, 1 - EPS))
    within = theta + margin <= math.pi
    shifted = torch.where(within, torch.cos(theta + margin), target_cos - margin * math.sin(margin))
    out = cosines.clone()
    out[rows, targets] = shifted
    return scale * out


def _arcface_variant(cosines, targets, margin, scale, *, clamp=True, branch=True, all_classes=False):
    c = cosines.clamp(-1 + EPS, 1 - EPS) if clamp else cosines
    theta = torch.acos(c)
    fallback = cosines - margin * math.sin(margin)
    shifted = torch.where(theta + margin <= math.pi, torch.cos(theta + margin), fallback) if branch else torch.cos(theta + margin)
    if all_classes:
        return scale * shifted
    onehot = _one_hot(cosines, targets).bool()
    return scale * torch.where(onehot, shifted, cosines)


ARCFACE_LOGITS = register(Exercise(
    name="arcface_logits",
    notebook=NOTEBOOK,
    function="arcface_logits",
    points=3,
    reference=_reference_arcface,
    make_cases=lambda generator, hidden: _logit_cases(generator, hidden, margins=(0.5, 0.3), with_extremes=True),
    mistakes=(
        Mistake("margin added to every class",
                "only the TARGET class's angle gets the margin, cos(θ_y + m); the other classes keep their "
                "plain cosines cos θ_j.",
                lambda cosines, targets, margin=0.5, scale=64.0:
                    _arcface_variant(cosines, targets, margin, scale, all_classes=True)),
        Mistake("scale forgotten",
                "multiply every logit by `scale`: cosines lie in [-1, 1], and softmax over such small logits "
                "cannot get confident.",
                lambda cosines, targets, margin=0.5, scale=64.0: _arcface_variant(cosines, targets, margin, 1.0)),
        Mistake("margin taken in degrees",
                "the margin is in RADIANS (0.5 rad ≈ 28.6°); you converted it as if it were degrees. "
                "(pytorch-metric-learning's ArcFaceLoss takes degrees; this function does not.)",
                lambda cosines, targets, margin=0.5, scale=64.0:
                    _arcface_variant(cosines, targets, math.radians(margin), scale)),
        Mistake("missing the θ + m > π branch",
                "when θ_y + m > π, cos(θ_y + m) starts to INCREASE again, rewarding a worse angle; use "
                "cos θ_y - m·sin m there (ArcFace's fallback).",
                lambda cosines, targets, margin=0.5, scale=64.0:
                    _arcface_variant(cosines, targets, margin, scale, branch=False)),
        Mistake("arccos without clamp",
                "your gradient is infinite or NaN where the target cosine is exactly ±1: the derivative of "
                "arccos is -1/sqrt(1 - c²). Clamp the cosines to [-1 + eps, 1 - eps] before torch.acos.",
                lambda cosines, targets, margin=0.5, scale=64.0:
                    _arcface_variant(cosines, targets, margin, scale, clamp=False)),
    ),
    grad_inputs=("cosines",),
    description="ArcFace logits: s·cos(θ_y + m) for the target (fallback cos θ_y - m·sin m beyond π), s·cos θ_j otherwise.",
))
