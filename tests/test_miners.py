"""utils.miners against brute-force Python loops (exact index sets, ties included) and against
pytorch-metric-learning's miners configured as in REFERENCES.md ("Oracles") "Miners".

Tie rule under test: among candidates at the same distance the lowest index wins. Ties are
produced with embeddings on a small integer grid, where every distance is the square root of an
integer, computed exactly (and identically) by the loops and by utils.distances.
"""

import math

import pytest
import torch
from pytorch_metric_learning.distances import LpDistance
from pytorch_metric_learning.miners import BatchHardMiner, TripletMarginMiner
from pytorch_metric_learning.utils import loss_and_miner_utils as lmu
from torch.testing import assert_close

import utils.miners
from utils.distances import pairwise_distances
from utils.miners import ALL_TRIPLETS_LIMIT, active_fraction, mine_triplets

F64 = torch.float64


def gen(seed):
    return torch.Generator().manual_seed(seed)


def random_batch(n, d=4, num_classes=4, seed=0, grid=False):
    """Random embeddings (Gaussian, or integers in [0, 3) with many exact ties) and labels."""
    g = gen(seed)
    if grid:
        x = torch.randint(0, 3, (n, d), generator=g).to(F64)
    else:
        x = torch.randn(n, d, generator=g, dtype=F64)
    labels = torch.randint(0, num_classes, (n,), generator=g)
    labels[:2] = torch.tensor([0, 1])  # at least 2 classes
    labels[2] = 0  # and one valid positive
    return x, labels


CASES = [
    dict(n=12, num_classes=3, seed=0),
    dict(n=17, num_classes=5, seed=1),
    dict(n=20, num_classes=2, seed=2),
    dict(n=16, num_classes=8, seed=3),  # singletons likely: anchors without positive
    dict(n=15, num_classes=3, seed=4, grid=True),  # exact ties and duplicate points
    dict(n=24, num_classes=4, seed=5, grid=True),
    dict(n=10, num_classes=2, seed=6, grid=True),
]


# ---------------------------------------------------------------- brute-force loops (plain Python)


def dist_table(x):
    rows = x.tolist()
    return [[math.dist(u, v) for v in rows] for u in rows]


def loop_batch_hard(x, labels):
    d, y, n = dist_table(x), labels.tolist(), len(labels)
    out = []
    for a in range(n):
        best_p, best_n = None, None
        for j in range(n):  # ascending j, strict comparisons: the lowest index wins ties
            if j != a and y[j] == y[a] and (best_p is None or d[a][j] > d[a][best_p]):
                best_p = j
            if y[j] != y[a] and (best_n is None or d[a][j] < d[a][best_n]):
                best_n = j
        if best_p is not None:
            out.append((a, best_p, best_n))
    return out


def loop_semi_hard(x, labels, margin):
    d, y, n = dist_table(x), labels.tolist(), len(labels)
    out = []
    for a in range(n):
        for p in range(n):
            if p == a or y[p] != y[a]:
                continue
            best = None
            for j in range(n):
                if y[j] != y[a] and d[a][p] < d[a][j] < d[a][p] + margin:
                    if best is None or d[a][j] < d[a][best]:
                        best = j
            if best is not None:
                out.append((a, p, best))
    return out


def loop_all(labels):
    y, n = labels.tolist(), len(labels)
    return [
        (a, p, k)
        for a in range(n)
        for p in range(n)
        if p != a and y[p] == y[a]
        for k in range(n)
        if y[k] != y[a]
    ]


def loop_random(labels, seed):
    """The documented sampling rule: rank floor(u * #negatives) in ascending index order."""
    y, n = labels.tolist(), len(labels)
    pairs = [(a, p) for a in range(n) for p in range(n) if p != a and y[p] == y[a]]
    u = torch.rand(len(pairs), dtype=F64, generator=gen(seed)).tolist()
    out = []
    for (a, p), ui in zip(pairs, u):
        negatives = [k for k in range(n) if y[k] != y[a]]
        out.append((a, p, negatives[min(int(ui * len(negatives)), len(negatives) - 1)]))
    return out


@pytest.fixture(params=["slots", "sorting"])
def semi_hard_path(request, monkeypatch):
    """Run a semi-hard test through each of the two implementations (same results required)."""
    limit = 10**9 if request.param == "slots" else -1
    monkeypatch.setattr(utils.miners, "SEMI_HARD_SLOT_LIMIT", limit)
    return request.param


def triplets(result):
    a, p, n = result
    for t in result:
        assert t.dtype == torch.int64 and t.dim() == 1
    return list(zip(a.tolist(), p.tolist(), n.tolist()))


# ---------------------------------------------------------------- against the loops


@pytest.mark.parametrize("case", CASES)
def test_batch_hard_equals_loop(case):
    x, labels = random_batch(**case)
    assert triplets(mine_triplets(x, labels, strategy="batch_hard")) == loop_batch_hard(x, labels)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("margin", [0.3, 1.0, 2.7])
def test_semi_hard_equals_loop(case, margin, semi_hard_path):
    x, labels = random_batch(**case)
    assert triplets(mine_triplets(x, labels, strategy="semi_hard", margin=margin)) == loop_semi_hard(
        x, labels, margin
    )


@pytest.mark.parametrize("case", CASES)
def test_all_equals_loop(case):
    x, labels = random_batch(**case)
    assert triplets(mine_triplets(x, labels, strategy="all")) == loop_all(labels)


@pytest.mark.parametrize("case", CASES)
def test_random_equals_loop_with_the_same_stream(case):
    x, labels = random_batch(**case)
    got = triplets(mine_triplets(x, labels, strategy="random", generator=gen(7)))
    assert got == loop_random(labels, 7)


def test_ties_really_occur_in_the_grid_cases():
    """The tie rule is exercised: some anchor has several negatives at its minimum distance."""
    x, labels = random_batch(n=24, num_classes=4, seed=5, grid=True)
    d = pairwise_distances(x)
    neg = labels.unsqueeze(0) != labels.unsqueeze(1)
    closest = d.masked_fill(~neg, float("inf")).min(dim=1, keepdim=True).values
    assert ((d == closest) & neg).sum(dim=1).max() >= 2


def test_random_is_uniform_over_negatives():
    x, labels = random_batch(n=12, num_classes=3, seed=0)
    g = gen(0)
    negatives = (labels != labels[0]).nonzero().squeeze(1).tolist()
    counts = dict.fromkeys(negatives, 0)
    draws = 3000
    for _ in range(draws):
        a, p, n = mine_triplets(x, labels, strategy="random", generator=g)
        counts[int(n[0])] += 1  # first pair's anchor is 0
    expected = draws / len(negatives)
    chi2 = sum((c - expected) ** 2 / expected for c in counts.values())
    # 99.9% quantile of chi-square with up to 11 degrees of freedom is below 32
    assert chi2 < 32, counts


def test_random_same_generator_same_triplets_and_valid():
    x, labels = random_batch(n=30, num_classes=5, seed=9)
    first = mine_triplets(x, labels, strategy="random", generator=gen(3))
    second = mine_triplets(x, labels, strategy="random", generator=gen(3))
    for u, v in zip(first, second):
        assert torch.equal(u, v)
    a, p, n = first
    assert (labels[a] == labels[p]).all() and (a != p).all() and (labels[a] != labels[n]).all()


def test_cosine_metric_batch_hard():
    x, labels = random_batch(n=20, num_classes=4, seed=11)
    a, p, n = mine_triplets(x, labels, strategy="batch_hard", metric="cosine")
    d = pairwise_distances(x, metric="cosine")
    same = labels.unsqueeze(0) == labels.unsqueeze(1)
    for ai, pi, ni in zip(a.tolist(), p.tolist(), n.tolist()):
        row_pos = [d[ai, j] for j in range(20) if j != ai and same[ai, j]]
        row_neg = [d[ai, j] for j in range(20) if not same[ai, j]]
        assert d[ai, pi] == max(row_pos) and d[ai, ni] == min(row_neg)


def test_semi_hard_can_be_empty_and_margin_zero_gives_nothing(semi_hard_path):
    x, labels = random_batch(n=12, num_classes=3, seed=0)
    a, p, n = mine_triplets(x, labels, strategy="semi_hard", margin=0.0)
    assert a.numel() == p.numel() == n.numel() == 0 and a.dtype == torch.int64


def test_mining_does_not_touch_autograd():
    x, labels = random_batch(n=12, num_classes=3, seed=0)
    x = x.requires_grad_(True)
    for strategy in ("random", "batch_hard", "all"):
        for t in mine_triplets(x, labels, strategy=strategy, generator=gen(0)):
            assert not t.requires_grad
    assert x.grad is None


def test_large_batch_semi_hard_and_batch_hard_run_without_cubic_memory(semi_hard_path):
    """N = 1500: an (N, N, N) bool tensor would need 3.4 GB; the (N, N) method needs a few MB."""
    g = gen(0)
    x = torch.randn(1500, 4, generator=g)
    labels = torch.arange(1500) % 100
    a, p, n = mine_triplets(x, labels, strategy="semi_hard", margin=0.2)
    assert (labels[a] == labels[p]).all() and (labels[a] != labels[n]).all()
    assert mine_triplets(x, labels, strategy="batch_hard")[0].numel() == 1500


# ---------------------------------------------------------------- against pytorch-metric-learning


def pml_distance():
    return LpDistance(normalize_embeddings=False, p=2, power=1)


PML_CASES = [
    dict(n=32, num_classes=4, seed=20),
    dict(n=64, num_classes=8, seed=21),
    dict(n=48, num_classes=30, seed=22),  # many singletons: anchors without a positive
    dict(n=100, num_classes=10, seed=23, d=16),
]


@pytest.mark.parametrize("case", PML_CASES)
def test_batch_hard_matches_pml_batch_hard_miner(case):
    x, labels = random_batch(**case)
    a, p, n = mine_triplets(x, labels, strategy="batch_hard")
    pa, pp, pn = BatchHardMiner(distance=pml_distance())(x, labels)
    assert torch.equal(a, pa)  # the same anchors (those with a positive)
    d = pairwise_distances(x)
    # indices may differ on ties; the selected distances may not
    assert_close(d[a, p], d[pa, pp])
    assert_close(d[a, n], d[pa, pn])


@pytest.mark.parametrize("case", PML_CASES)
@pytest.mark.parametrize("margin", [0.2, 1.0])
def test_semi_hard_matches_pml_triplet_margin_miner(case, margin, semi_hard_path):
    """PML returns ALL semi-hard triplets; ours keeps the closest negative per (a, p) pair.

    So: the (a, p) pairs with at least one candidate are the same, every triplet of ours is in
    PML's candidate set, and ours is the candidate with the smallest d(a, n).
    """
    x, labels = random_batch(**case)
    ours = triplets(mine_triplets(x, labels, strategy="semi_hard", margin=margin))
    miner = TripletMarginMiner(margin=margin, type_of_triplets="semihard", distance=pml_distance())
    pml = triplets(miner(x, labels))
    assert len(pml) > len(ours) > 0
    d = pairwise_distances(x)
    closest = {}
    for a, p, n in pml:
        closest[(a, p)] = min(closest.get((a, p), math.inf), float(d[a, n]))
    assert [(a, p) for a, p, _ in ours] == sorted(closest)
    assert set(ours) <= set(pml)
    for a, p, n in ours:
        assert float(d[a, n]) == closest[(a, p)]


@pytest.mark.parametrize("case", PML_CASES + CASES)
def test_all_matches_pml_get_all_triplets_indices(case):
    x, labels = random_batch(**case)
    ours = mine_triplets(x, labels, strategy="all")
    pml = lmu.get_all_triplets_indices(labels)
    for u, v in zip(ours, pml):
        assert torch.equal(u, v)  # same triplets, same (lexicographic) order


# ---------------------------------------------------------------- active_fraction


@pytest.mark.parametrize("strategy", ["random", "batch_hard", "all"])
@pytest.mark.parametrize("margin", [0.0, 0.5, 2.0])
def test_active_fraction_equals_loop(strategy, margin):
    x, labels = random_batch(n=20, num_classes=3, seed=4)
    a, p, n = mine_triplets(x, labels, strategy=strategy, generator=gen(0))
    d = dist_table(x)
    losses = [d[i][j] - d[i][k] + margin for i, j, k in zip(a.tolist(), p.tolist(), n.tolist())]
    expected = sum(loss > 0 for loss in losses) / len(losses)
    assert active_fraction(x, labels, a, p, n, margin) == pytest.approx(expected, abs=1e-12)


def test_active_fraction_semi_hard_is_all_active_and_empty_is_zero():
    x, labels = random_batch(n=20, num_classes=3, seed=4)
    a, p, n = mine_triplets(x, labels, strategy="semi_hard", margin=0.5)
    assert a.numel() > 0
    assert active_fraction(x, labels, a, p, n, 0.5) == 1.0  # semi-hard triplets violate the margin
    empty = torch.zeros(0, dtype=torch.int64)
    assert active_fraction(x, labels, empty, empty, empty, 0.5) == 0.0


def test_active_fraction_rejects_invalid_triplets():
    x, labels = random_batch(n=12, num_classes=3, seed=0)
    a, p, n = mine_triplets(x, labels, strategy="batch_hard")
    with pytest.raises(ValueError, match="invalid triplet"):
        active_fraction(x, labels, a, n, p, 1.0)  # positives and negatives swapped
    with pytest.raises(ValueError, match="one length"):
        active_fraction(x, labels, a, p, n[:-1], 1.0)
    with pytest.raises(ValueError, match="indices in"):
        active_fraction(x, labels, a, p, n + 100, 1.0)
    with pytest.raises(TypeError, match="integer index"):
        active_fraction(x, labels, a.float(), p, n, 1.0)
    with pytest.raises(ValueError, match="margin"):
        active_fraction(x, labels, a, p, n, -1.0)


# ---------------------------------------------------------------- bad input


def test_errors_are_clear():
    x, labels = random_batch(n=12, num_classes=3, seed=0)
    with pytest.raises(ValueError, match="strategy must be one of"):
        mine_triplets(x, labels, strategy="hardest")
    with pytest.raises(ValueError, match="needs a margin"):
        mine_triplets(x, labels, strategy="semi_hard")
    with pytest.raises(ValueError, match="margin must be a finite number"):
        mine_triplets(x, labels, strategy="semi_hard", margin=-0.1)
    with pytest.raises(ValueError, match=r"labels.shape=\(11,\)"):
        mine_triplets(x, labels[:-1], strategy="batch_hard")
    with pytest.raises(ValueError, match="2-D"):
        mine_triplets(x, labels.reshape(3, 4), strategy="batch_hard")
    with pytest.raises(TypeError, match="integer class labels"):
        mine_triplets(x, labels.float(), strategy="batch_hard")
    with pytest.raises(TypeError, match="floating-point"):
        mine_triplets(x.long(), labels, strategy="batch_hard")
    with pytest.raises(ValueError, match=r"\(N, D\)"):
        mine_triplets(x[:, 0], labels, strategy="batch_hard")
    with pytest.raises(ValueError, match="at least 2 classes"):
        mine_triplets(x, torch.zeros(12, dtype=torch.int64), strategy="batch_hard")
    with pytest.raises(ValueError, match="no valid positive"):
        mine_triplets(x, torch.arange(12), strategy="batch_hard")
    with pytest.raises(ValueError, match="at least one example"):
        mine_triplets(x[:0], labels[:0], strategy="batch_hard")


def test_all_refuses_batches_over_the_limit():
    x, labels = random_batch(n=12, num_classes=3, seed=0)
    total = len(loop_all(labels))
    assert mine_triplets(x, labels, strategy="all", max_triplets=total)[0].numel() == total
    with pytest.raises(ValueError, match=f"{total:,} triplets.*max_triplets={total - 1:,}"):
        mine_triplets(x, labels, strategy="all", max_triplets=total - 1)
    # the default limit refuses a PK batch of 64 classes x 32 (N = 2048: 130 million triplets)
    labels = torch.arange(2048) % 64
    assert 2048 * 31 * (2048 - 32) > ALL_TRIPLETS_LIMIT
    with pytest.raises(ValueError, match="grows as N\\^3"):
        mine_triplets(torch.zeros(2048, 1), labels, strategy="all")


def test_float32_grid_and_gaussian_batches_equal_the_loops():
    """Mining ranks the fast (float64 Gram) distances; on float32 inputs it still equals the loops."""
    for case in (dict(n=24, num_classes=4, seed=5, grid=True), dict(n=30, num_classes=3, seed=8)):
        x, labels = random_batch(**case)
        x32 = x.float()
        assert triplets(mine_triplets(x32, labels, strategy="batch_hard")) == loop_batch_hard(x32.double(), labels)
        for margin in (0.3, 1.0):
            got = triplets(mine_triplets(x32, labels, strategy="semi_hard", margin=margin))
            assert got == loop_semi_hard(x32.double(), labels, margin)
