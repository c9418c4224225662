"""Margin-based losses of the chapter, as functions in the style of ``torch.nn.functional``.

Every loss takes tensors, checks them (see :mod:`utils.validation`), and returns per-example
losses reduced by ``reduction`` in {"none", "mean", "sum"}, on the input's device and dtype.

Kinks use ``torch.clamp(..., min=0)``, whose gradient at exactly 0 is that of the input
(the *active* side). So at a margin violation of exactly 0 every loss here returns the
subgradient of the linear piece, as scikit-learn's SGD counts it; each docstring states it.
"""

import torch

from utils.validation import (
    apply_reduction,
    check_binary_targets,
    check_choice,
    check_class_targets,
    check_float_tensor,
    check_margin,
    check_ndim,
    check_nonempty,
    check_positive,
    check_same_batch_size,
    check_same_shape,
    check_similar_labels,
)

MULTICLASS_VARIANTS = ("weston_watkins", "crammer_singer")


def _signed_margins(scores, targets):
    """Check binary ``scores``/``targets`` and return the margins ``y * s`` in the scores' dtype."""
    check_float_tensor("scores", scores)
    check_binary_targets(targets)
    check_same_shape(scores=scores, targets=targets)
    check_nonempty("scores", scores)
    return (targets if targets.dtype == scores.dtype else targets.to(scores.dtype)) * scores


def _check_embeddings(**embeddings):
    """Check that the named embeddings are non-empty float tensors of one shape (N, D)."""
    for name, z in embeddings.items():
        check_float_tensor(name, z)
        check_ndim(name, z, 2, "(N, D)")
    check_same_shape(**embeddings)
    for name, z in embeddings.items():
        check_nonempty(name, z)


def hinge_loss(scores, targets, *, margin=1.0, reduction="mean"):
    """Binary hinge loss ``max(0, margin - y * s)``.

    Introduced in: 02 Hinge loss.

    Parameters
    ----------
    scores : Tensor of any shape, e.g. (N,)
        Raw real-valued scores ``s`` (no sigmoid), float32 or float64.
    targets : Tensor, same shape as ``scores``
        Labels ``y`` in {-1, +1}; float, integer or bool dtype.
    margin : float, default=1.0
        Required margin, finite and >= 0.
    reduction : {"none", "mean", "sum"}, default="mean"
        "none" returns one loss per element, with the shape of ``scores``.

    Returns
    -------
    Tensor
        Scalar, or the per-element losses if ``reduction="none"``.

    Raises
    ------
    TypeError
        If an input is not a tensor, or ``scores`` is not floating point.
    ValueError
        If targets are not in {-1, +1} (e.g. {0, 1}), shapes differ, the batch is empty,
        ``margin`` is negative or not finite, or ``reduction`` is unknown.

    Notes
    -----
    Subgradient: d/ds = -y where ``y * s <= margin`` and 0 where ``y * s > margin``; at the kink
    ``y * s == margin`` it is -y (the active piece, as scikit-learn's SGD counts it).

    Examples
    --------
    >>> hinge_loss(torch.tensor([2.0, 0.3, -0.5]), torch.tensor([1, 1, -1]), reduction="none")
    tensor([0.0000, 0.7000, 0.5000])
    """
    margin = check_margin(margin)
    violation = margin - _signed_margins(scores, targets)
    return apply_reduction(torch.clamp(violation, min=0), reduction)


def squared_hinge_loss(scores, targets, *, margin=1.0, reduction="mean"):
    """Squared hinge loss ``max(0, margin - y * s) ** 2``.

    Introduced in: 04 Squared hinge loss.

    Parameters
    ----------
    scores : Tensor of any shape, e.g. (N,)
        Raw real-valued scores ``s``, float32 or float64.
    targets : Tensor, same shape as ``scores``
        Labels ``y`` in {-1, +1}; float, integer or bool dtype.
    margin : float, default=1.0
        Required margin, finite and >= 0.
    reduction : {"none", "mean", "sum"}, default="mean"
        "none" returns one loss per element, with the shape of ``scores``.

    Returns
    -------
    Tensor
        Scalar, or the per-element losses if ``reduction="none"``.

    Raises
    ------
    TypeError
        If an input is not a tensor, or ``scores`` is not floating point.
    ValueError
        If targets are not in {-1, +1}, shapes differ, the batch is empty, ``margin`` is
        negative or not finite, or ``reduction`` is unknown.

    Notes
    -----
    The loss is differentiable everywhere: d/ds = -2 y max(0, margin - y s), which is exactly 0
    at the kink ``y * s == margin`` from both sides, so no subgradient choice is involved.

    Examples
    --------
    >>> squared_hinge_loss(torch.tensor([2.0, 0.5, 1.0]), torch.tensor([1, 1, -1]), reduction="none")
    tensor([0.0000, 0.2500, 4.0000])
    """
    margin = check_margin(margin)
    violation = margin - _signed_margins(scores, targets)
    return apply_reduction(torch.clamp(violation, min=0) ** 2, reduction)


def logistic_loss(scores, targets, *, reduction="mean"):
    """Logistic loss ``log(1 + exp(-y * s))`` (= ``F.soft_margin_loss``), for comparison.

    Introduced in: 03 Gradient behaviour.

    Parameters
    ----------
    scores : Tensor of any shape, e.g. (N,)
        Raw real-valued scores ``s``, float32 or float64.
    targets : Tensor, same shape as ``scores``
        Labels ``y`` in {-1, +1}; float, integer or bool dtype.
    reduction : {"none", "mean", "sum"}, default="mean"
        "none" returns one loss per element, with the shape of ``scores``.

    Returns
    -------
    Tensor
        Scalar, or the per-element losses if ``reduction="none"``.

    Raises
    ------
    TypeError
        If an input is not a tensor, or ``scores`` is not floating point.
    ValueError
        If targets are not in {-1, +1}, shapes differ, the batch is empty, or ``reduction``
        is unknown.

    Notes
    -----
    Smooth, no kink: d/ds = -y sigmoid(-y s), never exactly 0. Computed as
    ``logaddexp(0, -y s)``, which stays finite and accurate for large ``|s|``
    (``F.soft_margin_loss`` overflows to inf once ``-y s`` exceeds about 710 in float64).

    Examples
    --------
    >>> logistic_loss(torch.tensor([0.0, 2.0]), torch.tensor([1, -1]), reduction="none")
    tensor([0.6931, 2.1269])
    """
    neg_margin = -_signed_margins(scores, targets)
    return apply_reduction(torch.logaddexp(torch.zeros_like(neg_margin), neg_margin), reduction)


def multiclass_hinge_loss(scores, targets, *, margin=1.0, variant="weston_watkins", reduction="mean"):
    """Multiclass hinge loss, summed over wrong classes (Weston-Watkins) or their max (Crammer-Singer).

    Introduced in: 05 Multiclass margin loss.

    With correct class ``c`` and margin ``Δ``, per example:

    - ``"weston_watkins"`` (the chapter's): ``sum_{j != c} max(0, s_j - s_c + Δ)``;
    - ``"crammer_singer"``: ``max(0, Δ - s_c + max_{j != c} s_j)`` (scikit-learn's multiclass
      ``hinge_loss``).

    Parameters
    ----------
    scores : Tensor of shape (N, C)
        Class scores, float32 or float64, C >= 2.
    targets : Tensor of shape (N,)
        Integer class indices in [0, C-1].
    margin : float, default=1.0
        Required margin Δ, finite and >= 0.
    variant : {"weston_watkins", "crammer_singer"}, default="weston_watkins"
        Sum over violating classes, or the largest violation only.
    reduction : {"none", "mean", "sum"}, default="mean"
        "none" returns the (N,) per-example losses.

    Returns
    -------
    Tensor
        Scalar, or shape (N,) if ``reduction="none"``.

    Raises
    ------
    TypeError
        If an input is not a tensor, ``scores`` is not floating point, or ``targets`` is not
        an integer tensor.
    ValueError
        If ``scores`` is not 2-D, C < 2, batch sizes differ, the batch is empty, a class index
        is out of range, ``margin`` is negative or not finite, or ``variant``/``reduction`` is
        unknown.

    Notes
    -----
    Inputs are never modified in place. Subgradients at kinks:

    - Weston-Watkins: each wrong class j with ``s_j - s_c + Δ >= 0`` (equality included)
      counts as active: +1 for ``s_j`` and -1 for ``s_c``.
    - Crammer-Singer: active when ``Δ - s_c + max_{j != c} s_j >= 0`` (equality included):
      -1 for ``s_c`` and +1 for the best wrong class; when several wrong classes tie for the
      max, that +1 is split equally between them (``torch.amax``).

    Examples
    --------
    >>> scores = torch.tensor([[2.0, 1.5, -1.0], [0.0, 0.0, 3.0]])
    >>> multiclass_hinge_loss(scores, torch.tensor([0, 2]), reduction="none")
    tensor([0.5000, 0.0000])
    """
    margin = check_margin(margin)
    check_choice("variant", variant, MULTICLASS_VARIANTS)
    check_float_tensor("scores", scores)
    check_ndim("scores", scores, 2, "(N, C)")
    if scores.shape[1] < 2:
        raise ValueError(
            f"scores must have C >= 2 class columns; got shape {tuple(scores.shape)}. "
            f"Fix: for one score per example use hinge_loss with targets in {{-1, +1}}."
        )
    check_class_targets(targets, scores.shape[1])
    check_same_batch_size(scores=scores, targets=targets)
    check_nonempty("scores", scores)
    index = targets.long().unsqueeze(1)  # (N, 1); no (N, C) one-hot is built
    correct = scores.gather(1, index)
    if variant == "weston_watkins":
        # (N, 1) offset first, so only two (N, C) passes (add, clamp) precede the zeroing scatter.
        violations = torch.clamp(scores + (margin - correct), min=0)
        loss = violations.scatter(1, index, 0.0).sum(dim=1)  # drop the j == c term exactly
    else:
        best_wrong = scores.scatter(1, index, float("-inf")).amax(dim=1)
        loss = torch.clamp(margin - correct.squeeze(1) + best_wrong, min=0)
    return apply_reduction(loss, reduction)


def ranking_margin_loss(pos_scores, neg_scores, *, margin=1.0, reduction="mean"):
    """Pairwise ranking loss ``max(0, margin - s_pos + s_neg)``.

    Introduced in: 06 Margin loss for ranking.

    Parameters
    ----------
    pos_scores : Tensor of any shape, e.g. (N,)
        Scores ``s+`` of the items that should rank higher, float32 or float64.
    neg_scores : Tensor, same shape as ``pos_scores``
        Scores ``s-`` of the items that should rank lower.
    margin : float, default=1.0
        Required gap, finite and >= 0.
    reduction : {"none", "mean", "sum"}, default="mean"
        "none" returns one loss per pair, with the shape of ``pos_scores``.

    Returns
    -------
    Tensor
        Scalar, or the per-pair losses if ``reduction="none"``.

    Raises
    ------
    TypeError
        If an input is not a tensor or not floating point.
    ValueError
        If shapes differ, the batch is empty, ``margin`` is negative or not finite, or
        ``reduction`` is unknown.

    Notes
    -----
    Subgradient: (d/ds+, d/ds-) = (-1, +1) where ``s+ - s- <= margin`` and (0, 0) where
    ``s+ - s- > margin``; at the kink ``s+ - s- == margin`` it is (-1, +1) (active).

    Examples
    --------
    >>> ranking_margin_loss(torch.tensor([2.0, 0.5]), torch.tensor([0.5, 0.0]), reduction="none")
    tensor([0.0000, 0.5000])
    """
    margin = check_margin(margin)
    check_float_tensor("pos_scores", pos_scores)
    check_float_tensor("neg_scores", neg_scores)
    check_same_shape(pos_scores=pos_scores, neg_scores=neg_scores)
    check_nonempty("pos_scores", pos_scores)
    return apply_reduction(torch.clamp(margin - pos_scores + neg_scores, min=0), reduction)


def triplet_margin_loss(anchor, positive, negative, *, margin=1.0, p=2, reduction="mean"):
    """Triplet loss ``max(0, d(a, p) - d(a, n) + margin)`` with the exact p-norm distance.

    Introduced in: 07 Triplet margin loss.

    Unlike ``torch.nn.functional.triplet_margin_loss`` (default ``eps=1e-6`` added inside the
    difference, so d(x, x) = 1e-6 * sqrt(D)), the distance here is exactly
    ``||a - p||_p``, and ``margin=0`` is allowed.

    Parameters
    ----------
    anchor, positive, negative : Tensor of shape (N, D)
        Embeddings, float32 or float64, all the same shape.
    margin : float, default=1.0
        Required gap between the two distances, finite and >= 0.
    p : float, default=2
        Order of the norm, > 0 (``float("inf")`` allowed).
    reduction : {"none", "mean", "sum"}, default="mean"
        "none" returns the (N,) per-triplet losses.

    Returns
    -------
    Tensor
        Scalar, or shape (N,) if ``reduction="none"``.

    Raises
    ------
    TypeError
        If an input is not a tensor or not floating point.
    ValueError
        If an input is not 2-D, shapes differ, the batch is empty, ``margin`` is negative or
        not finite, ``p`` is not positive, or ``reduction`` is unknown.

    Notes
    -----
    Subgradient: the gradient of ``d(a, p) - d(a, n)`` where ``d(a, p) - d(a, n) + margin >= 0``
    (the kink, equality, counts as active) and 0 elsewhere. At zero distance the gradient of
    ``d`` is taken as 0 (``torch.linalg.vector_norm``), so it stays finite.

    Examples
    --------
    >>> a, pos, neg = torch.zeros(1, 2), torch.tensor([[3.0, 4.0]]), torch.tensor([[6.0, 8.0]])
    >>> triplet_margin_loss(a, pos, neg, margin=6.0, reduction="none")
    tensor([1.])
    """
    margin = check_margin(margin)
    p = check_positive("p", p)
    _check_embeddings(anchor=anchor, positive=positive, negative=negative)
    d_ap = torch.linalg.vector_norm(anchor - positive, ord=p, dim=1)
    d_an = torch.linalg.vector_norm(anchor - negative, ord=p, dim=1)
    return apply_reduction(torch.clamp(d_ap - d_an + margin, min=0), reduction)


def contrastive_margin_loss(z1, z2, similar, *, margin=1.0, reduction="mean"):
    """Contrastive loss ``y d^2 + (1 - y) max(0, margin - d)^2`` with ``d = ||z1 - z2||_2``.

    Introduced in: 08 Contrastive margin loss.

    ``y = 1`` marks a similar pair, ``y = 0`` a dissimilar one (the chapter's convention;
    Hadsell et al. 2006 use half this loss with the label flipped).

    Parameters
    ----------
    z1, z2 : Tensor of shape (N, D)
        Embeddings of the two members of each pair, float32 or float64.
    similar : Tensor of shape (N,)
        1 for a similar pair, 0 for a dissimilar one; bool, integer or float dtype.
    margin : float, default=1.0
        Distance a dissimilar pair must reach, finite and >= 0.
    reduction : {"none", "mean", "sum"}, default="mean"
        "none" returns the (N,) per-pair losses.

    Returns
    -------
    Tensor
        Scalar, or shape (N,) if ``reduction="none"``.

    Raises
    ------
    TypeError
        If an input is not a tensor or the embeddings are not floating point.
    ValueError
        If ``similar`` holds values other than 0/1 (with a hint when it looks like {-1, +1}),
        shapes differ, the batch is empty, ``margin`` is negative or not finite, or
        ``reduction`` is unknown.

    Notes
    -----
    Differentiable everywhere except at one point: the similar term ``d^2`` is the sum of squares
    (gradient 2 (z1 - z2), 0 at ``d == 0``: a minimum; computed from the one ``d`` the dissimilar term
    uses, so the (N, D) difference is reduced once), and the dissimilar term's gradient
    -2 max(0, margin - d) grad(d) is 0 at ``d == margin`` from both sides. The exception is a
    *dissimilar* pair at ``d == 0`` (identical embeddings): as a function of ``z1 - z2``,
    ``max(0, margin - d)^2`` has a cone-shaped MAXIMUM there (it falls off with slope 2 margin in
    every direction), so no gradient exists. This function returns 0 there (the gradient of ``d`` at
    0 is taken as 0, as ``torch.linalg.vector_norm`` does): finite, not NaN, but it leaves a
    collapsed dissimilar pair exactly where it is (a stationary point the optimiser cannot leave
    on its own). Any direction would be a valid descent direction; torch's ``pairwise_distance``
    with its default ``eps`` picks one (along the all-ones vector), which is arbitrary, not wrong.
    Contrast the triplet case ``a == p``: there ``d(a, p)`` sits at a minimum of the loss's
    positive term, and gradient 0 is the right answer.

    Examples
    --------
    >>> z1, z2 = torch.zeros(2, 2), torch.tensor([[0.3, 0.4], [0.3, 0.4]])
    >>> contrastive_margin_loss(z1, z2, torch.tensor([1, 0]), reduction="none")
    tensor([0.2500, 0.2500])
    """
    margin = check_margin(margin)
    _check_embeddings(z1=z1, z2=z2)
    check_similar_labels(similar)
    check_ndim("similar", similar, 1, "(N,)")
    check_same_batch_size(z1=z1, similar=similar)
    is_similar = similar if similar.dtype == torch.bool else similar != 0
    # One pass over the (N, D) difference: d once, then d^2 for similar pairs. Its gradient
    # 2 d grad(d) = 2 (z1 - z2) is the sum of squares' gradient, also at d == 0 (both 0).
    d = torch.linalg.vector_norm(z1 - z2, dim=1)
    shortfall = torch.clamp(margin - d, min=0)
    return apply_reduction(torch.where(is_similar, d, shortfall) ** 2, reduction)
