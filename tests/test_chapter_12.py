"""Chapter 12 (normalized embeddings): the facts its text states, and utils.angular_experiment, each
against an independent computation (closed forms, NumPy loops)."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from utils.angular import arcface_target_logit, cosface_loss
from utils.angular_experiment import angular_stats, compare_losses, jitter_change, train_angular
from utils.data import digits

F64 = torch.float64


def test_chord_identity_on_random_unit_vectors():
    g = torch.Generator().manual_seed(0)
    x = F.normalize(torch.randn(50, 7, generator=g, dtype=F64), dim=1).numpy()
    for i in range(50):
        for j in range(50):
            theta = math.acos(max(-1.0, min(1.0, float(x[i] @ x[j]))))
            assert np.linalg.norm(x[i] - x[j]) == pytest.approx(2 * math.sin(theta / 2), abs=1e-7)


def test_best_probability_at_scale_one_closed_forms():
    # simplex: e^1 / (e^1 + 9 e^(-1/9)); circle: e^1 / sum_k e^cos(2 pi k / 10)
    simplex = math.e / (math.e + 9 * math.exp(-1 / 9))
    circle = math.e / sum(math.exp(math.cos(2 * math.pi * k / 10)) for k in range(10))
    assert simplex == pytest.approx(0.2524, abs=5e-5) and circle == pytest.approx(0.2147, abs=5e-5)
    assert max(simplex, circle) < 0.26  # "no feature can exceed about 0.25"


def test_two_d_margin_bounds_of_section_6():
    # a feature on its class direction, neighbours 36 degrees away: CosFace holds iff 1 - m > cos 36°
    assert 1 - math.cos(math.radians(36)) == pytest.approx(0.191, abs=1e-3)
    assert math.radians(36) == pytest.approx(0.628, abs=1e-3)  # ArcFace: m < 36° in radians


@pytest.mark.parametrize("m", [0.05, 0.2, 0.5, 1.0, 1.2, math.pi / 2])
def test_arcface_target_logit_jumps_down_at_pi_minus_m(m):
    left = arcface_target_logit(torch.tensor([math.cos(math.pi - m - 1e-9)], dtype=F64), margin=m).item()
    right = arcface_target_logit(torch.tensor([math.cos(math.pi - m + 1e-9)], dtype=F64), margin=m).item()
    assert left == pytest.approx(-1.0, abs=1e-6)
    assert right == pytest.approx(-(math.cos(m) + m * math.sin(m)), abs=1e-6)
    assert right <= left + 1e-9


def stats_by_loops(z, W, y):
    """NumPy reference of angular_stats on features z (N, d) that are already the network's output."""
    z = z / np.linalg.norm(z, axis=1, keepdims=True)
    Wn = W / np.linalg.norm(W, axis=1, keepdims=True)
    acc = np.mean([np.argmax(Wn @ zi) == yi for zi, yi in zip(z, y)])
    classes = W.shape[0]
    means = []
    for c in range(classes):
        m = z[y == c].mean(axis=0)
        means.append(m / np.linalg.norm(m))
    angles = [math.degrees(math.acos(np.clip(zi @ means[yi], -1, 1))) for zi, yi in zip(z, y)]
    gap = min(math.degrees(math.acos(np.clip(means[a] @ means[b], -1, 1)))
              for a in range(classes) for b in range(classes) if a != b)
    return 100 * acc, float(np.mean(angles)), gap


def test_angular_stats_against_numpy_loops():
    g = torch.Generator().manual_seed(3)
    y = torch.arange(4).repeat(15)
    W = torch.randn(4, 3, generator=g, dtype=F64)
    z = W[y] + 0.6 * torch.randn(60, 3, generator=g, dtype=F64)
    stats = angular_stats(nn.Identity(), W, z, y)
    acc, spread, gap = stats_by_loops(z.numpy(), W.numpy(), y.numpy())
    assert stats["acc"] == pytest.approx(acc) and stats["spread"] == pytest.approx(spread)
    assert stats["gap"] == pytest.approx(gap)
    assert torch.allclose(stats["z"].norm(dim=1), torch.ones(60, dtype=F64))


@pytest.fixture(scope="module")
def small():
    d = digits(dtype=F64)
    return (d.X_train[:300], d.y_train[:300]), (d.X_test[:200], d.y_test[:200])


def loss(z, W, y):
    return cosface_loss(z, W, y, margin=0.1, scale=16.0)


def test_train_angular_is_deterministic_and_jitter_is_relative_noise(small):
    train, _ = small
    net_a, W_a = train_angular(loss, *train, dim=2, steps=3, seed=1)
    net_b, W_b = train_angular(loss, *train, dim=2, steps=3, seed=1)
    assert torch.equal(W_a, W_b)
    _, W0 = train_angular(loss, *train, dim=2, steps=1, seed=1, lr=0.0)  # lr 0: the initial W
    _, Wj = train_angular(loss, *train, dim=2, steps=1, seed=1, lr=0.0, jitter=1e-6)
    torch.manual_seed(1)
    nn.Linear(64, 64), nn.Linear(64, 2)  # the same draws as the network's initialisation ...
    assert torch.equal(W0, torch.randn(10, 2, dtype=F64))  # ... then W
    rel = ((Wj - W0) / W0).abs()
    assert 0 < rel.max() < 1e-5 and rel.mean() > 1e-8


def test_compare_losses_starts_every_loss_from_the_same_network(small):
    train, test = small
    res = compare_losses({"a": loss, "b": loss}, train, test, dim=2, steps=2, seed=0)
    assert torch.equal(res["a"]["W"], res["b"]["W"]) and res["a"]["test"]["acc"] == res["b"]["test"]["acc"]


def test_jitter_change_is_zero_without_jitter(small):
    train, test = small
    net, W = train_angular(loss, *train, dim=2, steps=3, seed=0)
    ref = angular_stats(net, W, *test)
    assert jitter_change(loss, train, test, dim=2, steps=3, seed=0, reference=ref, jitter=0.0) == 0.0
    assert jitter_change(loss, train, test, dim=2, steps=3, seed=0, reference=ref) > 0.0


def test_clear_errors(small):
    (X, y), _ = small
    with pytest.raises(TypeError, match="float64"):
        train_angular(loss, X.float(), y, dim=2, steps=1, seed=0)
    with pytest.raises(ValueError, match="same N"):
        train_angular(loss, X, y[:-1], dim=2, steps=1, seed=0)
    with pytest.raises(ValueError, match="every class"):
        angular_stats(nn.Identity(), torch.randn(10, 2, dtype=F64), torch.randn(5, 2, dtype=F64),
                      torch.zeros(5, dtype=torch.int64))
