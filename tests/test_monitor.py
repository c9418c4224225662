"""utils.monitor: violation masks against brute-force loops and the oracles of REFERENCES.md ("Oracles"); the
recorder; diagnose() on synthetic curves at and around its documented thresholds."""

import math

import pytest
import torch
import torch.nn.functional as F

import utils
from utils.monitor import (
    HEALTHY,
    TOO_FEW,
    TOO_MANY,
    MarginViolationMonitor,
    binary_violations,
    diagnose,
    multiclass_violations,
    triplet_violations,
)
from utils.training import active_fraction

F64 = torch.float64


def gen(seed):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("margin", [0.0, 0.5, 1.0, 4.0])
def test_multiclass_violations_brute_force_and_oracle(margin):
    s = 2 * torch.randn(200, 6, generator=gen(0), dtype=F64)
    y = torch.randint(0, 6, (200,), generator=gen(1))
    mask = multiclass_violations(s, y, margin=margin)
    brute = [any(s[i, j] - s[i, y[i]] + margin > 0 for j in range(6) if j != y[i]) for i in range(200)]
    assert mask.tolist() == brute
    assert torch.equal(mask, 6 * F.multi_margin_loss(s, y, margin=margin, reduction="none") > 0)
    assert torch.equal(mask, utils.multiclass_hinge_loss(s, y, margin=margin, variant="crammer_singer",
                                                        reduction="none") > 0)
    if margin > 0:  # no exact ties with continuous scores: same as the non-zero-gradient fraction
        assert mask.double().mean().item() == pytest.approx(
            active_fraction(s, y, utils.multiclass_hinge_loss, margin=margin))


def test_binary_and_triplet_violations():
    s = torch.randn(100, generator=gen(0), dtype=F64)
    y = torch.where(torch.rand(100, generator=gen(1)) < 0.5, -1.0, 1.0).double()
    assert torch.equal(binary_violations(s, y), utils.hinge_loss(s, y, reduction="none") > 0)
    a, p, n = (torch.randn(50, 4, generator=gen(k), dtype=F64) for k in (2, 3, 4))
    d_ap, d_an = (a - p).norm(dim=1), (a - n).norm(dim=1)
    ref = F.triplet_margin_loss(a, p, n, margin=0.5, eps=0, reduction="none") > 0
    assert torch.equal(triplet_violations(d_ap, d_an, margin=0.5), ref)
    with pytest.raises(ValueError, match="-1 or \\+1"):
        binary_violations(s, (y + 1) / 2)


def test_record_inputs():
    m = MarginViolationMonitor("x")
    assert m.record(torch.tensor([0.0, 2.0, 0.0, 0.1])) == 0.5
    assert m.record(torch.tensor([True, True, True, False])) == 0.75
    assert m.record(0.1, step=10) == 0.1
    assert m.record(torch.tensor([1.0])) == 1.0
    assert m.steps == [0, 1, 10, 11]
    assert m.fractions == [0.5, 0.75, 0.1, 1.0]
    with pytest.raises(ValueError, match="losses"):
        m.record(torch.tensor([-1.0, 0.5]))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        m.record(1.5)
    with pytest.raises(TypeError):
        m.record(torch.tensor([1, 0]))
    with pytest.raises(TypeError):
        m.record("0.5")


def test_diagnose_rules():
    n = 100
    healthy = [math.exp(-k / 10) * 0.9 + 0.1 for k in range(n)]
    assert diagnose(healthy).status == HEALTHY
    stuck = [1.0] * n
    assert diagnose(stuck).status == TOO_MANY
    starved = [0.5] * 10 + [0.0] * 90
    assert diagnose(starved).status == TOO_FEW
    # converging only at the end is not starvation
    late = [1 - k / 60 for k in range(60)] + [0.0] * 40
    assert diagnose(late).status == HEALTHY
    # almost all for long but recovering by the end: not flagged
    recovering = [0.95] * 60 + [0.3] * 40
    assert diagnose(recovering).status == HEALTHY


def test_diagnose_thresholds_exact():
    # exactly half the steps at >= high, tail still high -> too many; one step fewer -> healthy
    assert diagnose([0.5] * 50 + [0.9] * 50).status == TOO_MANY
    assert diagnose([0.5] * 51 + [0.9] * 49).status == HEALTHY
    assert diagnose([0.5] * 50 + [0.02] * 50).status == TOO_FEW
    assert diagnose([0.5] * 51 + [0.02] * 49).status == HEALTHY
    assert diagnose([0.5] * 51 + [0.02] * 49, long=0.4).status == TOO_FEW
    d = diagnose([1.0, 0.0, 0.5, 0.25])
    assert (d.share_quiet, d.share_busy, d.tail_mean) == (0.25, 0.25, 0.25)


def test_diagnose_errors():
    with pytest.raises(ValueError, match="empty"):
        diagnose([])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        diagnose([0.5, 1.2])
    with pytest.raises(ValueError, match="low < high"):
        diagnose([0.5], low=0.9, high=0.1)


def test_monitor_on_real_training():
    """A margin far too large for the training budget keeps everything violating; Δ = 1 does not."""
    torch.manual_seed(0)
    X = torch.randn(200, 5, generator=gen(0))
    y = (X[:, 0] > 0).long() + (X[:, 1] > 0).long()
    statuses = {}
    for margin in (1.0, 100.0):
        model = torch.nn.Linear(5, 3)
        opt = torch.optim.Adam(model.parameters(), lr=0.05)
        mon = MarginViolationMonitor()
        for _ in range(60):
            opt.zero_grad()
            per = utils.multiclass_hinge_loss(model(X), y, margin=margin, reduction="none")
            mon.record(per.detach())
            per.mean().backward()
            opt.step()
        statuses[margin] = mon.diagnose().status
    assert statuses == {1.0: HEALTHY, 100.0: TOO_MANY}


def test_plot():
    import matplotlib

    matplotlib.use("Agg")
    m = MarginViolationMonitor("run")
    for f in (1.0, 0.5, 0.2):
        m.record(f)
    ax = m.plot()
    m.plot(ax, label="again")
    xs, ys = ax.lines[0].get_data()
    assert list(xs) == [0, 1, 2] and list(ys) == [1.0, 0.5, 0.2]
    assert ax.get_ylabel() == "fraction violating the margin"
