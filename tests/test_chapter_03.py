"""Chapter 03 (gradient behaviour): the chapter's analytic gradients and kink statements, checked in full.

The chapter shows one check per derivative; here: the score and weight gradients against autograd over
several margins and seeds (the kink included, with the convention `utils` documents), and the docstring
of `utils.hinge_loss` against its behaviour.
"""

import inspect
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

import utils
from utils.data import breast_cancer
from utils.training import LinearScorer

from chapter_source import chapter_functions  # noqa: E402  (tests/chapter_source.py)

ROOT = Path(__file__).resolve().parent.parent


NS = chapter_functions("03_gradient_behaviour", "hinge_from_scratch", "hinge_grad", "logistic_from_scratch",
                       "logistic_grad")


def autograd(fn, s, y):
    s = s.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(fn(s, y).sum(), s)
    return g


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("margin", [0.5, 1.0, 2.0])
def test_score_gradients_match_autograd_of_the_oracles_away_from_the_kink(seed, margin):
    g = torch.Generator().manual_seed(seed)
    s = 3 * torch.randn(400, generator=g, dtype=torch.float64)
    y = torch.where(torch.rand(400, generator=g) < 0.5, -1.0, 1.0).double()
    away = (y * s - margin).abs() > 1e-6
    def oracle(s_, y_):
        return F.margin_ranking_loss(s_, torch.zeros_like(s_), y_, margin=margin, reduction="none")

    assert_close(NS["hinge_from_scratch"](s, y, margin=margin), oracle(s, y))
    assert torch.equal(autograd(oracle, s, y)[away], NS["hinge_grad"](s, y, margin=margin)[away])
    soft = lambda s_, y_: F.soft_margin_loss(s_, y_, reduction="none")  # noqa: E731
    assert_close(NS["logistic_from_scratch"](s, y), soft(s, y))
    assert_close(autograd(soft, s, y), NS["logistic_grad"](s, y))


@pytest.mark.parametrize("margin", [0.5, 1.0, 2.0])
def test_weight_gradient_formula_matches_autograd_with_examples_on_the_kink(margin):
    g = torch.Generator().manual_seed(0)
    X = torch.randint(-3, 4, (200, 5), generator=g).double()  # integer features and half-integer weights:
    y = torch.where(torch.rand(200, generator=g) < 0.5, -1.0, 1.0).double()  # every ys is an exact
    model = LinearScorer(5)  # multiple of 1/2, so examples sit exactly on the kink
    with torch.no_grad():
        model.linear.weight.copy_(torch.randint(-2, 3, (1, 5), generator=g).double() / 2)
        model.linear.bias.fill_(0.5)
        ys = y * model(X)
    assert int((ys == margin).sum()) >= 3, "the test needs examples exactly on the kink"
    assert bool((ys < margin).any()) and bool((ys > margin).any())
    utils.hinge_loss(model(X), y, margin=margin).backward()
    active = (ys <= margin).double()  # utils' documented convention: the kink counts as active
    assert_close(model.linear.weight.grad[0], -(active * y) @ X / len(y), rtol=0, atol=1e-12)
    assert_close(model.linear.bias.grad[0], -(active * y).sum() / len(y), rtol=0, atol=1e-12)


def test_weight_gradient_formula_on_breast_cancer_at_random_weights():
    data = breast_cancer()
    X, y = data.X_train, data.y_train
    model = LinearScorer(X.shape[1])
    with torch.no_grad():
        model.linear.weight.normal_(0, 0.3, generator=torch.Generator().manual_seed(1))
        ys = y * model(X)
    utils.hinge_loss(model(X), y).backward()
    active = (ys < 1).double()
    assert 0 < active.sum() < len(y)
    assert_close(model.linear.weight.grad[0], -(active * y) @ X / len(y), rtol=0, atol=1e-12)


def test_logistic_weight_gradient_formula_matches_autograd():
    data = breast_cancer()
    X, y = data.X_train, data.y_train
    model = LinearScorer(X.shape[1])
    with torch.no_grad():
        model.linear.weight.normal_(0, 1.0, generator=torch.Generator().manual_seed(2))
    utils.logistic_loss(model(X), y).backward()
    weight = torch.sigmoid(-y * model(X).detach())
    assert_close(model.linear.weight.grad[0], -(weight * y) @ X / len(y), rtol=0, atol=1e-12)


def test_utils_hinge_docstring_states_the_kink_convention_it_implements():
    notes = inspect.getdoc(utils.hinge_loss).split("Notes\n-----\n")[1]
    assert "at the kink" in notes and "it is -y" in notes
    y = torch.tensor([1.0, -1.0, 1.0], dtype=torch.float64)
    for margin in (0.5, 1.0, 2.0):
        s = (margin * y).requires_grad_(True)  # y s = margin exactly
        (g,) = torch.autograd.grad(utils.hinge_loss(s, y, margin=margin, reduction="sum"), s)
        assert torch.equal(g, -y)


@pytest.mark.parametrize("label", [1, -1])
def test_sklearn_sgd_counts_the_kink_as_active(label):
    """One hinge SGD step of scikit-learn from an example exactly on the margin moves w by -eta * (-y) * x.

    scikit-learn has no autograd; the step itself shows its choice: start at w = 1 on the feature x = label
    (so y x w = 1 exactly), learning rate eta, no regularisation. The second example has margin 1.1 > 1
    and does not move w, so dL/ds = -(w_after - w_before) / eta, with the sign of x undone.
    """
    import warnings

    from sklearn.linear_model import SGDClassifier

    x, w0, eta = np.array([[1.0], [-1.0]]) * label, 1.0, 0.1
    sgd = SGDClassifier(loss="hinge", alpha=0.0, learning_rate="constant", eta0=eta, fit_intercept=False,
                        max_iter=1, tol=None, shuffle=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one epoch: "did not converge" is expected
        sgd.fit(x, np.array([label, -label]), coef_init=np.array([[w0]]))
    grad = -(sgd.coef_[0, 0] - w0) / eta * label
    assert grad == pytest.approx(-label, abs=1e-9)  # -y: active, like utils.hinge_loss; relu would give 0
