"""Triplet miners of the chapter's "Hard Negative Mining" section, vectorised over a batch.

Introduced in: 10 Hard negative mining.

A miner looks at a batch of embeddings ``(N, D)`` and their labels ``(N,)`` and returns index
triplets ``(anchor, positive, negative)``: the positive has the anchor's label (and is another
example), the negative has another label. The four strategies of the chapter's table:

============  ==========================================================================
strategy      triplets returned
============  ==========================================================================
"random"      every (anchor, positive) pair, each with ONE negative drawn uniformly among
              the anchor's negatives ("random negatives")
"batch_hard"  one triplet per anchor: its farthest positive and its closest negative
              (batch-hard, Hermans et al. 2017, "In Defense of the Triplet Loss")
"semi_hard"   every (anchor, positive) pair with the closest negative satisfying
              ``d(a,p) < d(a,n) < d(a,p) + margin`` (FaceNet, Schroff et al. 2015);
              pairs without such a negative are dropped
"all"         every valid triplet in the batch ("in-batch negatives"); O(N^3) in size
============  ==========================================================================

Mining only chooses indices: it runs under ``torch.no_grad()`` on one ``(N, N)`` distance
matrix (:func:`utils.distances.pairwise_distances` with ``exact=False``: one float64 matrix
product, correctly rounded for float32 embeddings, exact for integer-valued ones) and boolean
``(N, N)`` masks. No ``(N, N, N)``
or ``(N, N, D)`` tensor is ever built, except the index triplets of ``"all"``, which are the
output itself.

Tie rule (every strategy, so results are deterministic): among candidates at exactly the same
distance, the one with the LOWEST index wins (``torch.argmax``/``argmin`` return the first
extremum; semi-hard uses a stable sort). Triplets are returned in lexicographic
``(anchor, positive, negative)`` order.
"""

import torch

from utils.distances import pairwise_distances
from utils.validation import (
    validation_enabled,
    check_choice,
    check_float_tensor,
    check_margin,
    check_ndim,
    check_nonempty,
    check_tensor,
)

STRATEGIES = ("random", "batch_hard", "semi_hard", "all")

#: Largest number of triplets ``strategy="all"`` enumerates (3 int64 index tensors of this length
#: take 3 * 8 bytes * 20e6 = 480 MB). A PK batch with P classes of K examples holds
#: P K (K - 1) (P - 1) K triplets: N = 256 as 32 x 8 gives 456,064; N = 1024 as 64 x 16 gives
#: 15,482,880; N = 4096 is far beyond. Pass ``max_triplets`` to raise or lower it.
ALL_TRIPLETS_LIMIT = 20_000_000


def check_labels(labels, n):
    """Raise unless ``labels`` is a 1-D integer tensor of N labels with at least 2 classes.

    Parameters
    ----------
    labels : Tensor of shape (N,)
        Integer class labels.
    n : int
        Batch size N of the embeddings.

    Raises
    ------
    TypeError
        If ``labels`` is not an integer tensor.
    ValueError
        If it is not 1-D of length N, or holds fewer than 2 distinct classes.
    """
    check_tensor("labels", labels)
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise TypeError(
            f"labels must be integer class labels; got dtype {labels.dtype}. Fix: use labels.long()."
        )
    check_ndim("labels", labels, 1, "(N,)")
    if labels.shape[0] != n:
        raise ValueError(
            f"labels must hold one label per embedding; got labels.shape={tuple(labels.shape)} for "
            f"N={n} embeddings. Fix: pass labels of shape ({n},)."
        )
    if not validation_enabled():  # counting classes reads values back
        return
    num_classes = torch.unique(labels).numel()
    if num_classes < 2:
        raise ValueError(
            f"a batch needs at least 2 classes to form a negative; got {num_classes} distinct "
            f"label(s). Fix: sample batches from several classes (e.g. "
            f"utils.sampling.class_balanced_batches)."
        )


def _masks(labels):
    """Boolean (N, N) masks: ``pos[a, p]`` same label and a != p; ``neg[a, n]`` other label."""
    same = labels.unsqueeze(0) == labels.unsqueeze(1)
    pos = same.clone()
    pos.fill_diagonal_(False)
    return pos, ~same


def _check_inputs(embeddings, labels):
    check_float_tensor("embeddings", embeddings)
    check_ndim("embeddings", embeddings, 2, "(N, D)")
    check_nonempty("embeddings", embeddings)
    check_labels(labels, embeddings.shape[0])


def _ranking_distances(embeddings, metric):
    """(N, N) distances for ranking only: the fast float64 Gram path of pairwise_distances."""
    return pairwise_distances(embeddings.detach(), metric=metric, exact=False)


def _negatives_by_rank(neg, anchors, ranks):
    """Index of the ``ranks``-th negative (0-based, ascending index order) of each anchor.

    ``neg`` is the (N, N) negative mask; ``anchors`` and ``ranks`` are (T,) int64 tensors.
    Uses the row-major list of negative pairs and per-row offsets, so the cost is O(N^2 + T).
    """
    negative_list = neg.nonzero()[:, 1]
    counts = neg.sum(dim=1)
    offsets = torch.cumsum(counts, dim=0) - counts
    return negative_list[offsets[anchors] + ranks]


def _random(neg, pos, generator):
    a, p = pos.nonzero(as_tuple=True)
    counts = neg.sum(dim=1)[a]
    # Uniform rank in [0, count): floor(u * count) with u ~ U[0, 1) in float64.
    if torch.compiler.is_compiling():
        # torch.compile cannot draw a tensor whose size depends on the data: draw one uniform per
        # (anchor, positive) cell of an (N, N) table instead (equally uniform, other samples than eager).
        u = torch.rand(pos.shape, dtype=torch.float64, generator=generator, device=a.device)[a, p]
    else:
        u = torch.rand(a.shape[0], dtype=torch.float64, generator=generator, device=a.device)
    ranks = torch.minimum((u * counts).long(), counts - 1)
    return a, p, _negatives_by_rank(neg, a, ranks)


def _batch_hard(dist, same, has_pos):
    """Farthest positive and closest negative of each anchor with a positive.

    ``same`` is the (N, N) same-label mask (diagonal included), ``has_pos`` the (N,) anchors
    whose class has another example. One ``where`` per side, no mask complement or copy.
    """
    inf = torch.tensor(float("inf"), dtype=dist.dtype, device=dist.device)
    positives = torch.where(same, dist, -inf)
    positives.fill_diagonal_(float("-inf"))  # an anchor is not its own positive
    hardest_pos = positives.argmax(dim=1)
    del positives
    hardest_neg = torch.where(same, inf, dist).argmin(dim=1)
    a = has_pos.nonzero(as_tuple=True)[0]
    return a, hardest_pos[a], hardest_neg[a]


#: Semi-hard mining scans the distance matrix once per positive "slot" when every anchor has at
#: most this many positives (PK batches: K - 1); otherwise it sorts each row (O(N^2 log N)).
SEMI_HARD_SLOT_LIMIT = 32


def _semi_hard(dist, pos, neg, margin):
    if torch.compiler.is_compiling():  # the slot path loops a data-dependent number of times
        return _semi_hard_by_sorting(dist, pos, neg, margin)
    pos_counts = pos.sum(dim=1)
    if int(pos_counts.max()) <= SEMI_HARD_SLOT_LIMIT:
        return _semi_hard_by_slots(dist, pos, neg, margin, pos_counts)
    return _semi_hard_by_sorting(dist, pos, neg, margin)


def _semi_hard_by_slots(dist, pos, neg, margin, pos_counts):
    """One (N, N) masked argmin per positive slot k: anchor a's k-th positive (ascending index)."""
    n = dist.shape[0]
    a_all, p_all = pos.nonzero(as_tuple=True)  # row-major: positives of each anchor ascending
    starts = (torch.cumsum(pos_counts, 0) - pos_counts)[a_all]
    slot = torch.arange(a_all.shape[0], device=dist.device) - starts
    found = []
    for k in range(int(pos_counts.max())):
        in_slot = slot == k
        a, p = a_all[in_slot], p_all[in_slot]
        d_ap = dist[a, p].unsqueeze(1)
        rows = dist[a]
        candidate = neg[a] & (rows > d_ap) & (rows < d_ap + margin)
        # argmin returns the first minimum: the lowest index wins ties
        best = rows.masked_fill(~candidate, float("inf")).argmin(dim=1)
        keep = candidate.gather(1, best.unsqueeze(1)).squeeze(1)
        found.append(torch.stack([a[keep], p[keep], best[keep]]))
    a, p, ng = torch.cat(found, dim=1)
    order = torch.argsort(a * n + p)  # back to lexicographic (anchor, positive) order
    return a[order], p[order], ng[order]


def _semi_hard_by_sorting(dist, pos, neg, margin):
    n = dist.shape[0]
    # Row a of `sorted_neg`: distances from a to its negatives, ascending (+inf for non-negatives);
    # stable, so equal distances keep ascending index order (the tie rule).
    sorted_neg, order = torch.sort(dist.masked_fill(~neg, float("inf")), dim=1, stable=True)
    # For every pair (a, p): first negative strictly farther than d(a, p).
    first = torch.searchsorted(sorted_neg, dist.contiguous(), right=True)
    first_clamped = first.clamp(max=n - 1)
    d_an = sorted_neg.gather(1, first_clamped)
    keep = pos & (first < n) & (d_an < dist + margin)
    a, p = keep.nonzero(as_tuple=True)
    return a, p, order.gather(1, first_clamped)[a, p]


def _all(pos, neg, max_triplets):
    pos_counts, neg_counts = pos.sum(dim=1), neg.sum(dim=1)
    # The memory guard reads a count back, so it is a value check (off with validation off).
    total = int((pos_counts * neg_counts).sum()) if validation_enabled() else 0
    if total > max_triplets:
        raise ValueError(
            f'strategy="all" would enumerate {total:,} triplets for this batch of N={pos.shape[0]}, '
            f"more than max_triplets={max_triplets:,} (their number grows as N^3: 3 int64 indices "
            f"each, {24 * total / 1e6:,.0f} MB). Fix: use a smaller batch, a selective strategy "
            f'("batch_hard" or "semi_hard"), or pass a larger max_triplets if memory allows.'
        )
    a, p = pos.nonzero(as_tuple=True)
    repeats = neg_counts[a]
    a_t = torch.repeat_interleave(a, repeats)
    p_t = torch.repeat_interleave(p, repeats)
    # Rank of each triplet's negative within its (a, p) block: 0, 1, ..., count - 1.
    starts = torch.repeat_interleave(torch.cumsum(repeats, dim=0) - repeats, repeats)
    ranks = torch.arange(a_t.shape[0], device=a_t.device) - starts
    return a_t, p_t, _negatives_by_rank(neg, a_t, ranks)


def mine_triplets(
    embeddings,
    labels,
    *,
    strategy,
    margin=None,
    generator=None,
    metric="euclidean",
    max_triplets=ALL_TRIPLETS_LIMIT,
):
    """Choose (anchor, positive, negative) index triplets in a batch.

    Introduced in: 10 Hard negative mining.

    Parameters
    ----------
    embeddings : Tensor of shape (N, D)
        Batch of embeddings, float32 or float64. Not differentiated through (indices only).
    labels : Tensor of shape (N,)
        Integer class labels; the batch must hold at least 2 classes and at least one class
        with 2 or more examples.
    strategy : {"random", "batch_hard", "semi_hard", "all"}
        - ``"random"``: every (anchor, positive) pair, with one negative drawn uniformly among
          the anchor's negatives (uses ``generator``).
        - ``"batch_hard"``: per anchor that has a positive, its farthest positive and closest
          negative (Hermans et al. 2017).
        - ``"semi_hard"``: per (anchor, positive) pair, the closest negative with
          ``d(a,p) < d(a,n) < d(a,p) + margin`` (FaceNet); pairs with none are dropped, so the
          result may be empty.
        - ``"all"``: every valid triplet; their number is sum over anchors of
          (#positives x #negatives), O(N^3).
    margin : float, optional
        Required by ``"semi_hard"`` (finite, >= 0); ignored by the other strategies.
    generator : torch.Generator, optional
        Random stream for ``"random"`` (default: torch's global one).
    metric : {"euclidean", "squared_euclidean", "cosine"}, default="euclidean"
        Distance used to rank candidates (see :func:`utils.distances.pairwise_distances`).
    max_triplets : int, default=ALL_TRIPLETS_LIMIT (20,000,000)
        ``"all"`` refuses batches with more triplets than this.

    Returns
    -------
    anchor_idx, positive_idx, negative_idx : Tensor of shape (T,), int64
        In lexicographic (anchor, positive, negative) order. T is the number of (anchor,
        positive) pairs for "random", the number of anchors with a positive for "batch_hard",
        at most the number of pairs for "semi_hard" (possibly 0), and all triplets for "all".

    Raises
    ------
    TypeError
        If ``embeddings`` is not a float tensor or ``labels`` not an integer tensor.
    ValueError
        If shapes are wrong, the batch is empty, holds fewer than 2 classes, has no class with
        2 or more examples (no valid positive), ``strategy`` is unknown, ``"semi_hard"`` is
        asked without ``margin``, or ``"all"`` would exceed ``max_triplets``.

    Notes
    -----
    Ties: among candidates at the same distance the lowest index wins. Memory: one (N, N)
    distance matrix and a few (N, N) masks. Semi-hard, when every anchor has at most
    ``SEMI_HARD_SLOT_LIMIT`` (32) positives, does one masked (N, N) argmin per positive slot;
    otherwise it sorts each row (O(N^2 log N)) and finds the first negative beyond d(a, p) by
    binary search. Neither forms an (N, N, N) tensor.

    Examples
    --------
    >>> x = torch.tensor([[0.0], [1.0], [3.0], [3.5]])
    >>> mine_triplets(x, torch.tensor([0, 0, 1, 1]), strategy="batch_hard")
    (tensor([0, 1, 2, 3]), tensor([1, 0, 3, 2]), tensor([2, 2, 1, 1]))
    """
    check_choice("strategy", strategy, STRATEGIES)
    _check_inputs(embeddings, labels)
    if strategy == "semi_hard":
        if margin is None:
            raise ValueError(
                'strategy="semi_hard" needs a margin: it keeps negatives with '
                "d(a,p) < d(a,n) < d(a,p) + margin. Fix: pass margin=..., e.g. margin=0.2."
            )
        margin = check_margin(margin)
    elif margin is not None:
        check_margin(margin)
    labels = labels.to(embeddings.device)
    # Class sizes from the labels (O(N log N)), not from an (N, N) mask.
    _, inverse, class_sizes = torch.unique(labels, return_inverse=True, return_counts=True)
    if validation_enabled() and int(class_sizes.max()) < 2:
        raise ValueError(
            "no valid positive: every class in the batch has a single example, so no "
            "(anchor, positive) pair exists. Fix: sample at least 2 examples per class "
            "(e.g. utils.sampling.class_balanced_batches with samples_per_class >= 2)."
        )
    with torch.no_grad():
        if strategy == "batch_hard":
            dist = _ranking_distances(embeddings, metric)
            same = labels.unsqueeze(0) == labels.unsqueeze(1)
            return _batch_hard(dist, same, class_sizes[inverse] >= 2)
        pos, neg = _masks(labels)
        if strategy == "random":
            return _random(neg, pos, generator)
        if strategy == "all":
            return _all(pos, neg, max_triplets)
        return _semi_hard(_ranking_distances(embeddings, metric), pos, neg, margin)


def active_fraction(embeddings, labels, a_idx, p_idx, n_idx, margin, *, metric="euclidean"):
    """Fraction of triplets with positive loss, ``d(a,p) - d(a,n) + margin > 0``.

    Introduced in: 10 Hard negative mining.

    Parameters
    ----------
    embeddings : Tensor of shape (N, D)
        Batch of embeddings, float32 or float64.
    labels : Tensor of shape (N,)
        Integer class labels, used to check that every triplet is valid.
    a_idx, p_idx, n_idx : Tensor of shape (T,)
        Integer indices of the triplets (e.g. from :func:`mine_triplets`).
    margin : float
        Margin of the triplet loss, finite and >= 0.
    metric : {"euclidean", "squared_euclidean", "cosine"}, default="euclidean"

    Returns
    -------
    float
        Fraction in [0, 1] of triplets with strictly positive loss (a triplet exactly at the
        margin has loss 0 and is not counted). 0.0 when T = 0 (no triplet, nothing active).

    Raises
    ------
    TypeError, ValueError
        On bad embeddings/labels/margin (as :func:`mine_triplets`), index tensors that are not
        1-D integer tensors of one length, indices out of range, or an invalid triplet
        (positive equal to the anchor or of another label, negative of the anchor's label).

    Examples
    --------
    >>> x = torch.tensor([[0.0], [1.0], [3.0], [1.5]])
    >>> labels = torch.tensor([0, 0, 1, 1])
    >>> active_fraction(x, labels, torch.tensor([0, 1]), torch.tensor([1, 0]), torch.tensor([2, 3]), 1.0)
    0.5
    """
    margin = check_margin(margin)
    _check_inputs(embeddings, labels)
    n = embeddings.shape[0]
    for name, idx in (("a_idx", a_idx), ("p_idx", p_idx), ("n_idx", n_idx)):
        check_tensor(name, idx)
        if idx.is_floating_point() or idx.dtype == torch.bool:
            raise TypeError(
                f"{name} must be an integer index tensor; got dtype {idx.dtype}. Fix: use {name}.long()."
            )
        check_ndim(name, idx, 1, "(T,)")
        if idx.numel() and (idx.min() < 0 or idx.max() >= n):
            raise ValueError(
                f"{name} must hold indices in [0, {n - 1}] (N={n} embeddings); got values in "
                f"[{int(idx.min())}, {int(idx.max())}]. Fix: index into this batch."
            )
    if not a_idx.shape == p_idx.shape == n_idx.shape:
        raise ValueError(
            f"a_idx, p_idx, n_idx must have one length T; got {a_idx.shape[0]}, {p_idx.shape[0]}, "
            f"{n_idx.shape[0]}. Fix: pass the three tensors returned by mine_triplets."
        )
    if a_idx.numel() == 0:
        return 0.0
    device = embeddings.device
    a, p, ng = (t.to(device).long() for t in (a_idx, p_idx, n_idx))
    labels = labels.to(device)
    bad = (a == p) | (labels[a] != labels[p]) | (labels[a] == labels[ng])
    if bad.any():
        k = int(bad.nonzero()[0, 0])
        raise ValueError(
            f"{int(bad.sum())} invalid triplet(s): e.g. triplet {k} = (a={int(a[k])}, p={int(p[k])}, "
            f"n={int(ng[k])}) with labels ({int(labels[a[k]])}, {int(labels[p[k]])}, "
            f"{int(labels[ng[k]])}). A positive must be another example of the anchor's label and a "
            f"negative must have another label. Fix: pass triplets from mine_triplets for these labels."
        )
    with torch.no_grad():
        dist = pairwise_distances(embeddings.detach(), metric=metric)
        loss = dist[a, p] - dist[a, ng] + margin
    return float((loss > 0).double().mean())
