"""In-batch pairwise ranking: every positive against every negative, and the AUC it targets.

The chapter's ranking loss ``max(0, m - s+ + s-)`` is written for given (positive, negative)
pairs (``utils.ranking_margin_loss``). With a batch of P positives and Q negatives, the usual
in-batch form scores all P * Q pairs at once by broadcasting (P, 1) against (1, Q). The fraction
of those pairs that are ordered correctly is the ROC AUC (Mann-Whitney statistic), which is what
the pairwise loss targets.
Introduced in: 06 Margin loss for ranking.
"""

from __future__ import annotations

import torch

from utils.validation import (
    apply_reduction,
    check_binary_targets,
    check_float_tensor,
    check_margin,
    check_ndim,
    check_nonempty,
    check_same_shape,
)


def _check_pos_neg(pos_scores, neg_scores):
    for name, s in (("pos_scores", pos_scores), ("neg_scores", neg_scores)):
        check_float_tensor(name, s)
        check_ndim(name, s, 1, "(P,)" if name == "pos_scores" else "(Q,)")
        check_nonempty(name, s)


def pairwise_differences(pos_scores, neg_scores):
    """All differences ``s+_i - s-_j``, shape (P, Q), by broadcasting (P, 1) - (1, Q).

    Introduced in: 06 Margin loss for ranking.

    Parameters
    ----------
    pos_scores : Tensor of shape (P,)
        Scores of the items that should rank higher, float32 or float64.
    neg_scores : Tensor of shape (Q,)
        Scores of the items that should rank lower.

    Returns
    -------
    Tensor of shape (P, Q)

    Raises
    ------
    TypeError
        If an input is not a floating-point tensor.
    ValueError
        If an input is not 1-D or is empty.

    Examples
    --------
    >>> pairwise_differences(torch.tensor([2.0, 0.0]), torch.tensor([1.0, 0.5, -1.0]))
    tensor([[ 1.0000,  1.5000,  3.0000],
            [-1.0000, -0.5000,  1.0000]])
    """
    _check_pos_neg(pos_scores, neg_scores)
    return pos_scores.unsqueeze(1) - neg_scores.unsqueeze(0)


def all_pairs_ranking_loss(pos_scores, neg_scores, *, margin=1.0, reduction="mean"):
    """In-batch pairwise ranking loss: ``max(0, margin - s+_i + s-_j)`` for every pair (i, j).

    Introduced in: 06 Margin loss for ranking.

    Parameters
    ----------
    pos_scores : Tensor of shape (P,)
        Scores of the P items that should rank higher, float32 or float64.
    neg_scores : Tensor of shape (Q,)
        Scores of the Q items that should rank lower.
    margin : float, default=1.0
        Required gap, finite and >= 0.
    reduction : {"none", "mean", "sum"}, default="mean"
        "none" returns the (P, Q) matrix of pair losses; "mean" averages over the P * Q pairs.

    Returns
    -------
    Tensor
        Scalar, or shape (P, Q) if ``reduction="none"``.

    Raises
    ------
    TypeError
        If an input is not a floating-point tensor, or ``margin`` is not a number.
    ValueError
        If an input is not 1-D or is empty, ``margin`` is negative or not finite, or
        ``reduction`` is unknown.

    Notes
    -----
    Equal to ``utils.ranking_margin_loss`` applied to the P * Q pairs listed explicitly, without
    building index tensors. Subgradient as there: a pair at the kink ``s+ - s- == margin``
    counts as active. Memory is O(P * Q).

    Examples
    --------
    >>> all_pairs_ranking_loss(torch.tensor([2.0, 0.0]), torch.tensor([1.0, -1.0]), reduction="none")
    tensor([[0., 0.],
            [2., 0.]])
    """
    margin = check_margin(margin)
    diff = pairwise_differences(pos_scores, neg_scores)
    return apply_reduction(torch.clamp(margin - diff, min=0), reduction)


def split_by_label(scores, targets):
    """Split scores (N,) into those of positives (targets == +1) and negatives (targets == -1).

    Introduced in: 06 Margin loss for ranking.

    Parameters
    ----------
    scores : Tensor of shape (N,)
        Float scores.
    targets : Tensor of shape (N,)
        Labels in {-1, +1} ({0, 1} is refused with a hint).

    Returns
    -------
    (pos_scores, neg_scores) : tuple of Tensor, shapes (P,) and (Q,), P + Q = N

    Raises
    ------
    ValueError
        If targets are not in {-1, +1}, shapes differ, or one of the two classes is absent.

    Examples
    --------
    >>> split_by_label(torch.tensor([0.5, -1.0, 2.0]), torch.tensor([1, -1, 1]))
    (tensor([0.5000, 2.0000]), tensor([-1.]))
    """
    check_float_tensor("scores", scores)
    check_ndim("scores", scores, 1, "(N,)")
    check_binary_targets(targets)
    check_same_shape(scores=scores, targets=targets)
    is_pos = targets > 0
    n_pos = int(is_pos.sum())
    if n_pos == 0 or n_pos == is_pos.numel():
        raise ValueError(
            f"ranking needs at least one positive (+1) and one negative (-1); got {n_pos} positives "
            f"among {is_pos.numel()} examples. Fix: use a batch that holds both classes."
        )
    return scores[is_pos], scores[~is_pos]


def pairwise_auc(pos_scores, neg_scores):
    """Fraction of (positive, negative) pairs ordered correctly, ties counted 1/2: the ROC AUC.

    Introduced in: 06 Margin loss for ranking.

    Equals ``sklearn.metrics.roc_auc_score`` (the Mann-Whitney U statistic divided by P * Q).

    Parameters
    ----------
    pos_scores : Tensor of shape (P,)
    neg_scores : Tensor of shape (Q,)

    Returns
    -------
    float
        ``mean(1[s+ > s-] + 0.5 * 1[s+ == s-])`` over the P * Q pairs, in [0, 1].

    Examples
    --------
    >>> pairwise_auc(torch.tensor([2.0, 0.0]), torch.tensor([1.0, 0.0]))
    0.625
    """
    diff = pairwise_differences(pos_scores.detach(), neg_scores.detach())
    return ((diff > 0).double() + 0.5 * (diff == 0).double()).mean().item()


def violation_fraction(pos_scores, neg_scores, *, margin=1.0):
    """Fraction of (positive, negative) pairs whose loss is positive: ``s+ - s- < margin``.

    Introduced in: 06 Margin loss for ranking.

    With ``margin=0`` this is the fraction of strictly mis-ordered pairs, ``1 - AUC`` when there
    are no ties.

    Parameters
    ----------
    pos_scores : Tensor of shape (P,)
    neg_scores : Tensor of shape (Q,)
    margin : float, default=1.0

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    >>> violation_fraction(torch.tensor([2.0, 0.0]), torch.tensor([1.0, -1.0]))
    0.25
    """
    margin = check_margin(margin)
    diff = pairwise_differences(pos_scores.detach(), neg_scores.detach())
    return (diff < margin).double().mean().item()
