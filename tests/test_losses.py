"""utils.losses against the oracles of REFERENCES.md ("Oracles"): values and gradients, random and edge inputs.

Everything is float64 unless a test says otherwise. Gradients are compared away from kinks;
at kinks the documented subgradient is asserted.
"""

import functools
import math
import subprocess
import sys

import pytest
import sklearn.metrics
import torch
import torch.nn.functional as F
from pytorch_metric_learning import losses as pml_losses
from pytorch_metric_learning.distances import LpDistance
from pytorch_metric_learning.reducers import DoNothingReducer, MeanReducer
from torch.testing import assert_close

import utils
from utils.losses import (
    contrastive_margin_loss,
    hinge_loss,
    logistic_loss,
    multiclass_hinge_loss,
    ranking_margin_loss,
    squared_hinge_loss,
    triplet_margin_loss,
)

F64 = torch.float64
MARGINS = [0.0, 0.5, 1.0, 2.5]


def randn(*shape, seed=0):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=F64)


def signs(n, seed=0):
    return torch.randint(0, 2, (n,), generator=torch.Generator().manual_seed(seed)).to(F64) * 2 - 1


def classes(n, num_classes, seed=0):
    return torch.randint(0, num_classes, (n,), generator=torch.Generator().manual_seed(seed))


def assert_same_value_and_grad(ours, oracle, *inputs):
    """ours(*inputs) == oracle(*inputs), and so are their vector-Jacobian products."""
    inputs = [x.detach().clone().requires_grad_(True) for x in inputs]
    ours_out, oracle_out = ours(*inputs), oracle(*inputs)
    assert_close(ours_out, oracle_out)
    cotangent = randn(*ours_out.shape, seed=99)
    ours_grad = torch.autograd.grad((ours_out * cotangent).sum(), inputs)
    oracle_grad = torch.autograd.grad((oracle_out * cotangent).sum(), inputs)
    for g_ours, g_oracle in zip(ours_grad, oracle_grad):
        assert_close(g_ours, g_oracle)


def grads(loss_fn, *inputs):
    """Inputs with requires_grad, and the gradient of loss_fn(*inputs).sum() for each."""
    inputs = [x.detach().clone().requires_grad_(True) for x in inputs]
    return torch.autograd.grad(loss_fn(*inputs).sum(), inputs)


def away_from_kink(violation):
    assert (violation.abs() > 1e-6).all(), "test data too close to a kink"


# ----------------------------------------------------------------------------- hinge (02)


@pytest.mark.parametrize("margin", MARGINS)
def test_hinge_matches_margin_ranking_loss(margin):
    s, y = 2 * randn(50), signs(50)
    away_from_kink(margin - y * s)
    assert_same_value_and_grad(
        lambda s: hinge_loss(s, y, margin=margin, reduction="none"),
        lambda s: F.margin_ranking_loss(s, torch.zeros_like(s), y, margin=margin, reduction="none"),
        s,
    )


def test_hinge_mean_matches_sklearn():
    s, y = 2 * randn(50, seed=1), signs(50, seed=1)
    expected = sklearn.metrics.hinge_loss(y.numpy(), s.numpy())
    assert_close(hinge_loss(s, y), torch.tensor(expected, dtype=F64))


def test_hinge_matches_hinge_embedding_loss():
    s, y = 2 * randn(50, seed=2), signs(50, seed=2)
    assert_same_value_and_grad(
        lambda s: hinge_loss(s, y, reduction="none"),
        lambda s: F.hinge_embedding_loss(y * s, -torch.ones_like(s), margin=1.0, reduction="none"),
        s,
    )


@pytest.mark.parametrize("margin", MARGINS)
def test_hinge_matches_two_class_multi_margin_loss(margin):
    s, y = 2 * randn(50, seed=3), signs(50, seed=3)
    away_from_kink(margin - y * s)
    assert_same_value_and_grad(
        lambda s: hinge_loss(s, y, margin=margin, reduction="none"),
        lambda s: 2 * F.multi_margin_loss(torch.stack([0 * s, s], 1), ((y + 1) // 2).long(),
                                          margin=margin, reduction="none"),
        s,
    )


@pytest.mark.parametrize("margin", MARGINS)
def test_hinge_subgradient_at_kink_is_minus_y(margin):
    y = torch.tensor([1.0, -1.0, 1.0, -1.0], dtype=F64)
    s = y * margin  # exactly y * s == margin
    (g,) = grads(lambda s: hinge_loss(s, y, margin=margin, reduction="none"), s)
    assert torch.equal(hinge_loss(s, y, margin=margin, reduction="none"), torch.zeros(4, dtype=F64))
    assert torch.equal(g, -y)


def test_hinge_accepts_int_targets_and_any_shape():
    s = 2 * randn(3, 4, seed=4)
    y = signs(12, seed=4).reshape(3, 4)
    out = hinge_loss(s, y.long(), reduction="none")
    assert out.shape == (3, 4)
    expected = F.margin_ranking_loss(s, torch.zeros_like(s), y, margin=1.0, reduction="none")
    assert_close(out, expected)


# ----------------------------------------------------------------------------- squared hinge (04)


@pytest.mark.parametrize("margin", MARGINS)
def test_squared_hinge_matches_two_class_multi_margin_loss(margin):
    s, y = 2 * randn(50, seed=5), signs(50, seed=5)
    assert_same_value_and_grad(
        lambda s: squared_hinge_loss(s, y, margin=margin, reduction="none"),
        lambda s: 2 * F.multi_margin_loss(torch.stack([0 * s, s], 1), ((y + 1) // 2).long(),
                                          p=2, margin=margin, reduction="none"),
        s,
    )


def test_squared_hinge_gradient_is_zero_at_kink_and_continuous():
    y = torch.tensor([1.0, -1.0], dtype=F64)
    (g,) = grads(lambda s: squared_hinge_loss(s, y, reduction="none"), y * 1.0)
    assert torch.equal(g, torch.zeros(2, dtype=F64))
    s = 2 * randn(50, seed=6)
    y = signs(50, seed=6)
    (g,) = grads(lambda s: squared_hinge_loss(s, y, reduction="none"), s)
    assert_close(g, -2 * y * torch.clamp(1 - y * s, min=0))  # analytic derivative


# ----------------------------------------------------------------------------- logistic (03)


def test_logistic_matches_soft_margin_loss():
    s, y = 3 * randn(50, seed=7), signs(50, seed=7)
    assert_same_value_and_grad(
        lambda s: logistic_loss(s, y, reduction="none"),
        lambda s: F.soft_margin_loss(s, y, reduction="none"),
        s,
    )


def test_logistic_is_stable_where_soft_margin_loss_overflows():
    s = torch.tensor([1000.0, -1000.0, 0.0], dtype=F64)
    y = torch.tensor([1.0, 1.0, -1.0], dtype=F64)
    assert torch.isinf(F.soft_margin_loss(s, y, reduction="none")[1])
    expected = torch.tensor([0.0, 1000.0, math.log(2)], dtype=F64)
    assert torch.equal(logistic_loss(s, y, reduction="none"), expected)
    (g,) = grads(lambda s: logistic_loss(s, y, reduction="none"), s)
    assert torch.equal(g, torch.tensor([0.0, -1.0, 0.5], dtype=F64))  # -y * sigmoid(-y s)


# ----------------------------------------------------------------------------- multiclass (05)


def chapter_multiclass_hinge_loss(scores, targets, margin=1.0):
    """Copied verbatim from the chapter (section "Multiclass Margin Loss in PyTorch")."""
    batch_size = scores.shape[0]

    correct_scores = scores[torch.arange(batch_size), targets].unsqueeze(1)
    margins = scores - correct_scores + margin

    margins[torch.arange(batch_size), targets] = 0.0

    return torch.clamp(margins, min=0.0).sum(dim=1).mean()


def crammer_singer_brute_force(scores, targets, margin):
    rows = []
    for i, c in enumerate(targets.tolist()):
        best_wrong = max(scores[i, j] for j in range(scores.shape[1]) if j != c)
        rows.append(torch.clamp(margin - scores[i, c] + best_wrong, min=0))
    return torch.stack(rows)


@pytest.mark.parametrize("num_classes", [2, 3, 10])
@pytest.mark.parametrize("margin", MARGINS)
def test_weston_watkins_matches_multi_margin_loss(num_classes, margin):
    s, c = 2 * randn(40, num_classes, seed=8), classes(40, num_classes, seed=8)
    wrong = F.one_hot(c, num_classes) == 0
    away_from_kink((s - s.gather(1, c[:, None]) + margin)[wrong])
    assert_same_value_and_grad(
        lambda s: multiclass_hinge_loss(s, c, margin=margin, reduction="none"),
        lambda s: num_classes * F.multi_margin_loss(s, c, margin=margin, reduction="none"),
        s,
    )


@pytest.mark.parametrize("margin", MARGINS)
def test_weston_watkins_matches_chapter_code(margin):
    s, c = 2 * randn(32, 10, seed=9), classes(32, 10, seed=9)
    assert_same_value_and_grad(
        lambda s: multiclass_hinge_loss(s, c, margin=margin),
        lambda s: chapter_multiclass_hinge_loss(s, c, margin=margin),
        s,
    )


def test_crammer_singer_mean_matches_sklearn():
    s, c = 2 * randn(40, 5, seed=10), classes(40, 5, seed=10)
    expected = sklearn.metrics.hinge_loss(c.numpy(), s.numpy(), labels=range(5))
    assert_close(multiclass_hinge_loss(s, c, variant="crammer_singer"), torch.tensor(expected, dtype=F64))


@pytest.mark.parametrize("margin", [0.5, 2.5])
def test_crammer_singer_other_margins_match_rescaled_sklearn(margin):
    s, c = 2 * randn(40, 5, seed=11), classes(40, 5, seed=11)
    expected = margin * sklearn.metrics.hinge_loss(c.numpy(), s.numpy() / margin, labels=range(5))
    ours = multiclass_hinge_loss(s, c, margin=margin, variant="crammer_singer")
    assert_close(ours, torch.tensor(expected, dtype=F64))


@pytest.mark.parametrize("num_classes", [2, 3, 7])
@pytest.mark.parametrize("margin", MARGINS)
def test_crammer_singer_matches_brute_force(num_classes, margin):
    s, c = 2 * randn(20, num_classes, seed=12), classes(20, num_classes, seed=12)
    assert_same_value_and_grad(
        lambda s: multiclass_hinge_loss(s, c, margin=margin, variant="crammer_singer", reduction="none"),
        lambda s: crammer_singer_brute_force(s, c, margin),
        s,
    )


@pytest.mark.parametrize("variant", ["weston_watkins", "crammer_singer"])
def test_two_classes_reduce_to_ranking_on_the_score_gap(variant):
    s, c = 2 * randn(30, 2, seed=13), classes(30, 2, seed=13)
    correct, other = s.gather(1, c[:, None])[:, 0], s.gather(1, 1 - c[:, None])[:, 0]
    expected = F.margin_ranking_loss(correct, other, torch.ones(30, dtype=F64), margin=1.0, reduction="none")
    assert_close(multiclass_hinge_loss(s, c, variant=variant, reduction="none"), expected)


def test_multiclass_ties_at_kink_use_active_subgradient():
    s = torch.tensor([[2.0, 1.0, 1.0], [1.0, 1.0, 0.0]], dtype=F64)
    c = torch.tensor([0, 0])
    # Row 0, margin 1: both wrong classes sit exactly on the margin. Row 1: s_1 == s_c.
    ww = grads(lambda s: multiclass_hinge_loss(s, c, margin=1.0, reduction="none"), s)[0]
    assert torch.equal(ww, torch.tensor([[-2.0, 1.0, 1.0], [-2.0, 1.0, 1.0]], dtype=F64))
    cs = grads(lambda s: multiclass_hinge_loss(s, c, variant="crammer_singer", reduction="none"), s)[0]
    assert torch.equal(cs, torch.tensor([[-1.0, 0.5, 0.5], [-1.0, 1.0, 0.0]], dtype=F64))
    ww0 = grads(lambda s: multiclass_hinge_loss(s, c, margin=0.0, reduction="none"), s)[0]
    assert torch.equal(ww0, torch.tensor([[0.0, 0.0, 0.0], [-1.0, 1.0, 0.0]], dtype=F64))


@pytest.mark.parametrize("variant", ["weston_watkins", "crammer_singer"])
def test_multiclass_does_not_modify_inputs(variant):
    s, c = randn(8, 4, seed=14), classes(8, 4, seed=14)
    s_before, c_before = s.clone(), c.clone()
    leaf = s.clone().requires_grad_(True)
    multiclass_hinge_loss(leaf, c, variant=variant).backward()
    multiclass_hinge_loss(s, c, variant=variant)
    assert torch.equal(s, s_before) and torch.equal(c, c_before) and torch.equal(leaf.detach(), s_before)


def test_multiclass_accepts_int32_targets():
    s, c = randn(8, 4, seed=15), classes(8, 4, seed=15)
    assert_close(multiclass_hinge_loss(s, c.int()), 4 * F.multi_margin_loss(s, c))


# ----------------------------------------------------------------------------- ranking (06)


@pytest.mark.parametrize("margin", MARGINS)
def test_ranking_matches_margin_ranking_loss(margin):
    pos, neg = randn(50, seed=16), randn(50, seed=17)
    away_from_kink(margin - pos + neg)
    assert_same_value_and_grad(
        lambda pos, neg: ranking_margin_loss(pos, neg, margin=margin, reduction="none"),
        lambda pos, neg: F.margin_ranking_loss(pos, neg, torch.ones_like(pos), margin=margin,
                                               reduction="none"),
        pos, neg,
    )


def test_ranking_subgradient_at_kink_is_active():
    pos, neg = torch.tensor([1.5, 0.0], dtype=F64), torch.tensor([0.5, -1.0], dtype=F64)
    g_pos, g_neg = grads(lambda a, b: ranking_margin_loss(a, b, reduction="none"), pos, neg)
    assert torch.equal(g_pos, -torch.ones(2, dtype=F64)) and torch.equal(g_neg, torch.ones(2, dtype=F64))


# ----------------------------------------------------------------------------- triplet (07)


def pml_triplet_losses(a, p, n, margin, reducer):
    """PML's TripletMarginLoss on exactly the N triplets (a_i, p_i, n_i), via indices_tuple."""
    N = a.shape[0]
    idx = torch.arange(N)
    loss_fn = pml_losses.TripletMarginLoss(
        margin=margin, distance=LpDistance(normalize_embeddings=False), reducer=reducer
    )
    return loss_fn(torch.cat([a, p, n]), indices_tuple=(idx, idx + N, idx + 2 * N))


@pytest.mark.parametrize("p", [1, 2, 3])
@pytest.mark.parametrize("margin", [0.1, 1.0, 2.5])
def test_triplet_matches_torch_without_eps(margin, p):
    a, pos, neg = randn(30, 5, seed=18), randn(30, 5, seed=19), randn(30, 5, seed=20)
    assert_same_value_and_grad(
        lambda a, pos, neg: triplet_margin_loss(a, pos, neg, margin=margin, p=p, reduction="none"),
        lambda a, pos, neg: F.triplet_margin_loss(a, pos, neg, margin=margin, p=p, eps=0, reduction="none"),
        a, pos, neg,
    )


@pytest.mark.parametrize("margin", [0.0, 0.2, 1.0])
def test_triplet_matches_pml(margin):
    a, pos, neg = randn(8, 4, seed=21), randn(8, 4, seed=22), randn(8, 4, seed=23)
    assert_same_value_and_grad(
        lambda a, pos, neg: triplet_margin_loss(a, pos, neg, margin=margin),
        lambda a, pos, neg: pml_triplet_losses(a, pos, neg, margin, MeanReducer()),
        a, pos, neg,
    )
    per_triplet = pml_triplet_losses(a, pos, neg, margin, DoNothingReducer())["loss"]["losses"]
    assert_close(triplet_margin_loss(a, pos, neg, margin=margin, reduction="none"), per_triplet)


def test_triplet_margin_zero_allowed_where_torch_raises():
    a, pos, neg = randn(10, 3, seed=24), randn(10, 3, seed=25), randn(10, 3, seed=26)
    with pytest.raises(ValueError):
        F.triplet_margin_loss(a, pos, neg, margin=0.0)
    expected = torch.relu(F.pairwise_distance(a, pos, eps=0) - F.pairwise_distance(a, neg, eps=0))
    assert_close(triplet_margin_loss(a, pos, neg, margin=0.0, reduction="none"), expected)


def test_triplet_exact_distance_and_zero_gradient_at_zero_distance():
    D = 16
    a = randn(1, D, seed=27)
    neg = a + 0.01 * randn(1, D, seed=28)  # inside the margin: loss is active
    assert_close(F.pairwise_distance(a, a), torch.full((1,), 1e-6 * math.sqrt(D), dtype=F64))  # torch's eps
    ours = triplet_margin_loss(a, a, neg, reduction="none")
    assert torch.equal(ours, 1.0 - torch.linalg.vector_norm(a - neg, dim=1))  # d(a, a) is exactly 0
    g_a, g_pos, g_neg = grads(lambda *x: triplet_margin_loss(*x, reduction="none"), a, a, neg)
    assert torch.equal(g_pos, torch.zeros(1, D, dtype=F64))
    assert torch.isfinite(g_a).all() and torch.isfinite(g_neg).all()
    (g_pos_torch,) = grads(lambda pos: F.triplet_margin_loss(a, pos, neg, reduction="none"), a)
    # torch's default eps: a spurious gradient of norm 1 pushes p away from a = p
    assert_close(torch.linalg.vector_norm(g_pos_torch), torch.tensor(1.0, dtype=F64))


def test_triplet_subgradient_at_kink_is_active():
    a = torch.zeros(1, 2, dtype=F64)
    pos, neg = torch.tensor([[3.0, 4.0]], dtype=F64), torch.tensor([[8.0, 6.0]], dtype=F64)  # d = 5 and 10
    loss = triplet_margin_loss(a, pos, neg, margin=5.0, reduction="none")
    assert torch.equal(loss, torch.zeros(1, dtype=F64))
    g_a, g_pos, g_neg = grads(lambda *x: triplet_margin_loss(*x, margin=5.0, reduction="none"), a, pos, neg)
    # gradient of d(a,p) - d(a,n): (p-a)/d_ap for p, -(n-a)/d_an for n, the rest for a
    assert_close(g_pos, torch.tensor([[0.6, 0.8]], dtype=F64), rtol=0, atol=1e-15)
    assert_close(g_neg, torch.tensor([[-0.8, -0.6]], dtype=F64), rtol=0, atol=1e-15)
    assert_close(g_a, torch.tensor([[0.2, -0.2]], dtype=F64), rtol=0, atol=1e-15)


# ----------------------------------------------------------------------------- contrastive (08)


def contrastive_by_hand(z1, z2, similar, margin):
    """Hand-written reference: python floats, one pair at a time."""
    out = []
    for u, v, y in zip(z1.tolist(), z2.tolist(), similar.tolist()):
        d = math.sqrt(sum((ui - vi) ** 2 for ui, vi in zip(u, v)))
        out.append(d**2 if y == 1 else max(0.0, margin - d) ** 2)
    return torch.tensor(out, dtype=F64)


def contrastive_from_torch_pieces(z1, z2, y, margin):
    d = F.pairwise_distance(z1, z2, eps=0)
    dissimilar = F.hinge_embedding_loss(d, -torch.ones_like(d), margin=margin, reduction="none") ** 2
    return y * d**2 + (1 - y) * dissimilar


def pair_data(seed, n=8, dim=4):
    z1, z2 = randn(n, dim, seed=seed), 0.5 * randn(n, dim, seed=seed + 1)
    similar = torch.tensor([1, 0] * (n // 2))
    return z1, z2, similar


@pytest.mark.parametrize("margin", MARGINS)
def test_contrastive_matches_hand_written_reference(margin):
    z1, z2, similar = pair_data(seed=30)
    assert_close(contrastive_margin_loss(z1, z2, similar, margin=margin, reduction="none"),
                 contrastive_by_hand(z1, z2, similar, margin))


@pytest.mark.parametrize("margin", MARGINS)
def test_contrastive_matches_torch_pieces(margin):
    z1, z2, similar = pair_data(seed=32)
    y = similar.to(F64)
    assert_same_value_and_grad(
        lambda z1, z2: contrastive_margin_loss(z1, z2, similar, margin=margin, reduction="none"),
        lambda z1, z2: contrastive_from_torch_pieces(z1, z2, y, margin),
        z1, z2,
    )


def pml_contrastive_squared(z1, z2, similar, margin):
    """PML ContrastiveLoss on exactly the N pairs (z1_i, z2_i), squared, back in pair order.

    PML's per-pair losses are unsquared (d for similar pairs, relu(m - d) for dissimilar);
    explicit (a1, p, a2, n) indices make it count each pair once.
    """
    N = z1.shape[0]
    idx = torch.arange(N)
    pos, neg = idx[similar == 1], idx[similar == 0]
    loss_fn = pml_losses.ContrastiveLoss(
        pos_margin=0, neg_margin=margin,
        distance=LpDistance(normalize_embeddings=False), reducer=DoNothingReducer(),
    )
    out = loss_fn(torch.cat([z1, z2]), indices_tuple=(pos, pos + N, neg, neg + N))
    per_pair = torch.zeros(N, dtype=z1.dtype)
    per_pair = per_pair.index_put((pos,), out["pos_loss"]["losses"] ** 2)
    return per_pair.index_put((neg,), out["neg_loss"]["losses"] ** 2)


@pytest.mark.parametrize("margin", MARGINS)
def test_contrastive_matches_pml_squared(margin):
    z1, z2, similar = pair_data(seed=34)
    assert_same_value_and_grad(
        lambda z1, z2: contrastive_margin_loss(z1, z2, similar, margin=margin, reduction="none"),
        lambda z1, z2: pml_contrastive_squared(z1, z2, similar, margin),
        z1, z2,
    )


def test_pml_contrastive_returns_zero_for_a_single_pair_of_each_kind():
    """PML quirk: with <= 1 index per tuple entry it returns zero losses, so oracles need N >= 2 per kind."""
    z1, z2 = randn(2, 3, seed=36), randn(2, 3, seed=37)
    loss_fn = pml_losses.ContrastiveLoss(
        distance=LpDistance(normalize_embeddings=False), reducer=MeanReducer()
    )
    zero = loss_fn(torch.cat([z1, z2]), indices_tuple=(torch.tensor([0]), torch.tensor([2]),
                                                        torch.tensor([1]), torch.tensor([3])))
    assert zero == 0
    assert contrastive_margin_loss(z1, z2, torch.tensor([1, 0]), reduction="sum") > 0


def test_contrastive_zero_distance_has_zero_gradient():
    z = randn(2, 5, seed=38)
    similar = torch.tensor([1, 0])
    loss = contrastive_margin_loss(z, z, similar, margin=2.0, reduction="none")
    assert torch.equal(loss, torch.tensor([0.0, 4.0], dtype=F64))
    g1, g2 = grads(lambda a, b: contrastive_margin_loss(a, b, similar, margin=2.0, reduction="none"), z, z)
    assert torch.equal(g1, torch.zeros(2, 5, dtype=F64)) and torch.equal(g2, torch.zeros(2, 5, dtype=F64))


def test_contrastive_gradient_is_zero_at_margin():
    z1, z2 = torch.zeros(1, 2, dtype=F64), torch.tensor([[3.0, 4.0]], dtype=F64)
    g1, g2 = grads(lambda a, b: contrastive_margin_loss(a, b, torch.tensor([0]), margin=5.0), z1, z2)
    assert torch.equal(g1, torch.zeros(1, 2, dtype=F64)) and torch.equal(g2, torch.zeros(1, 2, dtype=F64))


def test_contrastive_similar_label_dtypes_agree():
    z1, z2, similar = pair_data(seed=40)
    expected = contrastive_by_hand(z1, z2, similar, 1.0)
    for labels in (similar, similar.bool(), similar.float(), similar.int()):
        assert_close(contrastive_margin_loss(z1, z2, labels, reduction="none"), expected)


# ----------------------------------------------------------------------------- all losses


def loss_cases(dtype=F64, n=12):
    """name -> (loss, float inputs, label inputs, oracle), away from kinks; loss(*floats, *labels)."""
    s, y = (2 * randn(n, seed=50)).to(dtype), signs(n, seed=50)
    scores, c = (2 * randn(n, 4, seed=51)).to(dtype), classes(n, 4, seed=51)
    a, pos, neg = (randn(n, 3, seed=seed).to(dtype) for seed in (52, 53, 54))
    similar = torch.tensor([1, 0] * (n // 2))

    def two_class_multi_margin(s, y, p):
        two_columns, label = torch.stack([0 * s, s], 1), ((y + 1) // 2).long()
        return 2 * F.multi_margin_loss(two_columns, label, p=p, reduction="none")

    return {
        "hinge": (hinge_loss, (s,), (y,), lambda s, y: two_class_multi_margin(s, y, p=1)),
        "squared_hinge": (squared_hinge_loss, (s,), (y,), lambda s, y: two_class_multi_margin(s, y, p=2)),
        "logistic": (logistic_loss, (s,), (y,), functools.partial(F.soft_margin_loss, reduction="none")),
        "weston_watkins": (multiclass_hinge_loss, (scores,), (c,),
                           lambda s, c: 4 * F.multi_margin_loss(s, c, reduction="none")),
        "crammer_singer": (functools.partial(multiclass_hinge_loss, variant="crammer_singer"),
                           (scores,), (c,), lambda s, c: crammer_singer_brute_force(s, c, 1.0)),
        "ranking": (ranking_margin_loss, (a[:, 0], neg[:, 0]), (),
                    lambda p_, n_: F.margin_ranking_loss(p_, n_, torch.ones_like(p_), reduction="none",
                                                         margin=1.0)),
        "triplet": (triplet_margin_loss, (a, pos, neg), (),
                    functools.partial(F.triplet_margin_loss, eps=0, reduction="none")),
        "contrastive": (contrastive_margin_loss, (a, pos), (similar,),
                        lambda u, v, sim: contrastive_from_torch_pieces(u, v, sim.to(u.dtype), 1.0)),
    }


LOSSES = list(loss_cases())


@pytest.mark.parametrize("name", LOSSES)
def test_reductions_agree(name):
    fn, floats, labels, _ = loss_cases()[name]
    per_example = fn(*floats, *labels, reduction="none")
    assert per_example.shape == floats[0].shape[:1]
    assert_close(fn(*floats, *labels, reduction="mean"), per_example.mean())
    assert_close(fn(*floats, *labels, reduction="sum"), per_example.sum())
    assert_close(fn(*floats, *labels), per_example.mean())  # default is "mean"


@pytest.mark.parametrize("name", LOSSES)
def test_float32_matches_float64(name):
    fn, floats32, labels, _ = loss_cases(torch.float32)[name]
    _, floats64, _, oracle = loss_cases(F64)[name]
    out32 = fn(*floats32, *labels, reduction="none")
    assert out32.dtype == torch.float32 and out32.device == floats32[0].device
    assert_close(out32, oracle(*floats64, *labels).float(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", LOSSES)
def test_gradcheck(name):
    fn, floats, labels, _ = loss_cases()[name]
    floats = tuple(x.detach().clone().requires_grad_(True) for x in floats)
    assert torch.autograd.gradcheck(lambda *x: fn(*x, *labels, reduction="none"), floats)


@pytest.mark.parametrize("name", LOSSES)
def test_single_example(name):
    fn, floats, labels, oracle = loss_cases()[name]
    one = [x[:1] for x in floats + labels]
    out = fn(*one, reduction="none")
    assert out.shape == (1,)
    assert_close(out, oracle(*one))


@pytest.mark.slow
def test_package_exports_and_fast_import():
    assert {
        "hinge_loss", "squared_hinge_loss", "logistic_loss", "multiclass_hinge_loss",
        "ranking_margin_loss", "triplet_margin_loss", "contrastive_margin_loss",
    } <= set(utils.__all__)
    assert all(hasattr(utils, name) for name in utils.__all__)
    heavy = ["sklearn", "matplotlib", "pytorch_metric_learning"]
    code = f"import sys, utils; print([m for m in {heavy} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_docstring_examples_run():
    import doctest

    import utils.losses

    result = doctest.testmod(utils.losses, extraglobs={"torch": torch},
                             optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 7 and result.failed == 0


def test_contrastive_gradcheck_float64_including_zero_distance_similar_pairs():
    """d^2 from vector_norm has the smooth sum-of-squares gradient 2 (z1 - z2), also at d = 0."""
    g = torch.Generator().manual_seed(31)
    z1 = torch.randn(6, 3, generator=g, dtype=torch.float64)
    z2 = torch.randn(6, 3, generator=g, dtype=torch.float64)
    similar = torch.tensor([1, 0, 1, 0, 1, 0])
    z1.requires_grad_(True)
    z2.requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda a, b: contrastive_margin_loss(a, b, similar, margin=5.0, reduction="none"), (z1, z2)
    )
    # at and near d = 0 for a similar pair: the gradient equals the sum-of-squares oracle 2 (z1 - z2)
    base = torch.randn(1, 3, generator=g, dtype=torch.float64)
    for offset in (0.0, 1e-12, 1e-6):
        a = base.clone().requires_grad_(True)
        b = base + offset
        (grad,) = torch.autograd.grad(contrastive_margin_loss(a, b, torch.tensor([1]), reduction="sum"), a)
        assert_close(grad, 2 * (a - b).detach())


def test_multiclass_weston_watkins_drops_the_correct_class_exactly():
    """The j == c term is removed exactly (not added as margin and subtracted): tiny losses survive."""
    # exact loss: max(0, 1e-30 - 1 + 1) + max(0, -5 - 1 + 1) = 1e-30; "sum all, minus margin" gives 0
    scores = torch.tensor([[1.0, 1e-30, -5.0]], dtype=torch.float32)
    loss = multiclass_hinge_loss(scores, torch.tensor([0]), reduction="none")
    assert loss.item() == scores[0, 1].item() > 0
