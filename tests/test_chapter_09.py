"""Checks behind chapter 09's numbers: MAP@R of raw pixels with exact ties (independent numpy loop),
and the class folds' guarantee that nothing is chosen on the test classes."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

from utils.open_set import class_folds, digits_pixels
from utils.retrieval import map_at_r, recall_at_k


def map_at_r_numpy(X, y):
    """Brute force: integer squared distances (exact ties), stable ranking by index, leave-one-out."""
    sq = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    scores = []
    for q in range(len(y)):
        others = np.array([j for j in range(len(y)) if j != q])
        ranked = others[np.argsort(sq[q, others], kind="stable")]
        r = int((y == y[q]).sum()) - 1
        rel = (y[ranked[:r]] == y[q]).astype(float)
        scores.append(float((np.cumsum(rel) / np.arange(1, r + 1) * rel).sum() / r))
    return float(np.mean(scores))


@pytest.mark.slow
def test_raw_pixel_retrieval_of_7_to_9_with_ties():
    data = load_digits()
    keep = data.target >= 7
    X_int, y = data.data[keep].astype(np.int64), data.target[keep]  # pixel counts 0..16: exact
    X, y_t = digits_pixels()
    rows = y_t >= 7
    assert abs(map_at_r(X[rows], y_t[rows]) - map_at_r_numpy(X_int, y)) < 1e-12
    assert 0.62 < map_at_r(X[rows], y_t[rows]) < 0.63 and recall_at_k(X[rows], y_t[rows]) > 0.98


def test_no_fold_tests_on_a_class_it_trains_or_validates_on():
    for train, val, test in class_folds():
        assert not set(test) & (set(train) | set(val)) and not set(val) & set(train)


def test_structure_margin_constant_links_and_no_internal_citations():
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "chapters" / "09_embedding_geometry.py").read_text()
    assert "MARGIN = " in text and "margin=MARGIN" in text
    assert "](../REFERENCES.md#oracles)" in text
