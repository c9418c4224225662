"""The checks chapter 10 (hard negative mining) states in prose, verified against independent brute force:
the toy batch's zones and picks, step 4 of the derivation (collapse on the unit sphere), and the
cross-checks of section 5 on more batches than the chapter shows (loops, utils.miners, PML)."""

import itertools

import pytest
import torch
from pytorch_metric_learning.distances import LpDistance
from pytorch_metric_learning.losses import TripletMarginLoss
from pytorch_metric_learning.miners import BatchHardMiner, TripletMarginMiner
from pytorch_metric_learning.reducers import MeanReducer
from pytorch_metric_learning.utils import loss_and_miner_utils as lmu
from torch.testing import assert_close

from utils.miners import active_fraction, mine_triplets
from utils.mining_experiments import mined_triplet_loss

F64 = torch.float64
NO_NORM = LpDistance(normalize_embeddings=False)

# The chapter's toy batch (section 4) and its margin.
TOY = torch.tensor([[0.0, 0.0], [0.6, 0.3], [-1.0, 0.75], [0.5, -0.2], [1.0, -0.45], [2.0, 1.0],
                    [-0.35, -1.3], [-2.0, -1.0], [1.5, -1.8]], dtype=F64)
TOY_Y = torch.tensor([0, 0, 0, 1, 1, 1, 2, 2, 2])
MARGIN = 0.5


def table(x):
    """Euclidean distances by plain Python arithmetic (independent of torch's kernels)."""
    rows = x.tolist()
    return [[sum((u - v) ** 2 for u, v in zip(r, q)) ** 0.5 for q in rows] for r in rows]


def dist(x, i, j):
    return sum((u - v) ** 2 for u, v in zip(x[i].tolist(), x[j].tolist())) ** 0.5


def zone(x, a, p, n, margin):
    d_ap, d_an = dist(x, a, p), dist(x, a, n)
    return "hard" if d_an <= d_ap else "semi-hard" if d_an < d_ap + margin else "easy"


def as_set(triplets):
    return {tuple(int(v) for v in t) for t in zip(*triplets)}


# ------------------------------------------------------------------------------ section 4: the toy batch


def test_toy_batch_zones_are_as_the_chapter_says():
    expected = {1: {3: "hard", 4: "semi-hard", 5: "easy", 6: "easy", 7: "easy", 8: "easy"},
                2: {3: "hard", 4: "hard", 5: "easy", 6: "semi-hard", 7: "easy", 8: "easy"}}
    for p, zones in expected.items():
        assert {n: zone(TOY, 0, p, n, MARGIN) for n in zones} == zones


def test_toy_batch_picks_and_active_count():
    a, p, n = mine_triplets(TOY, TOY_Y, strategy="batch_hard")
    assert (int(p[0]), int(n[0])) == (2, 3)  # anchor 0: farthest positive 2, closest negative 3
    semi = sorted(t for t in as_set(mine_triplets(TOY, TOY_Y, strategy="semi_hard", margin=MARGIN)) if t[0] == 0)
    assert semi == [(0, 1, 4), (0, 2, 6)]
    # in-batch: 2 positives x 6 negatives for anchor 0, of which exactly 5 have a positive loss
    losses = [dist(TOY, 0, q) - dist(TOY, 0, k) + MARGIN for q in (1, 2) for k in range(3, 9)]
    assert sum(v > 0 for v in losses) == 5
    a, p, n = mine_triplets(TOY, TOY_Y, strategy="all")
    keep = a == 0
    assert active_fraction(TOY, TOY_Y, a[keep], p[keep], n[keep], MARGIN) == pytest.approx(5 / 12)


def test_random_miner_is_uniform_on_the_toy_batch():
    gen = torch.Generator().manual_seed(1)
    counts = torch.zeros(9, dtype=torch.int64)
    for _ in range(600):
        a, p, n = mine_triplets(TOY, TOY_Y, strategy="random", generator=gen)
        assert bool((TOY_Y[n] != TOY_Y[a]).all())
        counts += torch.bincount(n[(a == 0) & (p == 1)], minlength=9)
    assert counts[:3].sum() == 0 and int(counts[3:].sum()) == 600
    # 100 expected per negative; binomial sd = 9.1, so 70..130 is a 3.3-sigma band
    assert all(70 <= int(c) <= 130 for c in counts[3:])


# ------------------------------------------------------------------------------ section 2, step 4


def triplet_losses(z, margin):
    """Loss of every valid triplet of a batch labelled 0,0,1,1,2,2,..., by brute force."""
    y = [i // 2 for i in range(z.shape[0])]
    return [dist(z, a, p) - dist(z, a, n) + margin
            for a, p, n in itertools.permutations(range(len(y)), 3) if y[a] == y[p] and y[n] != y[a]]


def test_collapsed_embedding_gives_every_triplet_the_loss_m():
    z = torch.nn.functional.normalize(torch.ones(6, 4, dtype=F64), dim=1)  # every point the same
    assert all(v == pytest.approx(0.3) for v in triplet_losses(z, 0.3))


def contract(z, c, s):
    return torch.nn.functional.normalize(c + s * (z - c), dim=1)


def cap(radius, n=40, d=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    c = torch.zeros(d, dtype=F64)
    c[0] = 1.0
    u = torch.randn(n, d, generator=g, dtype=F64)
    u[:, 0] = 0
    u = u / u.norm(dim=1, keepdim=True) * radius * torch.rand(n, 1, generator=g, dtype=F64)
    return torch.nn.functional.normalize(c + u, dim=1), c


@pytest.mark.parametrize("radius", [0.4, 0.2, 0.1])
def test_contraction_in_a_cap_scales_distances_up_to_order_radius_squared(radius):
    z, c = cap(radius)
    exact = lambda x: torch.cdist(x, x, compute_mode="donot_use_mm_for_euclid_dist")  # noqa: E731
    off = ~torch.eye(z.shape[0], dtype=torch.bool)
    for s in (0.9, 0.5, 0.1):
        w = contract(z, c, s)
        assert torch.allclose(w.norm(dim=1), torch.ones(z.shape[0], dtype=F64))  # still on the sphere
        rel = (exact(w)[off] / (s * exact(z)[off]) - 1).abs().max()
        assert rel < 0.25 * radius**2


def test_along_the_contraction_hard_triplets_gain_and_semi_hard_lose():
    """dL/ds at s = 1 is about d_ap - d_an: positive for a hard triplet, negative for a semi-hard one."""
    z, c = cap(0.1, n=3, seed=3)
    d = lambda x, i, j: float((x[i] - x[j]).norm())  # noqa: E731
    a, p, n = (0, 1, 2) if d(z, 0, 1) > d(z, 0, 2) else (0, 2, 1)  # a hard triplet: d_an < d_ap
    for pos, neg, sign in ((p, n, 1), (n, p, -1)):  # swapping roles gives a semi-hard triplet for m large
        margin = 1.0
        loss = lambda s: d(contract(z, c, s), a, pos) - d(contract(z, c, s), a, neg) + margin  # noqa: E731
        assert loss(1.0) > 0  # active
        slope = (loss(1.0) - loss(1.0 - 1e-6)) / 1e-6
        assert slope == pytest.approx(d(z, a, pos) - d(z, a, neg), rel=0.02)
        assert sign * slope > 0
        assert (loss(1.0) > margin) == (sign > 0)  # hard: loss above m; semi-hard: below


# ------------------------------------------------------------------------------ section 5 on more batches


def loop_mine(x, y, strategy, margin=None):
    y, D = y.tolist(), table(x)
    out = set()
    for a in range(len(y)):
        pos = [j for j in range(len(y)) if j != a and y[j] == y[a]]
        neg = [j for j in range(len(y)) if y[j] != y[a]]
        if strategy == "batch_hard" and pos:
            out.add((a, max(pos, key=lambda j: D[a][j]), min(neg, key=lambda j: D[a][j])))
        for p in pos if strategy != "batch_hard" else []:
            band = [n for n in neg if D[a][p] < D[a][n] < D[a][p] + (margin or 0)]
            if strategy == "all":
                out |= {(a, p, n) for n in neg}
            elif strategy == "semi_hard" and band:
                out.add((a, p, min(band, key=lambda n: D[a][n])))
            elif strategy == "band":
                out |= {(a, p, n) for n in band}
    return out


BATCHES = [(40, 8, 8, 0), (30, 5, 6, 1), (24, 3, 4, 2)]


@pytest.mark.parametrize("n, d, classes, seed", BATCHES)
@pytest.mark.parametrize("margin", [0.5, 1.0])
def test_loops_utils_and_pml_agree(n, d, classes, seed, margin):
    x = torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=F64)
    y = torch.arange(n) % classes
    for strategy in ("batch_hard", "semi_hard", "all"):
        assert loop_mine(x, y, strategy, margin) == as_set(mine_triplets(x, y, strategy=strategy, margin=margin))
    assert loop_mine(x, y, "batch_hard") == as_set(BatchHardMiner(distance=NO_NORM)(x, y))
    pml_band = as_set(TripletMarginMiner(margin=margin, type_of_triplets="semihard", distance=NO_NORM)(x, y))
    assert loop_mine(x, y, "band", margin) == pml_band
    assert loop_mine(x, y, "all") == as_set(lmu.get_all_triplets_indices(y))
    # utils' semi-hard pick is, per pair, PML's band member with the smallest d(a, n)
    D, closest = table(x), {}
    for a, p, k in pml_band:
        closest[(a, p)] = min(closest.get((a, p), float("inf")), D[a][k])
    ours = as_set(mine_triplets(x, y, strategy="semi_hard", margin=margin))
    assert {(a, p): D[a][k] for a, p, k in ours} == pytest.approx(closest)


@pytest.mark.parametrize("n, d, classes, seed", BATCHES[1:])
def test_batch_hard_and_batch_all_losses_equal_pml(n, d, classes, seed):
    x = torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=F64)
    y = torch.arange(n) % classes
    bh, _, _ = mined_triplet_loss(x, y, strategy="batch_hard", margin=1.0)
    assert_close(bh, TripletMarginLoss(margin=1.0, distance=NO_NORM, reducer=MeanReducer())(
        x, y, indices_tuple=BatchHardMiner(distance=NO_NORM)(x, y)))
    ba, _, per = mined_triplet_loss(x, y, strategy="all", margin=1.0, reduction="mean_nonzero")
    pml_all = TripletMarginLoss(margin=1.0, distance=NO_NORM)  # default reducer: AvgNonZeroReducer
    assert_close(ba, pml_all(x, y, indices_tuple=lmu.get_all_triplets_indices(y)))
    brute = [v for v in triplet_losses_labelled(x, y, 1.0) if v > 0]
    assert float(ba) == pytest.approx(sum(brute) / len(brute), rel=1e-12)
    assert int((per > 0).sum()) == len(brute)


def triplet_losses_labelled(x, y, margin):
    y, D = y.tolist(), table(x)
    return [D[a][p] - D[a][n] + margin
            for a, p, n in itertools.permutations(range(len(y)), 3) if y[a] == y[p] and y[n] != y[a]]

