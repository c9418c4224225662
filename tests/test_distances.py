"""utils.distances against brute-force loops, scipy/scikit-learn/torch references, and the pitfalls
of REFERENCES.md ("Oracles"): exact zero diagonal, finite gradients at zero distance, no (N, M, D) intermediate."""

import math

import pytest
import scipy.spatial.distance
import sklearn.metrics
import torch
import torch.nn.functional as F
from torch.testing import assert_close
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from utils.distances import METRICS, paired_distances, pairwise_distances

F64 = torch.float64


def randn(*shape, seed=0, dtype=F64):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def brute_force(x, y, metric):
    """Python loops over pairs, one vector at a time (differentiable, vector_norm's 0-subgradient)."""
    rows = []
    for i in range(x.shape[0]):
        row = []
        for j in range(y.shape[0]):
            if metric == "euclidean":
                row.append(torch.linalg.vector_norm(x[i] - y[j]))
            elif metric == "squared_euclidean":
                row.append(((x[i] - y[j]) ** 2).sum())
            else:
                nx, ny = torch.linalg.vector_norm(x[i]), torch.linalg.vector_norm(y[j])
                row.append(1 - (x[i] @ y[j]) / (nx * ny))
        rows.append(torch.stack(row))
    return torch.stack(rows)


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("shape", [(7, 5, 3), (1, 4, 2), (12, 1, 6)])
def test_values_match_brute_force_loops(metric, shape):
    n, m, d = shape
    x, y = randn(n, d, seed=1), randn(m, d, seed=2)
    assert_close(pairwise_distances(x, y, metric=metric), brute_force(x, y, metric))
    assert_close(pairwise_distances(x, metric=metric), brute_force(x, x, metric))


@pytest.mark.parametrize(
    "metric, scipy_name", [("euclidean", "euclidean"), ("squared_euclidean", "sqeuclidean"), ("cosine", "cosine")]
)
def test_values_match_scipy_and_sklearn(metric, scipy_name):
    x, y = randn(20, 8, seed=3), randn(15, 8, seed=4)
    expected = torch.from_numpy(scipy.spatial.distance.cdist(x.numpy(), y.numpy(), metric=scipy_name))
    assert_close(pairwise_distances(x, y, metric=metric), expected)
    if metric != "squared_euclidean":
        sk = torch.from_numpy(sklearn.metrics.pairwise_distances(x.numpy(), y.numpy(), metric=metric))
        assert_close(pairwise_distances(x, y, metric=metric), sk)


def test_float32_is_exact_where_the_gram_trick_cancels():
    # Points far from the origin and close to each other: |x|^2 + |y|^2 - 2 x.y loses every digit.
    x64 = 1000.0 + 1e-2 * randn(50, 16, seed=5)
    x32 = x64.float()
    reference = brute_force(x32.double(), x32.double(), "euclidean")  # exact distances of the float32 points
    ours = pairwise_distances(x32)
    assert ours.dtype == torch.float32
    assert torch.all(ours.diagonal() == 0)
    assert_close(ours.double(), reference, rtol=1e-5, atol=1e-6)
    sq = (x32**2).sum(1)
    gram = (sq[:, None] + sq[None, :] - 2 * x32 @ x32.T).clamp_min(0).sqrt()
    assert (gram.double() - reference).abs().max() > 100 * (ours.double() - reference).abs().max() + 1e-3
    assert torch.all(pairwise_distances(x32, metric="squared_euclidean") >= 0)


@pytest.mark.parametrize("metric", METRICS)
def test_gradcheck_float64(metric):
    x = randn(6, 4, seed=6).requires_grad_(True)
    y = randn(5, 4, seed=7).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda a, b: pairwise_distances(a, b, metric=metric), (x, y))
    off_diagonal = 1 - torch.eye(6, dtype=F64)
    assert torch.autograd.gradcheck(lambda a: pairwise_distances(a, metric=metric) * off_diagonal, (x,))


@pytest.mark.parametrize("metric", METRICS)
def test_gradients_on_the_zero_diagonal_are_finite_and_match_loops(metric):
    x = randn(6, 3, seed=8).requires_grad_(True)
    weights = randn(6, 6, seed=9)  # a generic upstream gradient, diagonal included
    (ours,) = torch.autograd.grad((pairwise_distances(x, metric=metric) * weights).sum(), x)
    (loops,) = torch.autograd.grad((brute_force(x, x, metric) * weights).sum(), x)
    assert torch.isfinite(ours).all()
    assert_close(ours, loops)


def test_duplicate_rows_across_sets_get_the_zero_subgradient():
    x = randn(4, 3, seed=10)
    y = torch.cat([x[:2], randn(3, 3, seed=11)])  # y[0] == x[0], y[1] == x[1]
    x.requires_grad_(True)
    y.requires_grad_(True)
    weights = randn(4, 5, seed=12)
    ours = torch.autograd.grad((pairwise_distances(x, y) * weights).sum(), (x, y))
    loops = torch.autograd.grad((brute_force(x, y, "euclidean") * weights).sum(), (x, y))
    for a, b in zip(ours, loops):
        assert torch.isfinite(a).all()
        assert_close(a, b)


def test_the_naive_formula_would_fail_the_gradient_test():
    # The test above can fail: sqrt(sum of squares) has NaN gradients on the diagonal.
    x = randn(4, 3, seed=13).requires_grad_(True)
    naive = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1).sqrt()
    (grad,) = torch.autograd.grad(naive.sum(), x)
    assert torch.isnan(grad).any()


def test_cosine_zero_row_has_distance_one_and_finite_gradient():
    x = torch.cat([torch.zeros(1, 3, dtype=F64), randn(3, 3, seed=14)]).requires_grad_(True)
    d = pairwise_distances(x, metric="cosine")
    assert_close(d[0], torch.ones(4, dtype=F64))
    (grad,) = torch.autograd.grad(d.sum(), x)
    assert torch.isfinite(grad).all() and grad.abs().max() < 1e3
    assert torch.all((d >= 0) & (d <= 2))


class _LargestTensor(TorchDispatchMode):
    """Records the largest tensor any aten op returns (forward and backward)."""

    def __init__(self):
        super().__init__()
        self.largest = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor):
                self.largest = max(self.largest, t.numel())
        return out


@pytest.mark.parametrize("metric", METRICS)
def test_no_n_by_m_by_d_intermediate_forward_or_backward(metric):
    n, m, d = 30, 40, 20
    x = randn(n, d, seed=15, dtype=torch.float32).requires_grad_(True)
    y = randn(m, d, seed=16, dtype=torch.float32).requires_grad_(True)
    with _LargestTensor() as rec:
        pairwise_distances(x, y, metric=metric).sum().backward()
    assert rec.largest <= max(n * m, n * d, m * d)


def test_the_intermediate_check_can_fail():
    x = randn(30, 20, seed=17, dtype=torch.float32).requires_grad_(True)
    with _LargestTensor() as rec:
        torch.linalg.vector_norm(x[:, None] - x[None], dim=-1).sum().backward()
    assert rec.largest == 30 * 30 * 20


@pytest.mark.parametrize("metric", METRICS)
def test_paired_distances_match_loops_and_pairwise_diagonal(metric):
    x, y = randn(9, 4, seed=18), randn(9, 4, seed=19)
    expected = torch.stack([brute_force(x[i : i + 1], y[i : i + 1], metric)[0, 0] for i in range(9)])
    assert_close(paired_distances(x, y, metric=metric), expected)
    assert_close(paired_distances(x, y, metric=metric), pairwise_distances(x, y, metric=metric).diagonal())


def test_paired_euclidean_matches_torch_with_eps_zero_and_not_with_default_eps():
    x, y = randn(9, 4, seed=20), randn(9, 4, seed=21)
    assert_close(paired_distances(x, y), F.pairwise_distance(x, y, eps=0))
    same = paired_distances(x, x)
    assert torch.all(same == 0)
    assert_close(F.pairwise_distance(x, x), torch.full((9,), 1e-6 * math.sqrt(4), dtype=F64))


def test_dtype_and_empty_inputs():
    assert pairwise_distances(torch.zeros(0, 3)).shape == (0, 0)
    assert pairwise_distances(torch.zeros(2, 3), torch.zeros(0, 3)).shape == (2, 0)
    assert pairwise_distances(randn(3, 2, dtype=torch.float32)).dtype == torch.float32


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: pairwise_distances(torch.zeros(3, 2), metric="manhattan"), ValueError, "metric"),
        (lambda: pairwise_distances(torch.zeros(3, 2), torch.zeros(3, 4)), ValueError, "same embedding dimension"),
        (lambda: pairwise_distances(torch.zeros(3, dtype=torch.int64)), TypeError, "floating-point"),
        (lambda: pairwise_distances(torch.zeros(3)), ValueError, "2-D"),
        (lambda: pairwise_distances(torch.zeros(3, 2), torch.zeros(3, 2, dtype=F64)), ValueError, "dtype"),
        (lambda: pairwise_distances([[0.0, 1.0]]), TypeError, "torch.Tensor"),
        (lambda: paired_distances(torch.zeros(3, 2), torch.zeros(4, 2)), ValueError, "number of rows"),
    ],
)
def test_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ---------------------------------------------------------------- exact=False (the miners' fast path)


@pytest.mark.parametrize("metric", ["euclidean", "squared_euclidean"])
@pytest.mark.parametrize("same", [True, False])
def test_fast_path_matches_brute_force_float64(metric, same):
    x, y = randn(13, 6, seed=40), randn(9, 6, seed=41)
    other = x if same else y
    fast = pairwise_distances(x, None if same else y, metric=metric, exact=False)
    assert_close(fast, brute_force(x, other, metric), rtol=1e-12, atol=1e-12)
    if same:
        assert torch.all(fast.diagonal() == 0)


def test_fast_path_is_exact_on_an_integer_grid():
    """Integer coordinates: every squared distance is an integer, computed exactly, so ties stay ties."""
    x = torch.randint(-3, 4, (40, 5), generator=torch.Generator().manual_seed(42)).to(F64)
    squares = torch.tensor([[sum((a - b) ** 2 for a, b in zip(u, v)) for v in x.tolist()] for u in x.tolist()], dtype=F64)
    assert torch.equal(pairwise_distances(x, metric="squared_euclidean", exact=False), squares)
    assert torch.equal(pairwise_distances(x, exact=False), squares.sqrt())
    assert torch.equal(pairwise_distances(x.float(), exact=False), squares.float().sqrt())  # sqrt in float32


def test_fast_path_float32_is_within_one_ulp_and_beats_the_plain_gram_trick():
    # far from the origin and close together (the Gram trick's worst case), and a Gaussian batch
    for x64 in (1000.0 + 1e-2 * randn(50, 16, seed=43), randn(300, 128, seed=44)):
        x32 = x64.float()
        truth = brute_force(x32.double(), x32.double(), "euclidean") if x32.shape[0] <= 50 else torch.cdist(
            x32.double()[None], x32.double()[None], compute_mode="donot_use_mm_for_euclid_dist")[0]
        fast = pairwise_distances(x32, exact=False)
        assert fast.dtype == torch.float32 and torch.all(fast.diagonal() == 0)
        assert torch.all((fast.double() - truth).abs() <= 2**-23 * truth + 1e-30)
    sq = (x32**2).sum(1)
    gram = (sq[:, None] + sq[None, :] - 2 * x32 @ x32.T).clamp_min(0).sqrt()
    assert (gram.double() - truth).abs().max() > 100 * (fast.double() - truth).abs().max()


@pytest.mark.parametrize("metric", ["euclidean", "squared_euclidean"])
def test_fast_path_gradients_match_the_exact_path(metric):
    x = randn(7, 4, seed=45).requires_grad_(True)
    y = torch.cat([x.detach()[:2], randn(3, 4, seed=46)]).requires_grad_(True)  # duplicates: d = 0
    weights = randn(7, 5, seed=47)
    fast = torch.autograd.grad((pairwise_distances(x, y, metric=metric, exact=False) * weights).sum(), (x, y))
    exact = torch.autograd.grad((pairwise_distances(x, y, metric=metric) * weights).sum(), (x, y))
    for a, b in zip(fast, exact):
        assert torch.isfinite(a).all()
        assert_close(a, b)
    x, y = randn(6, 4, seed=50).requires_grad_(True), randn(5, 4, seed=51).requires_grad_(True)  # no kink
    assert torch.autograd.gradcheck(lambda a, b: pairwise_distances(a, b, metric=metric, exact=False), (x, y))


@pytest.mark.parametrize("metric", METRICS)
def test_fast_path_has_no_n_by_m_by_d_intermediate(metric):
    n, m, d = 30, 40, 20
    x = randn(n, d, seed=48, dtype=torch.float32).requires_grad_(True)
    y = randn(m, d, seed=49, dtype=torch.float32).requires_grad_(True)
    with _LargestTensor() as rec:
        pairwise_distances(x, y, metric=metric, exact=False).sum().backward()
    assert rec.largest <= max(n * m, n * (d + 2), m * (d + 2))


def test_fast_path_empty_inputs():
    assert pairwise_distances(torch.zeros(0, 3), exact=False).shape == (0, 0)
    assert pairwise_distances(torch.zeros(2, 3), torch.zeros(0, 3), exact=False).shape == (2, 0)
    assert pairwise_distances(torch.zeros(0, 3), torch.zeros(2, 3), exact=False).shape == (0, 2)
