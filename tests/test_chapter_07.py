"""Checks moved out of chapter 07 (triplet margin loss): the analytic gradients of section 2, the `eps`
pitfall of section 5 and pytorch-metric-learning's defaults, each against an independent reference."""

import math
from pathlib import Path

import jupytext
import torch
import torch.nn.functional as F
from pytorch_metric_learning import losses as pml_losses
from pytorch_metric_learning.distances import LpDistance
from pytorch_metric_learning.reducers import AvgNonZeroReducer, MeanReducer
from torch import nn
from torch.testing import assert_close

import utils

F64 = torch.float64


def random_triplets(n=64, d=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(n, d, generator=g, dtype=F64) for _ in range(3)]


def test_section_2_gradients_on_every_active_triplet():
    a, p, n = (t.requires_grad_(True) for t in random_triplets())
    per = utils.triplet_margin_loss(a, p, n, margin=1.0, reduction="none")
    ga, gp, gn = torch.autograd.grad(per.sum(), (a, p, n))
    active = (per > 0).unsqueeze(1).to(F64)
    assert 0 < active.sum() < 64  # both kinds present
    with torch.no_grad():
        u_ap = (a - p) / (a - p).norm(dim=1, keepdim=True)
        u_an = (a - n) / (a - n).norm(dim=1, keepdim=True)
    assert_close(gp, -u_ap * active)  # (p - a) / d(a, p)
    assert_close(gn, u_an * active)  # -(n - a) / d(a, n)
    assert_close(ga, (u_ap - u_an) * active)
    assert_close(ga + gp + gn, torch.zeros_like(ga), rtol=0, atol=1e-14)


def test_section_5_eps_pushes_an_anchor_equal_to_its_positive():
    D = 128
    g = torch.Generator().manual_seed(1)
    a = torch.randn(1, D, generator=g, dtype=F64)
    n = a + 0.01 * torch.randn(1, D, generator=g, dtype=F64)
    assert_close(F.pairwise_distance(a, a), torch.tensor([1e-6 * math.sqrt(D)], dtype=F64))
    grads = {}
    for name, loss in {
        "torch default": lambda p: nn.TripletMarginLoss(margin=1.0, p=2)(a, p, n),
        "torch eps=0": lambda p: F.triplet_margin_loss(a, p, n, margin=1.0, eps=0),
        "utils": lambda p: utils.triplet_margin_loss(a, p, n, margin=1.0),
    }.items():
        p = a.clone().requires_grad_(True)
        (grads[name],) = torch.autograd.grad(loss(p), p)
    assert_close(grads["torch default"], torch.full((1, D), -1 / math.sqrt(D), dtype=F64))
    assert torch.equal(grads["torch eps=0"], torch.zeros(1, D, dtype=F64))
    assert torch.equal(grads["utils"], torch.zeros(1, D, dtype=F64))


def test_pml_configured_equals_the_chapter_and_its_default_reducer_averages_active_only():
    a, p, n = random_triplets()
    idx = torch.arange(64)
    emb, triplets = torch.cat([a, p, n]), (idx, idx + 64, idx + 128)
    d_ap, d_an = (a - p).norm(dim=1), (a - n).norm(dim=1)
    per = torch.clamp(d_ap - d_an + 1.0, min=0)  # independent: the formula itself
    dist = LpDistance(normalize_embeddings=False)
    mean = pml_losses.TripletMarginLoss(margin=1.0, distance=dist, reducer=MeanReducer())
    nonzero = pml_losses.TripletMarginLoss(margin=1.0, distance=dist, reducer=AvgNonZeroReducer())
    assert_close(mean(emb, indices_tuple=triplets), per.mean())
    assert_close(nonzero(emb, indices_tuple=triplets), per[per > 0].mean())
    # out of the box PML normalises the embeddings: its loss is the chapter's on unit vectors, margin 0.05
    unit = F.normalize(emb, dim=1)
    ua, up, un = unit[:64], unit[64:128], unit[128:]
    per_unit = torch.clamp((ua - up).norm(dim=1) - (ua - un).norm(dim=1) + 0.05, min=0)
    assert_close(pml_losses.TripletMarginLoss()(emb, indices_tuple=triplets), per_unit[per_unit > 0].mean())


def test_section_3_spread_of_delta_lifts_the_mean_loss_above_the_margin():
    # E[max(0, delta + 1)] for delta ~ N(0, s^2) is Phi(1/s) + s phi(1/s): above 1 for the measured s
    g = torch.Generator().manual_seed(0)
    a, p, n = (torch.randn(20_000, 128, generator=g, dtype=F64) for _ in range(3))
    delta = (a - p).norm(dim=1) - (a - n).norm(dim=1)
    s = float(delta.std())
    normal = torch.distributions.Normal(0.0, 1.0)
    gaussian_mean = float(normal.cdf(torch.tensor(1 / s)) + s * normal.log_prob(torch.tensor(1 / s)).exp())
    measured = float(torch.clamp(delta + 1, min=0).mean())
    assert 1.1 < measured < 1.2 and abs(measured - gaussian_mean) < 0.02


ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "chapters" / "07_triplet_margin.py"


def test_margin_explorer_counts_the_active_test_triplets(monkeypatch):
    """Run the chapter's widget cell on synthetic deltas and move the slider."""
    import matplotlib
    import matplotlib.pyplot as plt

    matplotlib.use("Agg")
    from utils.interactive import explore

    cells = [c for c in jupytext.read(SOURCE, fmt="py:percent").cells if c.cell_type == "code"]
    widget = next(c for c in cells if "explore(draw" in c.source)
    assert "nbval-ignore-output" in widget.metadata.get("tags", [])
    deltas = torch.tensor([-5.0, -2.5, -1.0, -0.95, 0.0, 0.7], dtype=F64)
    titles = []
    real = matplotlib.axes.Axes.set_title
    monkeypatch.setattr(matplotlib.axes.Axes, "set_title", lambda self, t, *a, **k: titles.append(t) or real(self, t, *a, **k))
    ns = {"torch": torch, "plt": plt, "explore": explore, "PALETTE": ["C0", "C1", "C2"], "MARGIN": 1.0,
          "test_deltas": lambda model: deltas, "model": None}
    exec(widget.source, ns)
    explorer = explore(ns["draw"], margin=(0.0, 4.0, 0.1, 1.0))
    for m in (0.0, 2.5, 4.0):
        explorer.sliders["margin"].value = m
    counts = [int(t.split(": ")[1].split(" of ")[0]) for t in titles if t.startswith("m = ")]
    # brute force: a triplet is active when delta + m >= 0 (the kink counts, as in utils)
    assert counts == [sum(d + m >= 0 for d in deltas.tolist()) for m in (1.0, 1.0, 0.0, 2.5, 4.0)]
    assert counts == [4, 4, 2, 5, 5]  # at m = 1 the triplet on the kink (delta = -1) is active
    plt.close("all")


def test_structure_margin_constant_links_and_no_internal_citations():
    text = SOURCE.read_text()
    assert "MARGIN = " in text and "margin=MARGIN" in text
    assert "](../REFERENCES.md#oracles)" in text
    assert "notebook 09" not in text  # the mining chapter is 10
