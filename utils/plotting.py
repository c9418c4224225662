"""The book's figures: one shared style, and the loss-and-gradient plot every loss chapter uses.

Importing this module applies the book style (``use_book_style``). It imports matplotlib, so it is
kept out of ``utils/__init__`` (importing ``utils`` stays fast).
Introduced in: 01 Binary classification margins (style), 02 Hinge loss (loss/gradient plot).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import matplotlib
import matplotlib.pyplot as plt
import torch

# Colour-blind-safe palette (Okabe-Ito), in the order losses are introduced.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]

BOOK_STYLE = {
    "figure.figsize": (8.0, 3.2),
    "figure.dpi": 80,  # small PNGs keep stored notebooks light
    "savefig.dpi": 80,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "lines.linewidth": 2.0,
    "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
    "figure.constrained_layout.use": True,
}


def use_book_style() -> None:
    """Apply the book's matplotlib style (done once on import of this module)."""
    plt.rcParams.update(BOOK_STYLE)


use_book_style()

LossFn = Callable[[torch.Tensor], torch.Tensor]


@dataclass
class LossPlot:
    """What ``plot_loss_and_gradient`` drew, so a notebook can assert on it.

    ``max_gradient_gap[name]`` is the largest |autograd - analytic| over the grid, kinks excluded.
    """

    fig: plt.Figure
    axes: Sequence[plt.Axes]
    x: torch.Tensor
    max_gradient_gap: dict[str, float] = field(default_factory=dict)


def autograd_derivative(loss_fn: LossFn, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-point loss and d loss / d x by autograd, for an elementwise ``loss_fn``.

    Parameters
    ----------
    loss_fn : callable
        Maps a 1-D tensor of shape (M,) to per-point losses of shape (M,).
    x : torch.Tensor
        Points of shape (M,); a float64 copy is differentiated.

    Returns
    -------
    (loss, grad) : tuple of torch.Tensor, each of shape (M,)
    """
    x = x.detach().to(torch.float64).requires_grad_(True)
    loss = loss_fn(x)
    if loss.shape != x.shape:
        raise ValueError(f"loss_fn must return one loss per point, shape {tuple(x.shape)}; got {tuple(loss.shape)}")
    (grad,) = torch.autograd.grad(loss.sum(), x)
    return loss.detach(), grad.detach()


def plot_loss_and_gradient(
    losses: Mapping[str, LossFn],
    derivatives: Mapping[str, LossFn] | None = None,
    *,
    x: torch.Tensor | None = None,
    xlabel: str = "margin $ys$ (score units)",
    kinks: Sequence[float] = (),
    margin: float | None = None,
    title: str | None = None,
) -> LossPlot:
    """Plot losses (left) and their derivatives (right) against the margin variable.

    Autograd's derivative is drawn as dots over the analytic derivative's line, so any disagreement
    is visible; kinks are marked with dotted vertical lines and the margin with a dashed one.

    Parameters
    ----------
    losses : mapping name -> callable
        Each maps points of shape (M,) to per-point losses of shape (M,).
    derivatives : mapping name -> callable, optional
        Analytic derivative of each loss, same shapes. Losses without one show autograd only.
    x : torch.Tensor, optional
        The grid, shape (M,); default 401 points on [-2, 3].
    xlabel : str
        Label of the horizontal axis, with units.
    kinks : sequence of float
        Points where a loss is not differentiable; excluded from ``max_gradient_gap``.
    margin : float, optional
        Where the required margin lies, drawn as a dashed line.
    title : str, optional
        Figure title: say what to look at.

    Returns
    -------
    LossPlot
        The figure, its two axes, the grid, and the autograd-vs-analytic gap per loss.
    """
    derivatives = dict(derivatives or {})
    unknown = set(derivatives) - set(losses)
    if unknown:
        raise ValueError(f"derivatives given for losses that are not plotted: {sorted(unknown)}")
    x = torch.linspace(-2.0, 3.0, 401, dtype=torch.float64) if x is None else x.to(torch.float64)
    fig, (ax_loss, ax_grad) = plt.subplots(1, 2)
    away = torch.ones_like(x, dtype=torch.bool)
    for k in kinks:
        away &= (x - k).abs() > 1e-9
    gaps = {}
    for colour, (name, fn) in zip(PALETTE, losses.items()):
        loss, grad = autograd_derivative(fn, x)
        ax_loss.plot(x, loss, color=colour, label=name)
        if name in derivatives:
            analytic = derivatives[name](x.detach()).to(torch.float64)
            ax_grad.plot(x, analytic, color=colour, label=f"{name}: analytic")
            gaps[name] = float((grad - analytic)[away].abs().max())
        ax_grad.plot(x[::8], grad[::8], "o", ms=3.5, color=colour, alpha=0.8, label=f"{name}: autograd")
    for ax in (ax_loss, ax_grad):
        for k in kinks:
            ax.axvline(k, color="grey", ls=":", lw=1)
        if margin is not None:
            ax.axvline(margin, color="black", ls="--", lw=1, label="margin")
        ax.set_xlabel(xlabel)
    ax_loss.set_ylabel("loss")
    ax_grad.set_ylabel("d loss / d (margin variable)")
    # Legends below the panels: never on top of a curve, the kink or the margin line.
    for ax in (ax_loss, ax_grad):
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    if title:
        fig.suptitle(title)
    return LossPlot(fig, (ax_loss, ax_grad), x, gaps)


def plot_embedding_2d(
    embedding: torch.Tensor, labels: torch.Tensor, *, ax: plt.Axes | None = None, title: str | None = None
) -> plt.Axes:
    """Scatter a 2-D embedding of shape (N, 2) coloured by integer labels of shape (N,).

    Introduced in: 07 Triplet margin loss.
    """
    embedding, labels = torch.as_tensor(embedding).detach(), torch.as_tensor(labels)
    if embedding.ndim != 2 or embedding.shape[1] != 2:
        raise ValueError(f"embedding must have shape (N, 2), got {tuple(embedding.shape)}; project it to 2-D first")
    if labels.shape != embedding.shape[:1]:
        raise ValueError(f"labels must have shape ({embedding.shape[0]},), got {tuple(labels.shape)}")
    ax = ax or plt.subplots(figsize=(4.0, 4.0))[1]
    cmap = plt.get_cmap("tab10")
    for c in labels.unique().tolist():
        pts = embedding[labels == c]
        ax.scatter(pts[:, 0], pts[:, 1], s=8, color=cmap(int(c) % 10), label=str(c), alpha=0.7)
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("embedding dim 1")
    ax.set_ylabel("embedding dim 2")
    ax.legend(title="class", markerscale=2, loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=7)
    if title:
        ax.set_title(title)
    return ax


def plot_curves(
    curves: Mapping[str, Sequence[float]], *, xlabel: str = "training step", ylabel: str, title: str | None = None,
    ax: plt.Axes | None = None,
) -> plt.Axes:
    """Plot named training curves (e.g. loss or violation fraction per step) on one axes.

    ``curves[name][i]`` is the value after step (or epoch) ``i + 1``: the axis is 1-based, as people count.
    """
    ax = ax or plt.subplots()[1]
    for name, values in curves.items():
        ax.plot(range(1, len(values) + 1), list(values), label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5))  # beside the axes, off the curves
    if title:
        ax.set_title(title)
    return ax
