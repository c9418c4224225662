"""Chapter 01 (binary margins): the chapter's own functions against independent references.

The chapter keeps one visible cross-check (its region counts against ``F.margin_ranking_loss``); the
checks below are the exhaustive ones: the sign rule against scikit-learn on real data, the region counts
on quantised scores with exact ties, and the claim "the margin 1 is a convention".
"""

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from sklearn.metrics import accuracy_score
from sklearn.svm import LinearSVC

import utils
from utils.data import breast_cancer
from utils.training import LinearScorer, accuracy, fit

from chapter_source import chapter_functions  # noqa: E402  (tests/chapter_source.py)

ROOT = Path(__file__).resolve().parent.parent


NS = chapter_functions("01_binary_margins", "predict", "margins", "count_regions")


def quantised(n, seed):
    g = torch.Generator().manual_seed(seed)
    scores = torch.randint(-12, 13, (n,), generator=g).double() / 4  # multiples of 1/4: exact ties occur
    targets = torch.where(torch.rand(n, generator=g) < 0.5, -1.0, 1.0).double()
    return scores, targets


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("margin", [0.5, 1.0, 2.0])
def test_regions_partition_and_match_the_ranking_oracle_with_ties(seed, margin):
    scores, targets = quantised(200, seed)
    ys = targets * scores
    assert bool((ys == 0).any()) and bool((ys == margin).any())  # the ties really occur
    wrong, inside, safe = NS["count_regions"](scores, targets, margin=margin)
    assert wrong + inside + safe == len(scores)
    zeros = torch.zeros_like(scores)
    # margin_ranking_loss(s, 0, y, margin=m) = max(0, m - ys): positive exactly when ys < m
    assert int((F.margin_ranking_loss(scores, zeros, targets, margin=margin, reduction="none") > 0).sum()) \
        == wrong + inside
    assert safe == int(sum(1 for v in ys.tolist() if v >= margin))  # a plain Python loop


def test_sign_rule_sends_ties_to_plus_one_unlike_torch_sign():
    s = torch.tensor([-1.0, -0.0, 0.0, 2.0], dtype=torch.float64)
    assert NS["predict"](s).tolist() == [-1.0, 1.0, 1.0, 1.0]
    assert torch.sign(s).tolist()[1:3] == [0.0, 0.0]


def test_accuracy_of_the_sign_rule_equals_sklearn_on_breast_cancer():
    data = breast_cancer()
    svc = LinearSVC(loss="hinge", C=1 / (0.01 * len(data.y_train)), dual=True, tol=1e-6, max_iter=100_000,
                    random_state=0).fit(data.X_train.numpy(), data.y_train.numpy())
    scores = torch.as_tensor(svc.decision_function(data.X_test.numpy()))
    assert not bool((scores == 0).any())  # no ties, so the tie conventions cannot differ here
    wrong, inside, safe = NS["count_regions"](scores, data.y_test, margin=1.0)
    expected = accuracy_score(data.y_test.numpy(), svc.predict(data.X_test.numpy()))
    assert accuracy(scores, data.y_test) == pytest.approx(expected, abs=1e-12)
    assert (inside + safe) / len(scores) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("m", [0.5, 2.0, 4.0])
def test_margin_m_with_penalty_over_m_is_m_times_the_margin_one_solution(m):
    data = breast_cancer()
    one, scaled = LinearScorer(30), LinearScorer(30)
    fit(one, data.X_train, data.y_train, utils.hinge_loss, epochs=100, lr=0.1, weight_decay=0.01)
    fit(scaled, data.X_train, data.y_train, utils.hinge_loss, epochs=100, lr=0.1 * m, weight_decay=0.01 / m,
        margin=m)
    torch.testing.assert_close(scaled.linear.weight, m * one.linear.weight, rtol=1e-10, atol=1e-12)
    with torch.no_grad():
        assert torch.equal(NS["predict"](scaled(data.X_test)), NS["predict"](one(data.X_test)))
