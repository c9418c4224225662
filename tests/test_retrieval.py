"""utils.retrieval against brute-force loops and against pytorch-metric-learning's
AccuracyCalculator (precision_at_1, mean_average_precision_at_r), leave-one-out.

PML is configured without faiss: knn_func=CustomKNN(LpDistance(normalize_embeddings=False)), and
query = reference (``get_accuracy(x, labels)`` with no reference), which makes PML exclude each
query from its own neighbours and drop "lone" queries whose class has no other member.
"""

import math

import pytest
import torch
from pytorch_metric_learning.distances import LpDistance
from pytorch_metric_learning.utils.accuracy_calculator import AccuracyCalculator
from pytorch_metric_learning.utils.inference import CustomKNN

from utils.retrieval import evaluate_retrieval, map_at_r, recall_at_k

F64 = torch.float64


def batch(n, d=8, num_classes=5, seed=0, dtype=F64, grid=False, spread=1.0):
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, num_classes, (n,), generator=g)
    if grid:
        x = torch.randint(0, 3, (n, d), generator=g).to(dtype)
    else:
        centres = torch.randn(num_classes, d, generator=g, dtype=F64) * spread
        x = (centres[labels] + torch.randn(n, d, generator=g, dtype=F64)).to(dtype)
    return x, labels


def ranked(x, labels, q):
    """Other examples sorted by (distance, index): the documented tie rule."""
    rows = x.tolist()
    others = [j for j in range(len(rows)) if j != q]
    return sorted(others, key=lambda j: (math.dist(rows[q], rows[j]), j))


def loop_recall(x, labels, k):
    y = labels.tolist()
    hits = []
    for q in range(len(y)):
        if y.count(y[q]) < 2:
            continue  # lone query
        hits.append(any(y[j] == y[q] for j in ranked(x, labels, q)[:k]))
    return sum(hits) / len(hits)


def loop_map_at_r(x, labels):
    y = labels.tolist()
    scores = []
    for q in range(len(y)):
        r = y.count(y[q]) - 1
        if r == 0:
            continue
        neighbours = ranked(x, labels, q)[:r]
        total, correct = 0.0, 0
        for i, j in enumerate(neighbours, start=1):
            if y[j] == y[q]:
                correct += 1
                total += correct / i  # P(i) * rel(i)
        scores.append(total / r)
    return sum(scores) / len(scores)


CASES = [
    dict(n=30, num_classes=3, seed=0),
    dict(n=50, num_classes=7, seed=1, spread=2.0),
    dict(n=40, num_classes=25, seed=2),  # lone queries
    dict(n=25, num_classes=4, seed=3, grid=True, d=3),  # exact distance ties
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("k", [1, 2, 5])
def test_recall_at_k_equals_loop(case, k):
    x, labels = batch(**case)
    assert recall_at_k(x, labels, k=k) == pytest.approx(loop_recall(x, labels, k), abs=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_map_at_r_equals_loop(case):
    x, labels = batch(**case)
    assert map_at_r(x, labels) == pytest.approx(loop_map_at_r(x, labels), abs=1e-12)


def test_grid_case_has_ties_that_matter():
    """With ties the rule changes the answer: ranking ties by DEscending index gives another MAP@R."""
    x, labels = batch(**CASES[3])
    d = torch.cdist(x, x)
    assert (d.unsqueeze(2) == d.unsqueeze(1)).sum() > d.numel()  # some equal distances in a row
    flipped = torch.arange(len(labels) - 1, -1, -1)
    assert map_at_r(x[flipped], labels[flipped]) != pytest.approx(map_at_r(x, labels), abs=1e-9)


def pml_accuracy(x, labels):
    calculator = AccuracyCalculator(
        include=("precision_at_1", "mean_average_precision_at_r"),
        knn_func=CustomKNN(LpDistance(normalize_embeddings=False)),
        device=torch.device("cpu"),
    )
    return calculator.get_accuracy(x, labels)  # reference = query, self excluded


@pytest.mark.parametrize("case", CASES[:3] + [dict(n=300, d=16, num_classes=12, seed=4)])
def test_matches_pml_accuracy_calculator(case):
    x, labels = batch(**case, dtype=torch.float32)  # PML computes in float32
    expected = pml_accuracy(x, labels)
    assert recall_at_k(x, labels, k=1) == pytest.approx(expected["precision_at_1"], abs=1e-6)
    assert map_at_r(x, labels) == pytest.approx(expected["mean_average_precision_at_r"], abs=1e-6)
    assert evaluate_retrieval(x, labels) == pytest.approx(
        {"recall_at_1": expected["precision_at_1"], "map_at_r": expected["mean_average_precision_at_r"]},
        abs=1e-6,
    )


def test_known_values():
    x = torch.tensor([[0.0], [0.1], [1.0], [1.2], [5.0]])
    labels = torch.tensor([0, 0, 1, 1, 2])  # class 2 is a lone query: left out
    assert map_at_r(x, labels) == 1.0 and recall_at_k(x, labels) == 1.0
    # query 0 (label 0): neighbours 1 (0.1, label 0) ... MAP@R 1; make it miss:
    labels = torch.tensor([0, 1, 0, 1, 1])
    # R: q0 -> 1, q1 -> 2, q2 -> 1, q3 -> 2, q4 -> 2
    # q0 ranks 1(l1): 0; q1 ranks 0(l0), 2(l0): 0; q2 ranks 3(l1): 0;
    # q3 ranks 2(l0), 1(l1): P(2)=1/2 -> 1/4; q4 ranks 3(l1), 2(l0): P(1)=1 -> 1/2
    assert map_at_r(x, labels) == pytest.approx((0 + 0 + 0 + 0.25 + 0.5) / 5)
    assert recall_at_k(x, labels, k=1) == pytest.approx(1 / 5)


def test_cosine_metric_is_scale_invariant():
    x, labels = batch(n=40, num_classes=4, seed=5)
    scale = torch.rand(40, 1, generator=torch.Generator().manual_seed(0), dtype=F64) * 10 + 0.1
    assert map_at_r(x * scale, labels, metric="cosine") == pytest.approx(map_at_r(x, labels, metric="cosine"))


def test_errors_are_clear():
    x, labels = batch(n=10, num_classes=2, seed=0)
    with pytest.raises(ValueError, match=r"k must be an integer in \[1, N - 1\] = \[1, 9\]"):
        recall_at_k(x, labels, k=10)
    with pytest.raises(ValueError, match="k must be"):
        recall_at_k(x, labels, k=0)
    with pytest.raises(ValueError, match="single example"):
        map_at_r(x, torch.arange(10))
    with pytest.raises(ValueError, match="one label per embedding"):
        map_at_r(x, labels[:-1])
    with pytest.raises(TypeError, match="integer class labels"):
        recall_at_k(x, labels.float())
    with pytest.raises(TypeError, match="floating-point"):
        map_at_r(x.long(), labels)
    with pytest.raises(ValueError, match="metric must be one of"):
        map_at_r(x, labels, metric="manhattan")
