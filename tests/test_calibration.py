"""utils.calibration against brute-force loops and independent references (scipy, scikit-learn)."""

import math
import numpy as np
import pytest
import scipy.optimize
import torch
import torch.nn.functional as F
from sklearn.linear_model import LogisticRegression
from torch.testing import assert_close

from utils.calibration import (
    expected_calibration_error,
    platt_scaling,
    reliability_bins,
    reliability_diagram,
    temperature_scaling,
)

F64 = torch.float64


def make(n=400, c=5, scale=2.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    s = scale * torch.randn(n, c, generator=g, dtype=F64)
    y = (s + 2 * torch.randn(n, c, generator=g, dtype=F64)).argmax(1)
    return s, y


def ece_loop(probs, targets, n_bins):
    """Pure-Python ECE with explicit (lo, hi] bins."""
    probs = probs.tolist()
    targets = targets.tolist()
    bins = [[] for _ in range(n_bins)]
    for row, t in zip(probs, targets):
        conf = max(row)
        pred = row.index(conf)
        b = next(b for b in range(n_bins) if conf <= (b + 1) / n_bins)
        bins[b].append((conf, pred == t))
    total = 0.0
    for items in bins:
        if items:
            acc = sum(ok for _, ok in items) / len(items)
            conf = sum(c for c, _ in items) / len(items)
            total += len(items) / len(probs) * abs(acc - conf)
    return total


@pytest.mark.parametrize("n_bins", [1, 5, 15, 40])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ece_matches_brute_force(n_bins, seed):
    s, y = make(seed=seed)
    probs = torch.softmax(s, 1)
    assert expected_calibration_error(probs, y, n_bins=n_bins) == pytest.approx(ece_loop(probs, y, n_bins), abs=1e-12)


def test_ece_known_values():
    # perfectly calibrated by construction: confidence 0.75 in one bin, 3 of 4 correct
    probs = torch.tensor([[0.75, 0.25]] * 4, dtype=F64)
    assert expected_calibration_error(probs, torch.tensor([0, 0, 0, 1])) == pytest.approx(0.0, abs=1e-12)
    # always confident and always wrong: ECE = confidence
    probs = torch.tensor([[0.9, 0.1]] * 3, dtype=F64)
    assert expected_calibration_error(probs, torch.tensor([1, 1, 1])) == pytest.approx(0.9)


def test_bins_consistent():
    s, y = make()
    bins = reliability_bins(torch.softmax(s, 1), y, n_bins=10)
    assert int(bins.count.sum()) == len(y)
    filled = bins.count > 0
    ece = (bins.count[filled] / len(y) * (bins.accuracy[filled] - bins.confidence[filled]).abs()).sum()
    assert float(ece) == pytest.approx(bins.ece)
    assert torch.isnan(bins.accuracy[~filled]).all()
    # confidence of each filled bin lies inside the bin
    assert bool(((bins.confidence[filled] > bins.edges[:-1][filled] - 1e-12)
                 & (bins.confidence[filled] <= bins.edges[1:][filled] + 1e-12)).all())


def test_ece_input_errors():
    s, y = make()
    with pytest.raises(ValueError, match="softmax"):
        expected_calibration_error(s, y)  # raw scores
    with pytest.raises(ValueError, match="sum to 1"):
        expected_calibration_error(torch.full((3, 2), 0.2), torch.tensor([0, 1, 0]))
    with pytest.raises(ValueError, match="class indices"):
        expected_calibration_error(torch.softmax(s, 1), y + 10)
    with pytest.raises(ValueError, match="n_bins"):
        expected_calibration_error(torch.softmax(s, 1), y, n_bins=0)


@pytest.mark.parametrize("scale", [0.3, 2.0, 10.0])
def test_temperature_matches_scipy(scale):
    s, y = make(scale=scale)
    res = scipy.optimize.minimize_scalar(
        lambda log_t: F.cross_entropy(s / np.exp(log_t), y).item(), bounds=(-6, 6), method="bounded",
        options={"xatol": 1e-10})
    assert temperature_scaling(s, y).temperature == pytest.approx(np.exp(res.x), rel=1e-4)


def test_temperature_keeps_predictions_and_lowers_nll():
    s, y = make(scale=8.0)
    ts = temperature_scaling(s, y)
    p = ts.predict_proba(s)
    assert torch.equal(p.argmax(1), s.argmax(1))
    assert F.nll_loss(p.log(), y) < F.cross_entropy(s, y)
    assert_close(p, torch.softmax(s / ts.temperature, 1))


def test_platt_matches_sklearn_unsmoothed():
    g = torch.Generator().manual_seed(0)
    s = torch.randn(300, generator=g, dtype=F64) * 2
    y = torch.where(torch.rand(300, generator=g, dtype=F64) < torch.sigmoid(1.5 * s - 0.5), 1.0, -1.0)
    ps = platt_scaling(s, y, smoothing=False)
    ref = LogisticRegression(C=1e12, tol=1e-12, max_iter=10000).fit(s.numpy()[:, None], y.numpy())
    assert ps.a == pytest.approx(ref.coef_[0, 0], rel=1e-4)
    assert ps.b == pytest.approx(ref.intercept_[0], rel=1e-4, abs=1e-6)
    # {0,1} labels give the same fit
    ps01 = platt_scaling(s, (y + 1) / 2, smoothing=False)
    assert ps01.a == pytest.approx(ps.a, rel=1e-8)


def test_platt_smoothing_matches_scipy_and_stays_finite_when_separable():
    s = torch.linspace(-3, 3, 40, dtype=F64)
    y = torch.where(s > 0, 1.0, -1.0)  # perfectly separable: unsmoothed MLE does not exist
    ps = platt_scaling(s, y)
    n_pos, n_neg = 20, 20
    t = np.where(y.numpy() > 0, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))

    def nll(ab):
        z = ab[0] * s.numpy() + ab[1]
        return np.mean(np.logaddexp(0, z) - t * z)

    ref = scipy.optimize.minimize(nll, [0.0, 0.0], method="BFGS", options={"gtol": 1e-12}).x
    assert np.isfinite([ps.a, ps.b]).all()
    assert ps.a == pytest.approx(ref[0], rel=1e-4)
    assert ps.b == pytest.approx(ref[1], abs=1e-5)


def test_platt_errors():
    with pytest.raises(ValueError, match="targets"):
        platt_scaling(torch.randn(4, dtype=F64), torch.tensor([0, 1, 2, 1]))


def test_reliability_diagram_draws():
    import matplotlib

    matplotlib.use("Agg")
    s, y = make()
    ax, bins = reliability_diagram(torch.softmax(s, 1), y, title="t")
    assert f"{bins.ece:.3f}" in ax.get_title()
    assert len(ax.patches) == int((bins.count > 0).sum())


def test_reliability_diagram_writes_per_bin_counts():
    import matplotlib

    matplotlib.use("Agg")
    s, y = make()
    probs = torch.softmax(s, 1)
    ax, bins = reliability_diagram(probs, y)
    written = [int(t.get_text()) for t in ax.texts if t.get_text().isdigit()]
    # independent count: a Python loop over examples and right-closed bins
    conf = probs.max(1).values.tolist()
    expected = [0] * 15
    for c in conf:
        expected[max(0, min(14, math.ceil(c * 15) - 1))] += 1
    assert written == [n for n in expected if n > 0]
    assert sum(written) == len(y)
    ax_plain, _ = reliability_diagram(probs, y, counts=False)
    assert not [t for t in ax_plain.texts if t.get_text().isdigit()]
