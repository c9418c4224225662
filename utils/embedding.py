"""A small embedding network, the training loop the embedding chapters share, and a quality measure.

Introduced in: 07 Triplet margin loss.

``train_embedding`` draws class-balanced ("PK") batches (:func:`utils.sampling.class_balanced_batches`)
and hands each batch's embeddings and labels to a ``batch_loss`` the chapter writes: random triplets
(07), random pairs (08), mined triplets (09-10) or an angular loss (11-12).
"""

from __future__ import annotations

from typing import Callable, Mapping

import torch
from torch import nn

from utils.distances import pairwise_distances
from utils.sampling import class_balanced_batches

BatchLoss = Callable[[torch.Tensor, torch.Tensor], "tuple[torch.Tensor, Mapping[str, float]] | torch.Tensor"]


class EmbeddingNet(nn.Module):
    """MLP ``x -> Linear -> ReLU -> Linear -> ReLU -> Linear -> z``, optionally L2-normalised.

    Introduced in: 07 Triplet margin loss.

    Parameters
    ----------
    in_features : int, default=64
        Input dimension D_in (64 for ``utils.data.digits``).
    hidden : int, default=128
        Width of the two hidden layers.
    out_features : int, default=2
        Embedding dimension D (2 can be plotted directly).
    normalize : bool, default=False
        If True, each output row is divided by its L2 norm (embeddings on the unit sphere,
        where Euclidean distances lie in [0, 2]); a zero row stays 0 with finite gradients.
    dtype : torch.dtype, optional
        Dtype of the parameters (default: torch's default dtype, float32). Pass ``torch.float64``
        for runs that must reproduce on any CPU: the weights are then *drawn* in float64.

    Shapes
    ------
    input (N, in_features) -> output (N, out_features), in the parameters' dtype.

    Notes
    -----
    Weights are initialised from torch's global random state: call ``utils.seed_everything``
    (or ``torch.manual_seed``) first for a reproducible network. A float32 network's initial
    weights can differ in the last bit between CPU capability levels (vectorised and scalar
    kernels round the uniform draw differently), and training amplifies that; ``.double()`` after
    construction keeps those float32 values, ``dtype=torch.float64`` does not.

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> z = EmbeddingNet(out_features=3, normalize=True)(torch.randn(5, 64))
    >>> z.shape, bool(torch.allclose(z.norm(dim=1), torch.ones(5)))
    (torch.Size([5, 3]), True)
    """

    def __init__(
        self,
        in_features: int = 64,
        hidden: int = 128,
        out_features: int = 2,
        normalize: bool = False,
        dtype: torch.dtype | None = None,
    ):
        super().__init__()
        for name, value in (("in_features", in_features), ("hidden", hidden), ("out_features", out_features)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int; got {value!r}.")
        self.normalize = bool(normalize)
        if dtype is not None and not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
            raise ValueError(f"dtype must be a floating-point torch.dtype such as torch.float64; got {dtype!r}.")
        self.net = nn.Sequential(
            nn.Linear(in_features, hidden, dtype=dtype),
            nn.ReLU(),
            nn.Linear(hidden, hidden, dtype=dtype),
            nn.ReLU(),
            nn.Linear(hidden, out_features, dtype=dtype),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.net(x)
        if self.normalize:
            norm = torch.linalg.vector_norm(z, dim=1, keepdim=True)
            z = z / torch.where(norm > 0, norm, torch.ones_like(norm))
        return z


def embed(model: nn.Module, X: torch.Tensor) -> torch.Tensor:
    """Embeddings of ``X`` (N, D_in) -> (N, D) in eval mode without gradients (mode restored after).

    Introduced in: 07 Triplet margin loss.
    """
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return model(X)
    finally:
        model.train(was_training)


def train_embedding(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    batch_loss: BatchLoss,
    *,
    steps: int,
    classes_per_batch: int,
    samples_per_class: int,
    lr: float = 1e-3,
    seed: int = 0,
    on_step: Callable[[int, nn.Module], Mapping[str, float] | None] | None = None,
) -> dict[str, list[float]]:
    """Train ``model`` with Adam on PK batches of (X, y); ``batch_loss`` turns a batch into a loss.

    Introduced in: 07 Triplet margin loss.

    Parameters
    ----------
    model : nn.Module
        Maps (B, D_in) inputs to (B, D) embeddings; trained in place.
    X : Tensor of shape (N, D_in)
        Training inputs.
    y : Tensor of shape (N,)
        Integer class labels.
    batch_loss : callable
        ``batch_loss(embeddings (B, D), labels (B,)) -> (loss, stats)`` with ``loss`` a scalar
        tensor and ``stats`` a dict of floats to record (e.g. the fraction of active triplets).
        Returning the scalar loss alone is accepted too (no stats).
    steps : int
        Number of optimiser steps (one batch each), >= 1.
    classes_per_batch, samples_per_class : int
        P classes and K examples per class in every batch (B = P * K).
    lr : float, default=1e-3
        Adam learning rate.
    seed : int, default=0
        Seeds the batch sampler's generator (the model's initial weights are the caller's).
    on_step : callable, optional
        ``on_step(step, model)`` is called after each optimiser step (``step`` from 0). If it
        returns a dict, each value is appended to ``history[key]`` (so a callback that only
        evaluates every 50 steps gives a list with one entry per evaluation).

    Returns
    -------
    dict of str -> list of float
        ``"loss"``: the batch loss at each step (before the update), plus one list per key of
        ``stats`` and of ``on_step``'s returned dicts.

    Raises
    ------
    ValueError
        If X and y have different numbers of rows, ``steps`` < 1, the labels cannot give the
        requested PK batches, or ``batch_loss`` returns a non-scalar or non-finite loss.

    Examples
    --------
    >>> from utils.losses import triplet_margin_loss
    >>> from utils.sampling import sample_triplets
    >>> _ = torch.manual_seed(0)
    >>> X, y = torch.randn(40, 64), torch.arange(40) % 4
    >>> def loss(z, labels):
    ...     a, p, n = sample_triplets(labels, 32)
    ...     return triplet_margin_loss(z[a], z[p], z[n]), {}
    >>> history = train_embedding(EmbeddingNet(), X, y, loss, steps=3, classes_per_batch=4, samples_per_class=4)
    >>> len(history["loss"])
    3
    """
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X and y must have the same number of rows; got {X.shape[0]} and {y.shape[0]}.")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int; got {steps!r}.")
    generator = torch.Generator().manual_seed(seed)
    batches = class_balanced_batches(
        y,
        classes_per_batch=classes_per_batch,
        samples_per_class=samples_per_class,
        num_batches=steps,
        generator=generator,
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history: dict[str, list[float]] = {"loss": []}
    model.train()
    for step, idx in enumerate(batches):
        result = batch_loss(model(X[idx]), y[idx])
        loss, stats = (result, {}) if isinstance(result, torch.Tensor) else result
        if loss.dim() != 0:
            raise ValueError(
                f"batch_loss must return a scalar loss; got shape {tuple(loss.shape)}. "
                f"Fix: reduce it with .mean() (or reduction='mean')."
            )
        if not torch.isfinite(loss):
            raise ValueError(f"batch_loss returned a non-finite loss ({loss.item()}) at step {step}.")
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history["loss"].append(loss.item())
        for key, value in dict(stats).items():
            history.setdefault(key, []).append(float(value))
        if on_step is not None:
            extra = on_step(step, model)
            if extra:
                for key, value in dict(extra).items():
                    history.setdefault(key, []).append(float(value))
    return history


def nearest_neighbour_accuracy(
    train_embeddings: torch.Tensor,
    train_labels: torch.Tensor,
    test_embeddings: torch.Tensor,
    test_labels: torch.Tensor,
    *,
    metric: str = "euclidean",
) -> float:
    """Fraction of test points whose nearest training point (in the embedding) has their label.

    Introduced in: 07 Triplet margin loss.

    Parameters
    ----------
    train_embeddings : Tensor of shape (N, D)
    train_labels : Tensor of shape (N,)
    test_embeddings : Tensor of shape (M, D)
    test_labels : Tensor of shape (M,)
    metric : {"euclidean", "squared_euclidean", "cosine"}, default="euclidean"

    Returns
    -------
    float
        1-NN accuracy in [0, 1]; ties go to the lowest training index.

    Examples
    --------
    >>> tr = torch.tensor([[0.0], [10.0]])
    >>> nearest_neighbour_accuracy(tr, torch.tensor([0, 1]), torch.tensor([[1.0], [8.0]]), torch.tensor([0, 0]))
    0.5
    """
    if train_embeddings.shape[0] != train_labels.shape[0] or test_embeddings.shape[0] != test_labels.shape[0]:
        raise ValueError("embeddings and labels must have the same number of rows (one label per embedding).")
    with torch.no_grad():
        d = pairwise_distances(test_embeddings, train_embeddings, metric=metric)
        predicted = train_labels[d.argmin(dim=1)]
    return (predicted == test_labels).double().mean().item()
