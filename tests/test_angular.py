"""utils.angular against the oracles of REFERENCES.md ("Oracles") (cross-entropy formulas, pytorch-metric-learning's
CosFaceLoss/ArcFaceLoss): values and gradients in float64, the θ + m > π branch, finite gradients at
exact alignment, and clear errors on bad input."""

import math

import pytest
import torch
import torch.nn.functional as F
from pytorch_metric_learning import losses as pml_losses
from torch.testing import assert_close

from utils.angular import (
    arcface_logits,
    arcface_loss,
    arcface_target_logit,
    cosface_logits,
    cosface_loss,
    cosine_logits,
)

F64 = torch.float64
N, C, D = 12, 5, 7


def randn(*shape, seed=0):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=F64)


def labels(n=N, c=C, seed=0):
    return torch.randint(0, c, (n,), generator=torch.Generator().manual_seed(seed))


def value_and_grads(fn, z, W):
    z, W = z.detach().clone().requires_grad_(True), W.detach().clone().requires_grad_(True)
    out = fn(z, W)
    gz, gW = torch.autograd.grad(out, (z, W))
    return out.detach(), gz, gW


def pml_value_and_grads(pml_loss, z, W, y):
    """Run a PML large-margin loss with our (C, D) weight copied into its (D, C) ``W``."""
    assert pml_loss.W.shape == (W.shape[1], W.shape[0])  # PML stores W as (D, C)
    pml_loss = pml_loss.to(F64)
    pml_loss.W.data = W.detach().T.clone()
    z = z.detach().clone().requires_grad_(True)
    out = pml_loss(z, y)
    gz, gW = torch.autograd.grad(out, (z, pml_loss.W))
    return out.detach(), gz, gW.T


# --- cosine logits -----------------------------------------------------------------------------


def test_cosine_logits_match_brute_force_loop():
    z, W = randn(N, D, seed=1) * 3, randn(C, D, seed=2) * 0.1
    cos = cosine_logits(z, W)
    brute = torch.tensor(
        [[float(z[i] @ W[j] / (z[i].norm() * W[j].norm())) for j in range(C)] for i in range(N)], dtype=F64
    )
    assert cos.shape == (N, C)
    assert_close(cos, brute)
    assert_close(cos, F.cosine_similarity(z[:, None, :], W[None, :, :], dim=2))


def test_cosine_logits_ignore_norms():
    z, W = randn(N, D, seed=3), randn(C, D, seed=4)
    assert_close(cosine_logits(5 * z, 0.01 * W), cosine_logits(z, W))


# --- CosFace --------------------------------------------------------------------------------------


@pytest.mark.parametrize("margin,scale", [(0.35, 64.0), (0.1, 16.0), (0.0, 10.0)])
def test_cosface_matches_cross_entropy_formula(margin, scale):
    z, W, y = randn(N, D, seed=5), randn(C, D, seed=6), labels(seed=7)

    def oracle(z, W):
        cos = F.normalize(z, dim=1) @ F.normalize(W, dim=1).T
        return F.cross_entropy(scale * (cos - margin * F.one_hot(y, C).to(F64)), y)

    ours = value_and_grads(lambda z, W: cosface_loss(z, W, y, margin=margin, scale=scale), z, W)
    for a, b in zip(ours, value_and_grads(oracle, z, W)):
        assert_close(a, b)


@pytest.mark.parametrize("margin,scale", [(0.35, 64.0), (0.1, 16.0)])
def test_cosface_matches_pml_with_the_same_weight(margin, scale):
    z, W, y = randn(N, D, seed=8), randn(C, D, seed=9), labels(seed=10)
    ours = value_and_grads(lambda z, W: cosface_loss(z, W, y, margin=margin, scale=scale), z, W)
    oracle = pml_value_and_grads(pml_losses.CosFaceLoss(C, D, margin=margin, scale=scale), z, W, y)
    for a, b in zip(ours, oracle):
        assert_close(a, b)


def test_cosface_margin_zero_is_normalised_softmax_and_margin_raises_loss():
    z, W, y = randn(N, D, seed=11), randn(C, D, seed=12), labels(seed=13)
    plain = F.cross_entropy(16.0 * cosine_logits(z, W), y, reduction="none")
    assert_close(cosface_loss(z, W, y, margin=0.0, scale=16.0, reduction="none"), plain)
    assert (cosface_loss(z, W, y, margin=0.2, scale=16.0, reduction="none") > plain).all()


def test_cosface_logits_change_only_the_target_column():
    z, W, y = randn(N, D, seed=14), randn(C, D, seed=15), labels(seed=16)
    diff = cosface_logits(z, W, y, margin=0.3, scale=2.0) - 2.0 * cosine_logits(z, W)
    assert_close(diff, -0.6 * F.one_hot(y, C).to(F64))


# --- ArcFace -------------------------------------------------------------------------------------


def arcface_oracle(z, W, y, margin, scale):
    """REFERENCES.md ("Oracles"): cross_entropy(s * logits), target cos(θ+m) if θ <= π-m else cos θ - m sin m."""
    cos = F.normalize(z, dim=1) @ F.normalize(W, dim=1).T
    rows = torch.arange(len(y))
    theta = torch.arccos(cos[rows, y])  # inputs are kept away from ±1 in these tests
    target = torch.where(theta <= math.pi - margin, torch.cos(theta + margin), cos[rows, y] - margin * math.sin(margin))
    logits = cos.clone()
    logits[rows, y] = target
    return F.cross_entropy(scale * logits, y)


@pytest.mark.parametrize("margin,scale", [(0.5, 64.0), (0.2, 16.0), (1.2, 8.0), (0.0, 10.0)])
def test_arcface_matches_formula_and_pml_in_degrees(margin, scale):
    z, W, y = randn(40, D, seed=17), randn(C, D, seed=18), labels(40, seed=19)
    cos_y = cosine_logits(z, W)[torch.arange(40), y]
    assert cos_y.abs().max() < 1 - 1e-3  # away from the arccos clamp: plain derivatives apply
    if margin >= 1.0:  # with a large margin some targets fall in the θ > π - m branch: it is exercised
        assert (torch.arccos(cos_y) > math.pi - margin).any()
    ours = value_and_grads(lambda z, W: arcface_loss(z, W, y, margin=margin, scale=scale), z, W)
    formula = value_and_grads(lambda z, W: arcface_oracle(z, W, y, margin, scale), z, W)
    pml = pml_value_and_grads(pml_losses.ArcFaceLoss(C, D, margin=math.degrees(margin), scale=scale), z, W, y)
    for a, b, c in zip(ours, formula, pml):
        assert_close(a, b)
        assert_close(a, c)


def test_pml_arcface_default_margin_is_degrees():
    assert_close(pml_losses.ArcFaceLoss(C, D).margin, math.radians(28.6))


def test_arcface_target_logit_branches_and_monotone():
    m = 0.5
    theta = torch.linspace(0.01, math.pi - 0.01, 2001, dtype=F64)
    psi = arcface_target_logit(torch.cos(theta), margin=m)
    inside = theta <= math.pi - m
    assert_close(psi[inside], torch.cos(theta[inside] + m))
    assert_close(psi[~inside], torch.cos(theta[~inside]) - m * math.sin(m))
    assert (psi.diff() < 0).all()  # monotone decreasing: the branch removes cos(θ+m)'s rise beyond π - m
    raw = torch.cos(theta + m)
    assert (raw.diff()[theta[1:] > math.pi - m + 0.01] > 0).all()  # ... which the naive formula has
    # the jump at θ = π - m: from -1 down to -(cos m + m sin m)
    assert_close(psi[~inside][0], torch.cos(theta[~inside][0]) - m * math.sin(m))
    assert -(math.cos(m) + m * math.sin(m)) < -1


def test_arcface_with_zero_margin_is_normalised_softmax():
    z, W, y = randn(N, D, seed=20), randn(C, D, seed=21), labels(seed=22)
    assert_close(arcface_loss(z, W, y, margin=0.0, scale=12.0), cosface_loss(z, W, y, margin=0.0, scale=12.0))


def test_arcface_logits_change_only_the_target_column():
    z, W, y = randn(N, D, seed=23), randn(C, D, seed=24), labels(seed=25)
    logits, plain = arcface_logits(z, W, y, margin=0.4, scale=3.0), 3.0 * cosine_logits(z, W)
    off = F.one_hot(y, C) == 0
    assert_close(logits[off], plain[off])
    assert (logits[~off] < plain[~off]).all()


@pytest.mark.parametrize("dtype", [torch.float32, F64])
def test_arcface_gradients_finite_at_exact_alignment_where_pml_gives_nan(dtype):
    W = torch.eye(3, 4, dtype=dtype)
    z = torch.tensor([[1.0, 0, 0, 0], [0, 1.0, 0, 0.3], [-1.0, 0, 0, 0]], dtype=dtype)  # row 0: cos = 1
    y = torch.tensor([0, 1, 0])  # row 2: cos = -1, the other end of arccos
    for loss_fn in (arcface_loss,):
        zz, WW = z.clone().requires_grad_(True), W.clone().requires_grad_(True)
        loss = loss_fn(zz, WW, y, margin=0.5, scale=64.0)
        gz, gW = torch.autograd.grad(loss, (zz, WW))
        assert torch.isfinite(loss) and torch.isfinite(gz).all() and torch.isfinite(gW).all()
    # the pitfall of REFERENCES.md ("Oracles"), reproduced: PML's ArcFaceLoss on the same input
    pml = pml_losses.ArcFaceLoss(3, 4, margin=math.degrees(0.5), scale=64.0).to(dtype)
    pml.W.data = W.T.clone()
    zz = z.clone().requires_grad_(True)
    (gz_pml,) = torch.autograd.grad(pml(zz, y), (zz,))
    assert torch.isnan(gz_pml).any()


def test_arcface_unclamped_arccos_would_be_infinite():
    """Why the clamp: d arccos(c)/dc = -1/sqrt(1-c²) is -inf at c = 1 even after clamp(-1, 1)."""
    c = torch.tensor(1.0, dtype=F64, requires_grad=True)
    (g,) = torch.autograd.grad(torch.arccos(torch.clamp(c, -1, 1)), c)
    assert torch.isinf(g)
    c = torch.tensor(1.0, dtype=F64, requires_grad=True)
    (g,) = torch.autograd.grad(arcface_target_logit(c, margin=0.5), c)
    assert torch.isfinite(g)


def test_arcface_gradients_by_gradcheck_away_from_clamp_and_branch():
    z, W, y = randn(6, 3, seed=26), randn(4, 3, seed=27), labels(6, 4, seed=28)
    assert torch.autograd.gradcheck(lambda z, W: arcface_loss(z, W, y, margin=0.3, scale=4.0),
                                    (z.requires_grad_(True), W.requires_grad_(True)))


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_reductions(reduction):
    z, W, y = randn(N, D, seed=29), randn(C, D, seed=30), labels(seed=31)
    for fn in (cosface_loss, arcface_loss):
        per = fn(z, W, y, margin=0.2, scale=8.0, reduction="none")
        assert per.shape == (N,)
        expected = {"none": per, "mean": per.mean(), "sum": per.sum()}[reduction]
        assert_close(fn(z, W, y, margin=0.2, scale=8.0, reduction=reduction), expected)


def test_float32_agrees_with_float64():
    z, W, y = randn(N, D, seed=32), randn(C, D, seed=33), labels(seed=34)
    for fn in (cosface_loss, arcface_loss):
        assert fn(z.float(), W.float(), y).dtype == torch.float32
        assert_close(fn(z.float(), W.float(), y).double(), fn(z, W, y), rtol=1e-4, atol=1e-4)


# --- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        (dict(W=randn(D, C)), ValueError, r"loss\.W\.T"),  # PML's (D, C) layout
        (dict(W=randn(C, D + 1)), ValueError, r"shape \(C, D\)"),
        (dict(W=randn(C, D).float()), TypeError, "same dtype"),
        (dict(z=torch.ones(N, D, dtype=torch.int64)), TypeError, "floating-point"),
        (dict(z=randn(N)), ValueError, r"\(N, D\)"),
        (dict(z=torch.zeros(N, D, dtype=F64)), ValueError, "non-zero norm"),
        (dict(z=randn(0, D)), ValueError, "at least one"),
        (dict(y=labels().double()), TypeError, "integer class indices"),
        (dict(y=torch.full((N,), C)), ValueError, "class indices"),
        (dict(y=labels(N - 1)), ValueError, "batch size"),
        (dict(margin=-0.1), ValueError, ">= 0"),
        (dict(scale=0.0), ValueError, "> 0"),
        (dict(scale=math.inf), ValueError, "finite"),
        (dict(reduction="avg"), ValueError, "reduction"),
    ],
)
def test_clear_errors(kwargs, error, match):
    args = dict(z=randn(N, D), W=randn(C, D), y=labels())
    args.update({k: v for k, v in kwargs.items() if k in args})
    options = {k: v for k, v in kwargs.items() if k not in args}
    for fn in (cosface_loss, arcface_loss):
        with pytest.raises(error, match=match):
            fn(args["z"], args["W"], args["y"], **options)


def test_arcface_margin_in_degrees_is_rejected():
    with pytest.raises(ValueError, match="radians"):
        arcface_loss(randn(N, D), randn(C, D), labels(), margin=28.6)
