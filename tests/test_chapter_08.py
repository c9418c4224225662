"""Checks for chapter 08 (contrastive margin loss) at d = 0: for a dissimilar pair the loss has a
cone-shaped maximum there, an exact norm returns gradient 0 (a stationary point), `eps` a descent push."""

import math

import torch
import torch.nn.functional as F
from torch.testing import assert_close

import utils

F64 = torch.float64
M = 1.0


def dissimilar_loss(z1, z2, distance):
    return torch.clamp(M - distance(z1, z2), min=0) ** 2


def exact(u, v):
    return torch.linalg.vector_norm(u - v, dim=1)


def test_collapsed_dissimilar_pair_is_a_maximum_in_every_direction():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(1, 5, generator=g, dtype=F64)
    at_tip = dissimilar_loss(z, z, exact)
    assert_close(at_tip, torch.tensor([M**2], dtype=F64))
    for _ in range(20):
        e = torch.randn(1, 5, generator=g, dtype=F64)
        e = e / e.norm()
        t = 1e-6
        slope = (dissimilar_loss(z + t * e, z, exact) - at_tip) / t  # one-sided directional derivative
        assert_close(slope, torch.tensor([-2 * M], dtype=F64), rtol=0, atol=1e-5)


def test_exact_norm_gives_zero_gradient_eps_gives_a_descent_push():
    D = 3
    z = torch.randn(1, D, generator=torch.Generator().manual_seed(1), dtype=F64)
    grads = {}
    for name, distance in {"exact": exact, "eps": F.pairwise_distance}.items():
        z1 = z.clone().requires_grad_(True)
        (grads[name],) = torch.autograd.grad(dissimilar_loss(z1, z, distance).sum(), z1)
    z1 = z.clone().requires_grad_(True)
    (grads["utils"],) = torch.autograd.grad(
        utils.contrastive_margin_loss(z1, z, torch.zeros(1, dtype=F64), margin=M), z1)
    assert torch.equal(grads["exact"], torch.zeros(1, D, dtype=F64))
    assert torch.equal(grads["utils"], torch.zeros(1, D, dtype=F64))
    # eps: gradient -2m (1, ..., 1)/sqrt(D) up to O(eps); a step against it lowers the loss
    assert_close(grads["eps"], torch.full((1, D), -2 * M / math.sqrt(D), dtype=F64), rtol=0, atol=1e-5)
    stepped = z - 0.01 * grads["eps"]
    assert dissimilar_loss(stepped, z, exact) < dissimilar_loss(z, z, exact)


def test_gradient_descent_separates_a_pair_unless_exactly_collapsed():
    z2 = torch.randn(1, 3, generator=torch.Generator().manual_seed(2), dtype=F64)

    def descend(z1, distance, steps=20, lr=0.1):
        for _ in range(steps):
            z1 = z1.clone().requires_grad_(True)
            (g,) = torch.autograd.grad(dissimilar_loss(z1, z2, distance).sum(), z1)
            z1 = z1.detach() - lr * g
        return float(exact(z1, z2))

    assert descend(z2.clone(), exact) == 0.0
    # independent reference for the others: d_{t+1} = d_t + 2 lr (m - d_t) along a fixed direction
    expected = M * (1 - (1 - 2 * 0.1) ** 20)
    assert abs(descend(z2 + 1e-6, exact) - expected) < 1e-5
    assert abs(descend(z2.clone(), F.pairwise_distance) - expected) < 1e-4


def test_structure_margin_constant_links_and_no_internal_citations():
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "chapters" / "08_contrastive_margin.py").read_text()
    assert "MARGIN = " in text and "margin=MARGIN" in text
    assert "](../REFERENCES.md#oracles)" in text
