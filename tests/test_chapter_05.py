"""Chapter 05 (multiclass margin loss): the checks its narrative points to.

- the clamp backward mask at the kink, the in-place assignment, the K = 2 reduction, the oracles at several
  margins, the gradient with respect to the weights of a linear model;
- "zero loss exactly when every wrong class is at least Δ below", down to the last bit, for each evaluation
  order: the chapter's ``fl(fl(s_j - s_c) + Δ)`` and ``utils``/torch's ``fl(s_j + fl(Δ - s_c))``, on ties whose
  values are NOT multiples of Δ/2, against exact rational arithmetic.
"""

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.metrics import hinge_loss as sklearn_hinge_loss

import utils

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "chapters" / "05_multiclass_margin.py"
F64 = torch.float64


def chapter_multiclass_hinge_loss(scores, targets, margin=1.0):
    """The chapter's code, verbatim (section "Multiclass Margin Loss in PyTorch")."""
    batch_size = scores.shape[0]

    correct_scores = scores[torch.arange(batch_size), targets].unsqueeze(1)
    margins = scores - correct_scores + margin

    margins[torch.arange(batch_size), targets] = 0.0

    return torch.clamp(margins, min=0.0).sum(dim=1).mean()


def chapter_per_row(scores, targets, margin):
    return torch.stack([chapter_multiclass_hinge_loss(scores[i:i + 1], targets[i:i + 1], margin)
                        for i in range(len(targets))])


IMPLEMENTATIONS = {
    "utils WW": lambda s, y, d: utils.multiclass_hinge_loss(s, y, margin=d, reduction="none"),
    "utils CS": lambda s, y, d: utils.multiclass_hinge_loss(s, y, margin=d, variant="crammer_singer", reduction="none"),
    "torch": lambda s, y, d: F.multi_margin_loss(s, y, margin=d, reduction="none"),
    "chapter": chapter_per_row,
}


# ----------------------------------------------------------------------------------------------- section 3
def test_clamp_backward_mask_counts_the_kink_as_active():
    x = torch.tensor([-1e-300, 0.0, 1e-300, 2.0], dtype=F64, requires_grad=True)
    torch.clamp(x, min=0.0).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0, 1.0]  # mask input >= min, not input > min
    z = torch.tensor([0.0], requires_grad=True)
    torch.relu(z).backward()
    assert z.grad.item() == 0.0  # relu's convention differs (notebook 03)


def test_without_the_assignment_loss_is_off_by_delta_and_gradient_unchanged():
    g = torch.Generator().manual_seed(5)
    s = torch.randn(40, 7, generator=g, dtype=F64, requires_grad=True)
    t = torch.randint(0, 7, (40,), generator=g)
    for delta in (0.5, 1.0, 3.0):
        correct = s[torch.arange(40), t].unsqueeze(1)
        without = torch.clamp(s - correct + delta, min=0.0).sum(dim=1).mean()
        with_ = chapter_multiclass_hinge_loss(s, t, delta)
        torch.testing.assert_close(without, with_ + delta)
        torch.testing.assert_close(torch.autograd.grad(without, s)[0], torch.autograd.grad(with_, s)[0])


def test_in_place_write_after_clamp_or_into_the_leaf_is_refused():
    s = torch.randn(8, 4, dtype=F64, requires_grad=True)
    t = torch.randint(0, 4, (8,))
    rows = torch.arange(8)
    margins = s - s[rows, t].unsqueeze(1) + 1.0
    clamped = torch.clamp(margins, min=0.0)
    margins[rows, t] = 0.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        clamped.sum().backward()
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        s[rows, t] = 0.0


# ----------------------------------------------------------------------------------------------- sections 1, 4
def test_two_classes_is_the_binary_hinge_on_the_score_difference():
    g = torch.Generator().manual_seed(2)
    s = torch.randn(200, 2, generator=g, dtype=F64)
    c = torch.randint(0, 2, (200,), generator=g)
    for delta in (0.5, 1.0, 2.0):
        torch.testing.assert_close(utils.multiclass_hinge_loss(s, c, margin=delta, reduction="none"),
                                   utils.hinge_loss(s[:, 1] - s[:, 0], 2.0 * c - 1, margin=delta, reduction="none"))


@pytest.mark.parametrize("delta", [0.3, 0.5, 1.0, 2.0])
def test_oracles_at_several_margins_and_the_bounds_of_step_3(delta):
    g = torch.Generator().manual_seed(int(delta * 10))
    K = 10
    s = torch.randn(300, K, generator=g, dtype=F64) * 1.5
    t = torch.randint(0, K, (300,), generator=g)
    ww = utils.multiclass_hinge_loss(s, t, margin=delta, reduction="none")
    cs = utils.multiclass_hinge_loss(s, t, margin=delta, variant="crammer_singer", reduction="none")
    torch.testing.assert_close(ww, K * F.multi_margin_loss(s, t, margin=delta, reduction="none"))
    torch.testing.assert_close(chapter_multiclass_hinge_loss(s, t, delta), ww.mean())
    cs_sklearn = delta * sklearn_hinge_loss(t.numpy(), (s / delta).numpy(), labels=range(K))
    assert cs.mean().item() == pytest.approx(float(cs_sklearn), rel=1e-12)
    # plain Python per-example reference
    rows = s.tolist()
    ref_ww = [sum(max(0.0, r[j] - r[c] + delta) for j in range(K) if j != c) for r, c in zip(rows, t.tolist())]
    ref_cs = [max(0.0, delta - r[c] + max(r[j] for j in range(K) if j != c)) for r, c in zip(rows, t.tolist())]
    assert ww.tolist() == pytest.approx(ref_ww, abs=1e-12) and cs.tolist() == pytest.approx(ref_cs, abs=1e-12)
    assert bool((cs <= ww).all()) and bool((ww <= (K - 1) * cs + 1e-12).all())


def test_torch_oracle_needs_int64_targets():
    with pytest.raises(RuntimeError):
        F.multi_margin_loss(torch.randn(4, 3), torch.tensor([0, 1, 2, 0], dtype=torch.int32))


def test_loop_and_vectorised_agree_in_value_and_gradient():
    def loop(scores, targets, margin=1.0):
        total = scores.new_zeros(())
        for i in range(scores.shape[0]):
            c = int(targets[i])
            for j in range(scores.shape[1]):
                if j != c:
                    total = total + torch.clamp(scores[i, j] - scores[i, c] + margin, min=0.0)
        return total / scores.shape[0]

    s = torch.randn(16, 5, dtype=F64, requires_grad=True)
    t = torch.randint(0, 5, (16,))
    a, b = loop(s, t), chapter_multiclass_hinge_loss(s, t)
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(torch.autograd.grad(a, s)[0], torch.autograd.grad(b, s)[0])


@pytest.mark.parametrize("variant", ["weston_watkins", "crammer_singer"])
def test_gradient_with_respect_to_linear_weights_is_g_x_transpose(variant):
    g = torch.Generator().manual_seed(7)
    X = torch.randn(50, 6, generator=g, dtype=F64)
    y = torch.randint(0, 4, (50,), generator=g)
    W = torch.randn(4, 6, generator=g, dtype=F64, requires_grad=True)
    b = torch.randn(4, generator=g, dtype=F64, requires_grad=True)
    loss = utils.multiclass_hinge_loss(X @ W.T + b, y, margin=1.0, variant=variant)
    gW, gb = torch.autograd.grad(loss, (W, b))
    with torch.no_grad():  # g per example, from the derivation (no ties with random float64 data)
        s = X @ W.T + b
        G = torch.zeros_like(s)
        for i in range(50):
            c = int(y[i])
            wrong = [j for j in range(4) if j != c]
            if variant == "weston_watkins":
                active = [j for j in wrong if s[i, j] - s[i, c] + 1.0 > 0]
            else:
                best = max(wrong, key=lambda j: s[i, j].item())
                active = [best] if s[i, best] - s[i, c] + 1.0 > 0 else []
            for j in active:
                G[i, j] += 1.0
            G[i, c] -= len(active)
    for j in range(4):  # row by row: dL/dw_j = mean over examples of g_j x
        torch.testing.assert_close(gW[j], (G[:, j:j + 1] * X).mean(0))
    torch.testing.assert_close(gb, G.mean(0))


# ----------------------------------------------------------------------------------------------- section 7
COUNTEREXAMPLE = (-1.563783342042287, -1.563783342042287 - 1.0)


def test_the_counterexample_of_the_chapter():
    s = torch.tensor([COUNTEREXAMPLE], dtype=F64)
    c = torch.tensor([0])
    assert (s[0, 0] - s[0, 1]).item() == 0.9999999999999998
    for name in ("utils WW", "utils CS", "torch"):
        assert IMPLEMENTATIONS[name](s, c, 1.0).item() == 0.0, name
    assert chapter_per_row(s, c, 1.0).item() == 2.0**-52
    # exactly: s_c - s_j with the stored doubles
    exact = Fraction(COUNTEREXAMPLE[0]) - Fraction(s[0, 1].item())
    assert exact < 1


def _random_ties(delta, n, seed):
    """Rows (s_c, s_1, s_2) with s_1 = fl(s_c - Δ) (a tie up to rounding) nudged by -1, 0 or +1 ulp, values
    drawn from a continuous distribution (not multiples of Δ/2); s_2 far below."""
    rng = np.random.default_rng(seed)
    s_c = rng.normal(0.0, 3.0, n) * rng.choice([1e-3, 1.0, 1e3], n)
    s_1 = s_c - delta
    step = rng.integers(-1, 2, n)
    s_1 = np.where(step > 0, np.nextafter(s_1, np.inf), np.where(step < 0, np.nextafter(s_1, -np.inf), s_1))
    s_2 = s_c - delta * (5 + rng.random(n)) * (1 + np.abs(s_c))
    scores = torch.tensor(np.stack([s_c, s_1, s_2], 1), dtype=F64)
    half = np.asarray(scores) / (delta / 2)
    assert np.mean(half == np.round(half)) < 0.01  # the ties are not built from multiples of Δ/2
    return scores, torch.zeros(n, dtype=torch.long)


@pytest.mark.parametrize("delta", [0.3, 0.7, 1.0, 2.5])
def test_chapter_order_is_zero_exactly_when_the_computed_gap_reaches_delta(delta):
    scores, c = _random_ties(delta, 3000, seed=int(delta * 100))
    gap = scores[:, 0] - scores[:, 1:].amax(1)  # fl(s_c - max_j s_j): the computed gap
    zero = chapter_per_row(scores, c, delta) == 0
    assert torch.equal(zero, gap >= delta)
    assert 0 < int(zero.sum()) < len(zero)  # both outcomes occur


@pytest.mark.parametrize("delta", [0.3, 0.7, 1.0, 2.5])
@pytest.mark.parametrize("name", ["utils WW", "utils CS", "torch"])
def test_utils_and_torch_order_is_zero_exactly_when_wrong_scores_reach_the_rounded_threshold(delta, name):
    scores, c = _random_ties(delta, 3000, seed=int(delta * 100))
    threshold = scores[:, 0] - delta  # fl(s_c - Δ) = -fl(Δ - s_c)
    zero = IMPLEMENTATIONS[name](scores, c, delta) == 0
    assert torch.equal(zero, (scores[:, 1:] <= threshold[:, None]).all(1))
    assert 0 < int(zero.sum()) < len(zero)


@pytest.mark.parametrize("delta", [0.3, 1.0])
def test_both_orders_disagree_with_exact_arithmetic_only_within_a_rounding_of_the_tie(delta):
    scores, c = _random_ties(delta, 2000, seed=11)
    d = Fraction(delta)
    exact_zero = torch.tensor([Fraction(r[0]) - max(Fraction(r[1]), Fraction(r[2])) >= d for r in scores.tolist()])
    for name, impl in IMPLEMENTATIONS.items():
        zero = impl(scores, c, delta) == 0
        wrong = (zero != exact_zero).nonzero().flatten().tolist()
        for i in wrong:
            r = scores[i].tolist()
            err = abs(Fraction(r[0]) - Fraction(r[1]) - d)
            assert err <= 2 * np.finfo(float).eps * max(abs(r[0]), abs(r[1]), delta), (name, r)
    # and the orders do differ from exact arithmetic somewhere: the statement is about rounded numbers
    assert any(bool(((IMPLEMENTATIONS[n](scores, c, delta) == 0) != exact_zero).any()) for n in IMPLEMENTATIONS)


def test_structure_margin_constant_links_and_no_internal_citations():
    text = SOURCE.read_text()
    assert "MARGIN = " in text and "margin=MARGIN" in text
    assert "](../REFERENCES.md#oracles)" in text
    assert "input > min" not in text  # the clamp mask is input >= min
