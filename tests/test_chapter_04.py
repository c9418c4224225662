"""Chapter 04 (squared hinge): the identities its narrative relies on, its margin explorer, and its structure.

The chapter shows one oracle cross-check at margin 1; the other margins and reductions are checked here, against
references built independently of ``utils`` (the scaling identity below and plain Python arithmetic).
"""

from pathlib import Path

import jupytext
import matplotlib
import pytest
import torch
import torch.nn.functional as F

matplotlib.use("Agg")

import utils  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "chapters" / "04_squared_hinge.py"
F64 = torch.float64


@pytest.mark.parametrize("margin", [0.25, 1.0, 2.5])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_squared_hinge_at_any_margin_is_a_rescaled_torch_oracle(margin, reduction):
    # max(0, m - ys)^2 = m^2 max(0, 1 - y (s/m))^2, and the latter is 2 * multi_margin_loss(p=2) on [0, s/m].
    g = torch.Generator().manual_seed(4)
    s = torch.randn(300, generator=g, dtype=F64) * 3
    y = torch.where(torch.rand(300, generator=g) < 0.5, -1.0, 1.0).to(F64)
    per = 2 * margin**2 * F.multi_margin_loss(torch.stack([0 * s, s / margin], 1), ((y + 1) // 2).long(), p=2,
                                              reduction="none")
    expected = {"none": per, "mean": per.mean(), "sum": per.sum()}[reduction]
    torch.testing.assert_close(utils.squared_hinge_loss(s, y, margin=margin, reduction=reduction), expected)


def test_squared_hinge_is_hinge_times_violation_smaller_below_one_larger_above():
    u = torch.tensor([-1.0, 0.0, 0.25, 0.5, 1.0, 2.0, 4.0], dtype=F64)  # violation 1 - ys, with y = +1
    s, y = 1 - u, torch.ones_like(u)
    hinge = utils.hinge_loss(s, y, reduction="none")
    squared = utils.squared_hinge_loss(s, y, reduction="none")
    assert squared.tolist() == [max(0.0, v) ** 2 for v in u.tolist()]
    assert torch.equal(squared, hinge * u.clamp(min=0))
    inside = (u > 0) & (u < 1)
    assert bool((squared[inside] < hinge[inside]).all()) and bool((squared[u > 1] > hinge[u > 1]).all())


def test_gradient_is_continuous_at_the_margin_for_squared_hinge_and_jumps_for_hinge():
    for margin in (0.5, 1.0, 2.0):
        for h in (1e-3, 1e-6):
            ys = torch.tensor([margin - h, margin, margin + h], dtype=F64, requires_grad=True)
            (g_sq,) = torch.autograd.grad(utils.squared_hinge_loss(ys, torch.ones_like(ys), margin=margin,
                                                                   reduction="sum"), ys)
            (g_h,) = torch.autograd.grad(utils.hinge_loss(ys, torch.ones_like(ys), margin=margin, reduction="sum"), ys)
            torch.testing.assert_close(g_sq, torch.tensor([-2 * h, 0.0, 0.0], dtype=F64))
            assert g_h.tolist() == [-1.0, -1.0, 0.0]  # hinge: jump of 1; the kink itself counts as active


def _cells():
    return [c for c in jupytext.read(SOURCE, fmt="py:percent").cells if c.cell_type == "code"]


def test_margin_explorer_redraws_with_active_examples_counted(monkeypatch):
    """Run the chapter's widget cell on a small synthetic batch and move the slider."""
    import matplotlib.pyplot as plt

    cells = _cells()
    source = {name: next(c.source for c in cells if marker in c.source)
              for name, marker in [("grads", "def squared_hinge_grad"), ("hinge_grad", "def hinge_grad"),
                                   ("widget", "explore(draw")]}
    widget_cell = next(c for c in cells if "explore(draw" in c.source)
    assert "nbval-ignore-output" in widget_cell.metadata.get("tags", [])
    from utils.interactive import explore

    ys = torch.tensor([-1.0, 0.2, 0.9, 1.5, 2.5, 8.0], dtype=F64)  # margins y s of six training examples
    ns = {"torch": torch, "F": F, "utils": utils, "plt": plt, "math": __import__("math"), "explore": explore,
          "PALETTE": ["C0", "C1", "C2", "C3"], "MARGIN": 1.0, "ones": torch.ones_like}
    exec(source["grads"].split("def squared_hinge_oracle")[0], ns)
    exec(source["hinge_grad"].split("ones = torch.ones_like")[0], ns)
    ns["losses"] = {"hinge": (utils.hinge_loss, ns["hinge_grad"]),
                    "squared hinge": (utils.squared_hinge_loss, ns["squared_hinge_grad"])}
    # one clean labelling; scores chosen so that y * (X w + b) == ys
    ns["X"], ns["y_train"] = ys[:, None], torch.ones_like(ys)
    ns["trained"] = {"squared hinge": (torch.ones(1, 1, dtype=F64), torch.zeros(1, dtype=F64))}
    titles = []
    real_suptitle = matplotlib.figure.Figure.suptitle
    monkeypatch.setattr(matplotlib.figure.Figure, "suptitle",
                        lambda self, t, **kw: titles.append(t) or real_suptitle(self, t, **kw))
    exec(widget_cell.source, ns)
    explorer = ns["explore"](ns["draw"], margin=(0.0, 3.0, 0.1, 1.0))
    for m in (0.0, 2.0, 3.0):
        explorer.sliders["margin"].value = m
    counts = [int(t.split(": ")[1].split(" of ")[0]) for t in titles]
    # brute force: examples with ys < m (the one at 8 is drawn at the edge 5.9 but stays inactive)
    assert counts == [sum(v < m for v in ys.tolist()) for m in (1.0, 1.0, 0.0, 2.0, 3.0)]  # cell, call, 3 moves
    assert titles[-1].startswith("m = 3.00: 5 of 6")
    plt.close("all")


def test_structure_margin_constant_links_and_no_internal_citations():
    text = SOURCE.read_text()
    assert "MARGIN = " in text and "margin=MARGIN" in text
    assert "](../REFERENCES.md#oracles)" in text
