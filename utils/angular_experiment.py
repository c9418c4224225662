"""The experiment of chapter 12: train a small network with an angular-margin loss and measure how
compact and how separated the classes are on the unit sphere.

Introduced in: 12 Margins with normalized embeddings.

``train_angular`` trains a 64 -> 64 -> dim MLP (ReLU) and a matrix ``W`` (C, dim) of class directions,
full batch, with Adam, in float64. ``angular_stats`` measures, on L2-normalised features:

- ``acc``: accuracy in percent, predicting the class direction of largest cosine;
- ``spread``: mean angle (degrees) between each feature and its class's mean direction;
- ``gap``: smallest angle (degrees) between two class mean directions.

float64 matters: a 2-D run is chaotic (a change of 1e-12 in the initial weights changes its outcome in
the fourth digit), and float32 round-off (1e-7) moves it by whole degrees.
"""

from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from utils.angular import cosine_logits

__all__ = ["train_angular", "angular_stats", "compare_losses", "jitter_change"]

LossFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def _check_data(X: torch.Tensor, y: torch.Tensor) -> None:
    if X.ndim != 2 or y.ndim != 1 or X.shape[0] != y.shape[0]:
        raise ValueError(f"X must be (N, D) and y (N,) with the same N; got {tuple(X.shape)} and {tuple(y.shape)}")
    if X.dtype != torch.float64:
        raise TypeError(f"X must be float64 (a 2-D run is chaotic in float32); got {X.dtype}. "
                        f"Fix: utils.data.digits(dtype=torch.float64).")


def train_angular(loss_fn: LossFn, X: torch.Tensor, y: torch.Tensor, *, dim: int, steps: int, seed: int,
                  classes: int = 10, lr: float = 0.02, jitter: float = 0.0,
                  noise_seed: int = 12345) -> tuple[nn.Module, torch.Tensor]:
    """Train an MLP (D -> 64 -> dim) and class directions W (classes, dim) with ``loss_fn(z, W, y)``.

    Introduced in: 12 Margins with normalized embeddings.

    Parameters
    ----------
    loss_fn : callable
        ``loss_fn(features (N, dim), W (classes, dim), targets (N,))`` -> scalar, e.g.
        ``lambda z, W, y: utils.angular.cosface_loss(z, W, y, margin=0.1, scale=16.0)``.
    X : Tensor of shape (N, D), float64; y : Tensor of shape (N,), int64 class indices
    dim : int
        Feature dimension (2 draws a circle).
    steps : int
        Full-batch Adam steps.
    seed : int
        Initialisation seed: the same seed gives every loss the same starting network and W.
    lr : float
    jitter : float
        Multiplies every initial weight by ``1 + jitter * N(0, 1)`` noise (drawn from ``noise_seed``
        after the initialisation), to measure how sensitive the outcome is. 0 leaves them unchanged.

    Returns
    -------
    (net, W)
        The trained network and the class directions, detached, shape (classes, dim).
    """
    _check_data(X, y)
    if steps < 1 or dim < 1:
        raise ValueError(f"steps and dim must be >= 1; got steps={steps}, dim={dim}")
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(X.shape[1], 64), nn.ReLU(), nn.Linear(64, dim)).to(torch.float64)
    W = nn.Parameter(torch.randn(classes, dim, dtype=torch.float64))
    if jitter:
        noise = torch.Generator().manual_seed(noise_seed)
        with torch.no_grad():
            for p in [*net.parameters(), W]:
                p.mul_(1 + jitter * torch.randn(p.shape, generator=noise, dtype=torch.float64))
    opt = torch.optim.Adam([*net.parameters(), W], lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(net(X), W, y).backward()
        opt.step()
    return net, W.detach()


def angular_stats(net: nn.Module, W: torch.Tensor, X: torch.Tensor, y: torch.Tensor) -> dict:
    """Accuracy (%), spread and min gap (degrees) of the normalised features of ``net(X)``.

    Introduced in: 12 Margins with normalized embeddings.

    Every class must occur in ``y``. Returns ``dict(acc, spread, gap, z)`` with ``z`` the unit
    features, shape (N, dim).
    """
    classes = W.shape[0]
    if set(y.unique().tolist()) != set(range(classes)):
        raise ValueError(f"y must hold every class 0..{classes - 1} (a class mean needs examples)")
    with torch.no_grad():
        z = F.normalize(net(X), dim=1)
        acc = (cosine_logits(z, W.to(z.dtype)).argmax(1) == y).double().mean().item()
        means = torch.stack([F.normalize(z[y == c].mean(0), dim=0) for c in range(classes)])
        spread = torch.arccos((z * means[y]).sum(1).clamp(-1, 1)).mean().item()
        between = torch.arccos((means @ means.T).clamp(-1, 1)) + torch.diag(torch.full((classes,), math.inf))
    return dict(acc=100 * acc, spread=math.degrees(spread), gap=math.degrees(between.min().item()), z=z)


def compare_losses(losses: dict[str, LossFn], train: tuple, test: tuple, *, dim: int, steps: int,
                   seed: int) -> dict:
    """Train once per loss from the same initialisation; measure on both splits.

    Introduced in: 12 Margins with normalized embeddings.

    ``train`` and ``test`` are ``(X, y)`` pairs. Returns ``{name: dict(W=..., train=stats, test=stats)}``
    with the stats of :func:`angular_stats`.
    """
    results = {}
    for name, loss_fn in losses.items():
        net, W = train_angular(loss_fn, *train, dim=dim, steps=steps, seed=seed)
        results[name] = dict(W=W, train=angular_stats(net, W, *train), test=angular_stats(net, W, *test))
    return results


def jitter_change(loss_fn: LossFn, train: tuple, test: tuple, *, dim: int, steps: int, seed: int,
                  reference: dict, jitter: float = 1e-12, noise_seed: int = 12345) -> float:
    """How far a run moves when its initial weights get relative noise of size ``jitter``.

    Introduced in: 12 Margins with normalized embeddings.

    Trains ``loss_fn`` with :func:`train_angular` (``jitter`` applied, noise drawn from ``noise_seed``)
    and returns the largest absolute change of the test ``acc``, ``spread`` and ``gap`` against
    ``reference`` (the :func:`angular_stats` of the same run without noise). A change many orders of
    magnitude above ``jitter`` means the training is chaotic: its single runs are not reproducible
    across CPUs that sum in a different order.
    """
    net, W = train_angular(loss_fn, *train, dim=dim, steps=steps, seed=seed, jitter=jitter, noise_seed=noise_seed)
    moved = angular_stats(net, W, *test)
    return max(abs(moved[k] - reference[k]) for k in ("acc", "spread", "gap"))
