"""Small training loops the chapters share, with the margin bookkeeping the chapter asks for.

``fit`` trains any model whose outputs go straight into a loss of the form
``loss_fn(outputs, targets, reduction="none")`` (scores for binary losses, (N, C) scores for
multiclass ones) and records, per epoch, the mean loss and the fraction of examples that still
receive gradient: the chapter's "examples outside the margin do not contribute gradients".
Introduced in: 02 Hinge loss.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn

LossFn = Callable[..., torch.Tensor]


@dataclass
class History:
    """Per-epoch records of ``fit``: mean training loss, fraction of examples with non-zero gradient."""

    loss: list[float] = field(default_factory=list)
    active_fraction: list[float] = field(default_factory=list)


class LinearScorer(nn.Module):
    """``s = w·x + b``: one real score per example, shape (N, D) -> (N,). Introduced in: 02 Hinge loss."""

    def __init__(self, in_features: int, *, dtype: torch.dtype = torch.float64):
        super().__init__()
        self.linear = nn.Linear(in_features, 1, dtype=dtype)
        nn.init.zeros_(self.linear.weight)  # a convex problem: start at 0, the result is reproducible
        nn.init.zeros_(self.linear.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x).squeeze(-1)


def active_fraction(outputs: torch.Tensor, targets: torch.Tensor, loss_fn: LossFn, **loss_kwargs) -> float:
    """Fraction of examples whose loss has a non-zero gradient with respect to their outputs.

    ``outputs`` is (N,) or (N, C); per-example losses come from ``loss_fn(..., reduction="none")``.
    """
    outputs = outputs.detach().requires_grad_(True)
    per_example = loss_fn(outputs, targets, reduction="none", **loss_kwargs)
    (grad,) = torch.autograd.grad(per_example.sum(), outputs)
    nonzero = grad != 0 if grad.ndim == 1 else (grad != 0).any(dim=1)
    return nonzero.double().mean().item()


def fit(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    loss_fn: LossFn,
    *,
    epochs: int = 200,
    lr: float = 0.1,
    weight_decay: float = 0.0,
    optimizer: str = "sgd",
    batch_size: int | None = None,
    seed: int = 0,
    **loss_kwargs,
) -> History:
    """Train ``model`` on (X, y) with ``loss_fn``; full batch unless ``batch_size`` is given.

    Parameters
    ----------
    model : nn.Module
        Maps X of shape (N, D) to outputs of shape (N,) or (N, C).
    X, y : torch.Tensor
        Inputs (N, D) and targets (N,) in the convention ``loss_fn`` expects.
    loss_fn : callable
        ``loss_fn(outputs, targets, reduction=..., **loss_kwargs)``, e.g. ``utils.hinge_loss``.
    epochs, lr, weight_decay : training hyper-parameters (weight decay is an L2 penalty on all parameters).
    optimizer : {"sgd", "adam"}
    batch_size : int, optional
        Mini-batch size; shuffled with ``seed`` each epoch.

    Returns
    -------
    History
        Mean loss and active fraction over the whole training set, measured after each epoch.
    """
    if optimizer not in ("sgd", "adam"):
        raise ValueError(f"optimizer must be 'sgd' or 'adam', got {optimizer!r}")
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X and y must have the same number of rows, got {X.shape[0]} and {y.shape[0]}")
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    opt_cls = torch.optim.SGD if optimizer == "sgd" else torch.optim.Adam
    opt = opt_cls(model.parameters(), lr=lr, weight_decay=weight_decay)
    generator = torch.Generator().manual_seed(seed)
    n = X.shape[0]
    history = History()
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator) if batch_size else torch.arange(n)
        for start in range(0, n, batch_size or n):
            idx = order[start : start + (batch_size or n)]
            opt.zero_grad()
            loss_fn(model(X[idx]), y[idx], reduction="mean", **loss_kwargs).backward()
            opt.step()
        with torch.no_grad():
            outputs = model(X)
            history.loss.append(loss_fn(outputs, y, reduction="mean", **loss_kwargs).item())
        history.active_fraction.append(active_fraction(outputs, y, loss_fn, **loss_kwargs))
    return history


def accuracy(outputs: torch.Tensor, targets: torch.Tensor) -> float:
    """Accuracy of scores (N,) against {-1,+1} targets (sign, 0 counts as +1), or of (N, C) scores
    against class indices (argmax)."""
    if outputs.ndim == 1:
        predicted = torch.where(outputs >= 0, 1.0, -1.0).to(targets.dtype)
    else:
        predicted = outputs.argmax(dim=1)
    return (predicted == targets).double().mean().item()
