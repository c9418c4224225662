"""Chapter 02 (hinge loss): the chapter's from-scratch hinge and its SVM experiment, checked in full.

The chapter shows one cross-check (per-example values against four references); here: every reduction
and several margins against PyTorch and scikit-learn, the gradients against the analytic subgradient,
and the claim that the exact SVM solution depends only on the examples with ys <= 1.
"""

from pathlib import Path

import numpy as np
import pytest
import sklearn.metrics
import torch
import torch.nn.functional as F
from sklearn.svm import LinearSVC
from torch.testing import assert_close

import utils
from utils.data import breast_cancer

from chapter_source import chapter_functions  # noqa: E402  (tests/chapter_source.py)

ROOT = Path(__file__).resolve().parent.parent


hinge = chapter_functions("02_hinge_loss", "hinge_loss_scratch")["hinge_loss_scratch"]


def batch(n=500, seed=0):
    g = torch.Generator().manual_seed(seed)
    s = 3 * torch.randn(n, generator=g, dtype=torch.float64)
    y = torch.where(torch.rand(n, generator=g) < 0.5, -1.0, 1.0).double()
    return s, y


@pytest.mark.parametrize("margin", [0.0, 0.5, 1.0, 2.5])
def test_per_example_values_match_margin_ranking_loss(margin):
    s, y = batch()
    oracle = F.margin_ranking_loss(s, torch.zeros_like(s), y, margin=margin, reduction="none")
    assert_close(hinge(s, y, margin=margin, reduction="none"), oracle, rtol=0, atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("margin", [0.5, 1.0, 2.0])
def test_reductions_match_utils_and_torch(reduction, margin):
    s, y = batch(seed=1)
    oracle = F.margin_ranking_loss(s, torch.zeros_like(s), y, margin=margin, reduction=reduction)
    assert_close(hinge(s, y, margin=margin, reduction=reduction), oracle)
    assert_close(hinge(s, y, margin=margin, reduction=reduction), utils.hinge_loss(s, y, margin=margin,
                                                                                    reduction=reduction))


def test_mean_matches_sklearn_and_multi_margin():
    s, y = batch(seed=2)
    assert hinge(s, y).item() == pytest.approx(sklearn.metrics.hinge_loss(y.numpy(), s.numpy()), rel=1e-12)
    two_class = 2 * F.multi_margin_loss(torch.stack([0 * s, s], 1), ((y + 1) // 2).long(), reduction="none")
    assert_close(hinge(s, y, reduction="none"), two_class)


@pytest.mark.parametrize("margin", [0.5, 1.0, 2.0])
def test_gradient_is_minus_y_inside_the_margin_and_zero_outside(margin):
    s, y = batch(seed=3)
    away = (y * s - margin).abs() > 1e-6
    s_ours = s[away].clone().requires_grad_(True)
    s_utils = s[away].clone().requires_grad_(True)
    hinge(s_ours, y[away], margin=margin, reduction="sum").backward()
    utils.hinge_loss(s_utils, y[away], margin=margin, reduction="sum").backward()
    analytic = torch.where(y[away] * s[away] < margin, -y[away], 0.0)
    assert torch.equal(s_ours.grad, analytic)
    assert torch.equal(s_utils.grad, analytic)


def test_exact_svm_depends_only_on_examples_inside_the_margin():
    data = breast_cancer()
    X, y = data.X_train.numpy(), data.y_train.numpy()
    C = 1 / (0.01 * len(y))
    svc = LinearSVC(loss="hinge", C=C, dual=True, tol=1e-6, max_iter=100_000, random_state=0).fit(X, y)
    keep = y * svc.decision_function(X) <= 1 + 1e-3
    assert keep.sum() == 38  # the number the chapter's takeaway states
    refit = LinearSVC(loss="hinge", C=C, dual=True, tol=1e-6, max_iter=100_000, random_state=0)
    refit.fit(X[keep], y[keep])
    w_all, w_sv = svc.coef_[0], refit.coef_[0]
    assert w_all @ w_sv / (np.linalg.norm(w_all) * np.linalg.norm(w_sv)) > 0.99999
    assert np.linalg.norm(w_sv - w_all) / np.linalg.norm(w_all) < 1e-3
