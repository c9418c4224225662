"""Angular-margin softmax losses on the unit sphere: normalised (cosine) logits, CosFace, ArcFace.

Features ``z`` (N, D) and class weights ``W`` (C, D) are L2-normalised row by row, so the logit of
class j is the cosine ``cos θ_j = ẑᵀŵ_j`` in [-1, 1]. A margin is then taken from the *target*
class only, and every logit is multiplied by a scale ``s`` before softmax cross-entropy:

- normalised softmax (NormFace): target logit ``s cos θ_y``;
- CosFace (Wang et al. 2018, additive cosine margin): ``s (cos θ_y - m)``;
- ArcFace (Deng et al. 2019, additive angular margin): ``s cos(θ_y + m)`` while
  ``θ_y <= π - m``, and ``s (cos θ_y - m sin m)`` beyond, where ``cos(θ + m)`` would start to
  *increase* with θ (the same rule as InsightFace and pytorch-metric-learning).

The weight matrix is stored one row per class, shape (C, D), like ``nn.Linear(D, C).weight``.
pytorch-metric-learning stores its ``loss.W`` transposed, shape (D, C): pass ``loss.W.T``.

Introduced in: 12 Margins with normalized embeddings.
"""

import math
import numbers

import torch
import torch.nn.functional as F

from utils.validation import (
    validation_enabled,
    apply_reduction,
    check_choice,
    check_class_targets,
    check_float_tensor,
    check_margin,
    check_ndim,
    check_nonempty,
    check_positive,
    check_same_batch_size,
    REDUCTIONS,
)

#: Default clamp of the cosine before ``arccos``: ``cos`` is kept in ``[-1 + ε, 1 - ε]``.
ARCCOS_EPS = 1e-6


def _check_features_and_weight(features, weight):
    """Check ``features`` (N, D) and ``weight`` (C, D): float, same dtype and D, no zero row."""
    check_float_tensor("features", features)
    check_ndim("features", features, 2, "(N, D)")
    check_nonempty("features", features)
    check_float_tensor("weight", weight)
    check_ndim("weight", weight, 2, "(C, D)")
    check_nonempty("weight", weight)
    if features.shape[1] != weight.shape[1]:
        hint = (
            " It looks transposed: pytorch-metric-learning stores W as (D, C), pass loss.W.T."
            if weight.shape[0] == features.shape[1]
            else ""
        )
        raise ValueError(
            f"weight must have shape (C, D) with the features' D={features.shape[1]} (one row per class); "
            f"got weight.shape={tuple(weight.shape)}.{hint} Fix: pass a (C, {features.shape[1]}) weight."
        )
    if features.dtype != weight.dtype:
        raise TypeError(
            f"features and weight must have the same dtype; got {features.dtype} and {weight.dtype}. "
            f"Fix: convert one, e.g. weight.to(features.dtype)."
        )
    if not validation_enabled():  # the zero-row test reads values back
        return
    for name, x in (("features", features), ("weight", weight)):
        zero = torch.linalg.vector_norm(x.detach(), dim=1) == 0
        if zero.any():
            rows = zero.nonzero().flatten().tolist()
            raise ValueError(
                f"every row of {name} must have a non-zero norm (a zero vector has no direction on the "
                f"unit sphere); got zero rows at indices {rows[:10]}{' ...' if len(rows) > 10 else ''}. "
                f"Fix: drop these rows, or add a small offset before normalising."
            )


def _check_scale(scale):
    """Return ``scale`` as a float; raise unless it is a finite real number > 0."""
    scale = check_positive("scale", scale)
    if not math.isfinite(scale):
        raise ValueError(f"scale must be finite; got {scale}. Fix: pass e.g. scale=16.0 (paper: 64).")
    return scale


def _check_arc_margin(margin):
    """Return the ArcFace margin (radians) as a float; raise unless 0 <= margin <= π/2."""
    margin = check_margin(margin)
    if margin > math.pi / 2:
        raise ValueError(
            f"margin is an angle in radians and must lie in [0, π/2] (≈ [0, 1.571]); got {margin}. "
            f"Beyond π/2 the rule 'cos θ - m sin m for θ > π - m' is no longer monotone. "
            f"Fix: pass radians, e.g. margin=0.5 (≈ 28.6°); convert degrees with math.radians."
        )
    return margin


def _check_eps(eps):
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not 0 < eps < 1:
        raise ValueError(f"eps must be a number in (0, 1); got {eps!r}. Fix: keep the default {ARCCOS_EPS}.")
    return float(eps)


def _check_targets(features, weight, targets):
    check_class_targets(targets, weight.shape[0])
    check_same_batch_size(features=features, targets=targets)


def cosine_logits(features, weight):
    """Cosines between L2-normalised features and L2-normalised class weights.

    Introduced in: 12 Margins with normalized embeddings.

    Parameters
    ----------
    features : Tensor of shape (N, D)
        Embeddings ``z``, float32 or float64, no zero row (any non-zero norm: they are normalised here).
    weight : Tensor of shape (C, D)
        One direction per class (rows), same dtype as ``features``, no zero row.

    Returns
    -------
    Tensor of shape (N, C)
        ``cos θ_ij = z_iᵀ w_j / (|z_i| |w_j|)``, in [-1, 1] up to rounding.

    Raises
    ------
    TypeError
        If an input is not a floating-point tensor, or the dtypes differ.
    ValueError
        If shapes are not (N, D) and (C, D) with the same D (a transposed (D, C) weight is detected),
        a batch is empty, or a row has zero norm.

    Examples
    --------
    >>> cosine_logits(torch.tensor([[3.0, 4.0]]), torch.tensor([[1.0, 0.0], [0.0, 2.0]]))
    tensor([[0.6000, 0.8000]])
    """
    _check_features_and_weight(features, weight)
    return F.normalize(features, dim=1) @ F.normalize(weight, dim=1).T


def _one_hot(targets, cos):
    # scatter, not F.one_hot: one_hot checks the range by reading values back (a sync, and a graph break)
    index = targets.to(device=cos.device, dtype=torch.long).unsqueeze(1)
    return torch.zeros(cos.shape, dtype=cos.dtype, device=cos.device).scatter_(1, index, 1.0)


def cosface_logits(features, weight, targets, *, margin=0.35, scale=64.0):
    """Scaled CosFace logits ``s (cos θ_j - m [j = y])``, shape (N, C).

    Introduced in: 12 Margins with normalized embeddings.

    Parameters
    ----------
    features, weight
        As in :func:`cosine_logits`: (N, D) and (C, D).
    targets : Tensor of shape (N,)
        Integer class indices in [0, C-1].
    margin : float, default=0.35
        Additive cosine margin ``m`` (cosine units, paper default 0.35), finite and >= 0.
    scale : float, default=64.0
        Scale ``s`` > 0 (paper default 64; low-dimensional toy problems need far less).

    Returns
    -------
    Tensor of shape (N, C)
        Logits for ``F.cross_entropy``; only the target column carries the margin.
    """
    margin, scale = check_margin(margin), _check_scale(scale)
    cos = cosine_logits(features, weight)
    _check_targets(features, weight, targets)
    return scale * (cos - margin * _one_hot(targets, cos))


def arcface_target_logit(cos, *, margin=0.5, eps=ARCCOS_EPS):
    """ArcFace's unscaled target logit ψ(θ) as a function of ``cos θ``, elementwise.

    ``cos(θ + m)`` if ``θ <= π - m``, else ``cos θ - m sin m``, with ``θ = arccos(clamp(cos, -1+ε, 1-ε))``.

    Introduced in: 12 Margins with normalized embeddings.

    Parameters
    ----------
    cos : Tensor of any shape
        Cosines of the angle to the target class, floating point.
    margin : float, default=0.5
        Additive angular margin ``m`` in RADIANS, in [0, π/2].
    eps : float, default=1e-6
        Clamp of ``cos`` before ``arccos``: ``d arccos(c)/dc = -1/sqrt(1-c²)`` is -inf at ±1, so an
        unclamped (or [-1, 1]-clamped) ``arccos`` gives inf/NaN gradients for an exactly aligned feature.

    Returns
    -------
    Tensor, shape of ``cos``

    Notes
    -----
    Both pieces decrease with θ. At θ = π - m the target logit jumps down from -1 to
    ``-(cos m + m sin m)`` (<= -1 for m in [0, π/2]), so it stays monotone but is discontinuous there.
    Where ``|cos| > 1 - ε`` the clamp is active: the gradient through the ``cos(θ + m)`` piece is 0
    there (a finite subgradient; the exact derivative of ``cos(θ+m)`` w.r.t. ``cos θ`` is infinite at θ = 0).
    """
    check_float_tensor("cos", cos)
    margin, eps = _check_arc_margin(margin), _check_eps(eps)
    theta = torch.arccos(torch.clamp(cos, -1.0 + eps, 1.0 - eps))
    return torch.where(theta <= math.pi - margin, torch.cos(theta + margin), cos - margin * math.sin(margin))


def arcface_logits(features, weight, targets, *, margin=0.5, scale=64.0, eps=ARCCOS_EPS):
    """Scaled ArcFace logits: ``s cos θ_j`` for j != y and ``s ψ(θ_y)`` for the target, shape (N, C).

    Introduced in: 12 Margins with normalized embeddings.

    Parameters
    ----------
    features, weight
        As in :func:`cosine_logits`: (N, D) and (C, D).
    targets : Tensor of shape (N,)
        Integer class indices in [0, C-1].
    margin : float, default=0.5
        Additive angular margin ``m`` in RADIANS, in [0, π/2] (paper default 0.5 ≈ 28.6°; note that
        pytorch-metric-learning's ``ArcFaceLoss(margin=...)`` takes DEGREES).
    scale : float, default=64.0
        Scale ``s`` > 0.
    eps : float, default=1e-6
        Clamp of the target cosine before ``arccos`` (see :func:`arcface_target_logit`).

    Returns
    -------
    Tensor of shape (N, C)
    """
    margin, scale = _check_arc_margin(margin), _check_scale(scale)
    cos = cosine_logits(features, weight)
    _check_targets(features, weight, targets)
    onehot = _one_hot(targets, cos)
    target_cos = cos.gather(1, targets.view(-1, 1))
    psi = arcface_target_logit(target_cos, margin=margin, eps=eps)
    return scale * (cos + onehot * (psi - target_cos))


def cosface_loss(features, weight, targets, *, margin=0.35, scale=64.0, reduction="mean"):
    """CosFace / large-margin cosine loss: ``cross_entropy(s (cos θ - m onehot(y)), y)``.

    Introduced in: 12 Margins with normalized embeddings.

    Parameters
    ----------
    features : Tensor of shape (N, D)
        Embeddings, float32 or float64 (normalised inside), no zero row.
    weight : Tensor of shape (C, D)
        Class directions (rows), same dtype; pytorch-metric-learning's ``loss.W`` is (D, C): pass ``.T``.
    targets : Tensor of shape (N,)
        Integer class indices in [0, C-1].
    margin : float, default=0.35
        Additive cosine margin, finite and >= 0 (0 gives normalised softmax).
    scale : float, default=64.0
        Scale ``s`` > 0, finite.
    reduction : {"none", "mean", "sum"}, default="mean"

    Returns
    -------
    Tensor
        Scalar, or (N,) per-example losses if ``reduction="none"``.

    Raises
    ------
    TypeError
        Non-tensor or non-float inputs, mismatched dtypes, non-integer targets.
    ValueError
        Wrong shapes (a transposed weight is detected), empty batch, zero-norm row, targets out of
        range, negative margin, non-positive or infinite scale, unknown reduction.

    Examples
    --------
    >>> z, W, y = torch.tensor([[1.0, 0.0]]), torch.eye(2), torch.tensor([0])
    >>> round(cosface_loss(z, W, y, margin=0.0, scale=1.0).item(), 4)  # log(1 + e^{0 - 1})
    0.3133
    """
    check_choice("reduction", reduction, REDUCTIONS)
    logits = cosface_logits(features, weight, targets, margin=margin, scale=scale)
    return apply_reduction(F.cross_entropy(logits, targets, reduction="none"), reduction)


def arcface_loss(features, weight, targets, *, margin=0.5, scale=64.0, reduction="mean", eps=ARCCOS_EPS):
    """ArcFace / additive angular margin loss: cross-entropy on :func:`arcface_logits`.

    Introduced in: 12 Margins with normalized embeddings.

    Target logit ``s cos(θ_y + m)`` while ``θ_y <= π - m``, else ``s (cos θ_y - m sin m)``; other
    logits ``s cos θ_j``.

    Parameters
    ----------
    features : Tensor of shape (N, D)
        Embeddings, float32 or float64 (normalised inside), no zero row.
    weight : Tensor of shape (C, D)
        Class directions (rows), same dtype; pytorch-metric-learning's ``loss.W`` is (D, C): pass ``.T``.
    targets : Tensor of shape (N,)
        Integer class indices in [0, C-1].
    margin : float, default=0.5
        Angular margin in RADIANS, in [0, π/2] (PML's ``ArcFaceLoss`` takes degrees: ``math.degrees(m)``).
    scale : float, default=64.0
        Scale ``s`` > 0, finite.
    reduction : {"none", "mean", "sum"}, default="mean"
    eps : float, default=1e-6
        The target cosine is clamped to ``[-1 + eps, 1 - eps]`` before ``arccos``, so gradients stay
        finite for an exactly aligned feature (pytorch-metric-learning's ArcFaceLoss gives NaN there).

    Returns
    -------
    Tensor
        Scalar, or (N,) per-example losses if ``reduction="none"``.

    Raises
    ------
    TypeError, ValueError
        As :func:`cosface_loss`; also a margin outside [0, π/2] (e.g. degrees passed by mistake).

    Examples
    --------
    >>> z, W, y = torch.tensor([[1.0, 0.0]]), torch.eye(2), torch.tensor([0])
    >>> round(arcface_loss(z, W, y, margin=0.0, scale=1.0).item(), 4)
    0.3133
    """
    check_choice("reduction", reduction, REDUCTIONS)
    logits = arcface_logits(features, weight, targets, margin=margin, scale=scale, eps=eps)
    return apply_reduction(F.cross_entropy(logits, targets, reduction="none"), reduction)
