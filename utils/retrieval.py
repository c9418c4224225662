"""Retrieval metrics of an embedding: Recall@K and MAP@R, leave-one-out within one set.

Introduced in: 09 Margin losses and embedding geometry.

Every example is used in turn as a query against all the OTHER examples (the query itself is
excluded, as in PML's ``AccuracyCalculator`` with ``reference=None``). A query whose class has
no other member (a "lone" query) has nothing to retrieve and is left out of the averages, as PML
does. MAP@R follows Musgrave et al. 2020, "A Metric Learning Reality Check": for a query with R
same-class references,

    MAP@R = (1 / R) * sum_{i=1..R} P(i) * rel(i),

where rel(i) = 1 if the i-th nearest reference has the query's label, and P(i) is the precision
among the first i references. Recall@K is the fraction of queries with at least one same-class
example among their K nearest neighbours (for K = 1 it equals precision@1).

Tie rule: references at exactly the same distance are ranked by ascending index (stable sort).
Memory: one (N, N) distance matrix and its (N, N) ranking.
"""

import torch

from utils.distances import pairwise_distances
from utils.validation import check_float_tensor, check_ndim, check_nonempty, check_tensor


def _check(embeddings, labels):
    check_float_tensor("embeddings", embeddings)
    check_ndim("embeddings", embeddings, 2, "(N, D)")
    check_nonempty("embeddings", embeddings)
    check_tensor("labels", labels)
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise TypeError(
            f"labels must be integer class labels; got dtype {labels.dtype}. Fix: use labels.long()."
        )
    check_ndim("labels", labels, 1, "(N,)")
    if labels.shape[0] != embeddings.shape[0]:
        raise ValueError(
            f"labels must hold one label per embedding; got labels.shape={tuple(labels.shape)} for "
            f"N={embeddings.shape[0]} embeddings. Fix: pass labels of shape ({embeddings.shape[0]},)."
        )


def _check_k(k, n):
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= n - 1:
        raise ValueError(
            f"k must be an integer in [1, N - 1] = [1, {n - 1}] (each query has N - 1 references); "
            f"got {k!r}. Fix: pass e.g. k=1."
        )


def _ranked_relevance(embeddings, labels, metric, columns):
    """(Q, columns) bool relevance of each non-lone query's ranked neighbours, and its R (Q,)."""
    labels = labels.to(embeddings.device)
    with torch.no_grad():
        dist = pairwise_distances(embeddings.detach(), metric=metric)
        dist.fill_diagonal_(float("inf"))  # leave-one-out: the query is never its own neighbour
        order = torch.sort(dist, dim=1, stable=True).indices[:, :columns]
    same = labels[order] == labels.unsqueeze(1)
    r = (labels.unsqueeze(1) == labels.unsqueeze(0)).sum(dim=1) - 1
    not_lone = r > 0
    if not not_lone.any():
        raise ValueError(
            "no query has a same-class reference: every class holds a single example, so "
            "retrieval metrics are undefined. Fix: evaluate on a set with at least 2 examples per class."
        )
    return same[not_lone], r[not_lone]


def recall_at_k(embeddings, labels, *, k=1, metric="euclidean"):
    """Leave-one-out Recall@K: fraction of queries with a same-class example among their K nearest.

    Introduced in: 09 Margin losses and embedding geometry.

    Parameters
    ----------
    embeddings : Tensor of shape (N, D)
        Embeddings, float32 or float64.
    labels : Tensor of shape (N,)
        Integer class labels.
    k : int, default=1
        Number of neighbours, in [1, N - 1].
    metric : {"euclidean", "squared_euclidean", "cosine"}, default="euclidean"
        Distance of :func:`utils.distances.pairwise_distances`.

    Returns
    -------
    float
        In [0, 1], averaged over the queries whose class has another member.

    Raises
    ------
    TypeError
        If ``embeddings`` is not floating point or ``labels`` not integer.
    ValueError
        On wrong shapes, an empty set, ``k`` out of range, or no class with 2 or more examples.

    Examples
    --------
    >>> x = torch.tensor([[0.0], [0.1], [1.0], [1.2]])
    >>> recall_at_k(x, torch.tensor([0, 1, 0, 1]), k=1)
    0.0
    >>> recall_at_k(x, torch.tensor([0, 1, 0, 1]), k=2)
    0.5
    """
    _check(embeddings, labels)
    _check_k(k, embeddings.shape[0])
    same, _ = _ranked_relevance(embeddings, labels, metric, k)
    return float(same.any(dim=1).double().mean())


def map_at_r(embeddings, labels, *, metric="euclidean"):
    """Leave-one-out MAP@R (Musgrave et al. 2020).

    Introduced in: 09 Margin losses and embedding geometry.

    Parameters
    ----------
    embeddings : Tensor of shape (N, D)
        Embeddings, float32 or float64.
    labels : Tensor of shape (N,)
        Integer class labels.
    metric : {"euclidean", "squared_euclidean", "cosine"}, default="euclidean"
        Distance of :func:`utils.distances.pairwise_distances`.

    Returns
    -------
    float
        Mean over queries (with R >= 1 same-class references) of
        ``(1/R) sum_{i<=R} P(i) rel(i)``, in [0, 1]; 1 means every query's R nearest
        references are exactly its R same-class examples.

    Raises
    ------
    TypeError, ValueError
        As :func:`recall_at_k`.

    Examples
    --------
    >>> x = torch.tensor([[0.0], [0.1], [1.0], [1.2]])
    >>> map_at_r(x, torch.tensor([0, 0, 1, 1]))
    1.0
    >>> map_at_r(x, torch.tensor([0, 1, 0, 1]))
    0.0
    """
    _check(embeddings, labels)
    labels_dev = labels.to(embeddings.device)
    max_r = int((labels_dev.unsqueeze(1) == labels_dev.unsqueeze(0)).sum(dim=1).max()) - 1
    same, r = _ranked_relevance(embeddings, labels, metric, max(max_r, 1))
    rank = torch.arange(1, same.shape[1] + 1, device=same.device)
    rel = same & (rank <= r.unsqueeze(1))  # only the first R neighbours count
    precision = torch.cumsum(rel, dim=1).double() / rank
    return float(((precision * rel).sum(dim=1) / r).mean())


def evaluate_retrieval(embeddings, labels, *, k=1, metric="euclidean"):
    """Recall@K and MAP@R of an embedding, in one dict (the numbers chapters print).

    Introduced in: 09 Margin losses and embedding geometry.

    Parameters
    ----------
    embeddings : Tensor of shape (N, D)
    labels : Tensor of shape (N,)
    k : int, default=1
    metric : {"euclidean", "squared_euclidean", "cosine"}, default="euclidean"

    Returns
    -------
    dict
        ``{f"recall_at_{k}": float, "map_at_r": float}``.

    Examples
    --------
    >>> x = torch.tensor([[0.0], [0.1], [1.0], [1.2]])
    >>> evaluate_retrieval(x, torch.tensor([0, 0, 1, 1]))
    {'recall_at_1': 1.0, 'map_at_r': 1.0}
    """
    return {
        f"recall_at_{k}": recall_at_k(embeddings, labels, k=k, metric=metric),
        "map_at_r": map_at_r(embeddings, labels, metric=metric),
    }
