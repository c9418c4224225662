"""The checks chapter 11 (margin size) states in prose and no longer shows in full: its in-batch triplet
loss against pytorch-metric-learning, its violation fraction against utils.miners and utils.monitor, and
the geometric facts of its derivation (steps 1-5), each against an independent computation."""

import itertools
import math

import pytest
import torch
import torch.nn.functional as F
from pytorch_metric_learning import losses as pml_losses
from pytorch_metric_learning.distances import LpDistance
from pytorch_metric_learning.reducers import MeanReducer
from torch.testing import assert_close

from utils.distances import paired_distances
from utils.miners import active_fraction, mine_triplets
from utils.monitor import triplet_violations

F64 = torch.float64


def raw_batch(seed=0, n=30, d=16, classes=5):
    raw = torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=F64)
    return raw, torch.arange(n) % classes


def brute_force(z, labels, margin):
    """Hinge arguments d(a,p) - d(a,n) + m of every valid triplet, by plain Python arithmetic."""
    rows, y = z.tolist(), labels.tolist()
    d = lambda i, j: math.dist(rows[i], rows[j])  # noqa: E731
    return [d(a, p) - d(a, n) + margin
            for a, p, n in itertools.permutations(range(len(y)), 3) if y[a] == y[p] and y[n] != y[a]]


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("margin", [0.2, 1.0, 2.5])
def test_loss_and_violation_fraction_against_pml_miners_monitor_and_brute_force(seed, margin):
    raw, labels = raw_batch(seed)
    z = F.normalize(raw, dim=1)
    a, p, n = mine_triplets(z, labels, strategy="all")
    args = brute_force(z, labels, margin)
    loss = sum(max(0.0, v) for v in args) / len(args)
    violation = sum(v > 0 for v in args) / len(args)
    # pytorch-metric-learning normalises embeddings by default: give it the RAW outputs
    pml = pml_losses.TripletMarginLoss(margin=margin, distance=LpDistance(normalize_embeddings=True),
                                       reducer=MeanReducer())
    assert float(pml(raw, labels, indices_tuple=(a, p, n))) == pytest.approx(loss, rel=1e-10)
    assert active_fraction(z, labels, a, p, n, margin) == pytest.approx(violation)
    d_ap, d_an = paired_distances(z[a], z[p]), paired_distances(z[a], z[n])
    assert triplet_violations(d_ap, d_an, margin=margin).double().mean().item() == pytest.approx(violation)
    assert_close(F.triplet_margin_loss(z[a], z[p], z[n], margin=margin, p=2, eps=0), torch.tensor(loss, dtype=F64))


def test_unit_sphere_distances_lie_in_0_2_and_margins_above_2_are_never_met():
    z = F.normalize(torch.randn(200, 8, generator=torch.Generator().manual_seed(3), dtype=F64), dim=1)
    d = torch.cdist(z, z, compute_mode="donot_use_mm_for_euclid_dist")
    assert float(d.max()) <= 2.0 + 1e-12
    assert float(torch.cdist(z[:1], -z[:1])) == pytest.approx(2.0)  # antipodal points reach 2
    labels = torch.arange(200) % 4
    args = brute_force(z[:24], labels[:24], 2.5)
    assert min(args) >= 0.5  # hinge argument >= m - 2 > 0 for every triplet


def test_the_margin_drops_out_of_the_gradient_when_every_triplet_is_active():
    raw, labels = raw_batch(2)
    grads = []
    for margin in (2.5, 4.0):
        x = raw.clone().requires_grad_(True)
        z = F.normalize(x, dim=1)
        a, p, n = mine_triplets(z.detach(), labels, strategy="all")
        torch.clamp(paired_distances(z[a], z[p]) - paired_distances(z[a], z[n]) + margin, min=0).mean().backward()
        grads.append(x.grad)
    assert torch.equal(grads[0], grads[1])


@pytest.mark.parametrize("k", [2, 3, 5, 10])
def test_simplex_bound_is_attained_and_never_beaten(k):
    bound = math.sqrt(2 * k / (k - 1))
    simplex = F.normalize(torch.eye(k, dtype=F64) - 1.0 / k, dim=1)
    off = ~torch.eye(k, dtype=torch.bool)
    assert_close(torch.cdist(simplex, simplex)[off], torch.full((k * (k - 1),), bound, dtype=F64))
    # random unit vectors, in more dimensions than k - 1: the closest pair never beats the bound
    pts = F.normalize(torch.randn(500, k, 16, generator=torch.Generator().manual_seed(k), dtype=F64), dim=2)
    closest = torch.cdist(pts, pts).masked_fill(~off, float("inf")).amin(dim=(1, 2))
    assert bool((closest <= bound + 1e-12).all())


def test_scaling_meets_any_margin_without_normalisation():
    """Step 6: if every triplet is ordered correctly, c * f meets margin m once c > m / min gap."""
    z = torch.tensor([[0.0], [0.1], [1.0], [1.2]], dtype=F64)  # classes {0,1}, {2,3}: correctly ordered
    labels = torch.tensor([0, 0, 1, 1])
    gaps = [-(v - 0.0) for v in brute_force(z, labels, 0.0)]
    assert min(gaps) > 0
    margin = 10.0
    c = 1.01 * margin / min(gaps)
    assert max(brute_force(c * z, labels, margin)) < 0  # every triplet satisfied
