"""Exercises of 06 Margin loss for ranking: the pairwise loss, MarginRankingLoss used right, all pairs."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from utils.checks import Exercise, Mistake, register


def _pair_cases(generator: torch.Generator, hidden: bool) -> list[dict]:
    cases = [dict(pos_scores=torch.tensor([2.0, 0.5, 1.2, -0.3], dtype=torch.float64),
                  neg_scores=torch.tensor([0.5, 0.0, 1.5, -2.0], dtype=torch.float64), margin=1.0)]
    sizes, margins = (6, 48), (1.0, 0.5, 2.0)
    ### BEGIN HIDDEN
    if hidden:  # the grader's cases: other sizes (one pair, odd, large) and margins
        sizes, margins = (1, 11, 256), (1.0, 0.1, 3.0)
    ### END HIDDEN
    for n in sizes:
        for margin in margins:
            pos = 1.0 + 1.5 * torch.randn(n, generator=generator, dtype=torch.float64)
            neg = 1.5 * torch.randn(n, generator=generator, dtype=torch.float64)
            cases.append(dict(pos_scores=pos, neg_scores=neg, margin=margin))
    return cases


def _reference_pairs(pos_scores, neg_scores, margin=1.0):
    return F.margin_ranking_loss(pos_scores, neg_scores, torch.ones_like(pos_scores), margin=margin)


def _hinge(pos, neg, margin):
    return torch.clamp(margin - pos + neg, min=0)


RANKING_LOSS = register(Exercise(
    name="ranking_loss",
    notebook="ex06_ranking_margin",
    function="ranking_loss",
    points=1,
    reference=_reference_pairs,
    make_cases=_pair_cases,
    mistakes=(
        Mistake("wrong sign",
                "the positive must score higher: the loss is max(0, margin - s_pos + s_neg); yours rewards "
                "the negative for scoring higher.",
                lambda pos_scores, neg_scores, margin=1.0: _hinge(neg_scores, pos_scores, margin).mean()),
        Mistake("missing clamp",
                "well-ranked pairs give negative loss: clamp at 0, max(0, margin - s_pos + s_neg).",
                lambda pos_scores, neg_scores, margin=1.0: (margin - pos_scores + neg_scores).mean()),
        Mistake("sum instead of mean",
                "the values are N times too large: average over the pairs with .mean().",
                lambda pos_scores, neg_scores, margin=1.0: _hinge(pos_scores, neg_scores, margin).sum()),
        Mistake("margin ignored",
                "your result does not change with `margin`: use the margin argument, not a fixed 1.",
                lambda pos_scores, neg_scores, margin=1.0: _hinge(pos_scores, neg_scores, 1.0).mean()),
    ),
    grad_inputs=("pos_scores", "neg_scores"),
    description="Mean pairwise ranking loss max(0, margin - s_pos + s_neg).",
))


# --------------------------------------------------------------------------- MarginRankingLoss, fixed
def _fixed_cases(generator: torch.Generator, hidden: bool) -> list[dict]:
    return [{k: v for k, v in case.items() if k != "margin"}
            for case in _pair_cases(generator, hidden) if case["margin"] == 1.0]


def _reference_fixed(pos_scores, neg_scores):
    return F.margin_ranking_loss(pos_scores, neg_scores, torch.ones_like(pos_scores), margin=1.0)


FIXED_RANKING_LOSS = register(Exercise(
    name="fixed_ranking_loss",
    notebook="ex06_ranking_margin",
    function="fixed_ranking_loss",
    points=2,
    reference=_reference_fixed,
    make_cases=_fixed_cases,
    mistakes=(
        Mistake("buggy code unchanged",
                "both bugs are still there: nn.MarginRankingLoss() has margin 0 by default, and a target 0 "
                "makes a pair's loss max(0, margin) whatever the scores. Use margin=1.0 and targets in {-1,+1}.",
                lambda pos_scores, neg_scores: 0.5 * torch.clamp(neg_scores - pos_scores, min=0).mean()),
        Mistake("margin left at 0",
                "the targets are right now, but nn.MarginRankingLoss() defaults to margin=0, so a positive "
                "that wins by a hair costs nothing: pass margin=1.0.",
                lambda pos_scores, neg_scores: torch.clamp(neg_scores - pos_scores, min=0).mean()),
        Mistake("{0,1} target kept",
                "the margin is 1 now, but the swapped pairs still have target 0: MarginRankingLoss wants "
                "+1 when x1 should rank higher and -1 when x2 should (a target 0 gives loss = margin, no gradient).",
                lambda pos_scores, neg_scores: 0.5 * (_hinge(pos_scores, neg_scores, 1.0).mean() + 1.0)),
        Mistake("target sign flipped",
                "target +1 means 'x1 should rank higher than x2': with x1 = positive scores the target "
                "is +1 (and -1 for the swapped pairs).",
                lambda pos_scores, neg_scores: _hinge(neg_scores, pos_scores, 1.0).mean()),
    ),
    grad_inputs=("pos_scores", "neg_scores"),
    description="Fix code using nn.MarginRankingLoss with its default margin 0 and a {0,1} target.",
))


# --------------------------------------------------------------------------- all pairs
def _all_pairs_cases(generator: torch.Generator, hidden: bool) -> list[dict]:
    shapes, margins = ((5, 3), (4, 4), (30, 50)), (1.0, 2.0)
    ### BEGIN HIDDEN
    if hidden:  # the grader's cases: other shapes (single positive or negative, large) and margins
        shapes, margins = ((7, 3), (1, 1), (1, 9), (40, 64), (12, 12)), (1.0, 0.25, 2.5)
    ### END HIDDEN
    cases = [dict(pos_scores=torch.tensor([2.0, 0.5], dtype=torch.float64),
                  neg_scores=torch.tensor([0.5, 0.0, 1.8], dtype=torch.float64), margin=1.0)]
    for p, q in shapes:
        for margin in margins:
            pos = 1.0 + 1.5 * torch.randn(p, generator=generator, dtype=torch.float64)
            neg = 1.5 * torch.randn(q, generator=generator, dtype=torch.float64)
            cases.append(dict(pos_scores=pos, neg_scores=neg, margin=margin))
    return cases


def _reference_all_pairs(pos_scores, neg_scores, margin=1.0):
    p, q = pos_scores.numel(), neg_scores.numel()
    return F.margin_ranking_loss(pos_scores.repeat_interleave(q), neg_scores.repeat(p),
                                 torch.ones(p * q, dtype=pos_scores.dtype), margin=margin)


def _matching_pairs(pos_scores, neg_scores, margin=1.0):
    k = min(pos_scores.numel(), neg_scores.numel())
    return _hinge(pos_scores[:k], neg_scores[:k], margin).mean()


ALL_PAIRS_RANKING_LOSS = register(Exercise(
    name="all_pairs_ranking_loss",
    notebook="ex06_ranking_margin",
    function="all_pairs_ranking_loss",
    points=2,
    reference=_reference_all_pairs,
    make_cases=_all_pairs_cases,
    mistakes=(
        Mistake("only matching pairs",
                "you compare positive i with negative i only (zip); every positive must be compared with "
                "every negative: P*Q pairs.",
                _matching_pairs),
        Mistake("must match the size",
                "pos (P,) and neg (Q,) have different lengths, so they do not broadcast as they are: make "
                "a (P, Q) matrix with pos_scores[:, None] and neg_scores[None, :].",
                None),
        Mistake("sum instead of mean",
                "the value is P*Q times too large: average over all pairs with .mean().",
                lambda pos_scores, neg_scores, margin=1.0:
                    _hinge(pos_scores[:, None], neg_scores[None, :], margin).sum()),
        Mistake("wrong sign",
                "the terms are max(0, margin - s_pos_i + s_neg_j); yours have the roles of positives and "
                "negatives swapped.",
                lambda pos_scores, neg_scores, margin=1.0:
                    _hinge(neg_scores[None, :], pos_scores[:, None], margin).mean()),
        Mistake("not reduced to a scalar",
                "you averaged over one axis only: return the mean over all P*Q pairs, a 0-dim tensor.",
                lambda pos_scores, neg_scores, margin=1.0:
                    _hinge(pos_scores[:, None], neg_scores[None, :], margin).mean(dim=1)),
    ),
    grad_inputs=("pos_scores", "neg_scores"),
    description="Mean of max(0, margin - s_pos_i + s_neg_j) over all P*Q pairs (i, j).",
))
