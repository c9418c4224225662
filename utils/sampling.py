"""Random triplets, random pairs and class-balanced ("PK") batches from integer labels.

Introduced in: 07 Triplet margin loss (triplets, batches), 08 Contrastive margin loss (pairs).

Every sampler takes an optional ``torch.Generator``: with the same seed it returns the same
indices. All indices are int64 positions into ``labels``. When the labels cannot give what is
asked (no class with two examples, so no positive; a single class, so no negative) the sampler
raises a ``ValueError`` saying which, instead of returning something invalid.
"""

from __future__ import annotations

import numbers
from typing import Iterator

import torch

from utils.validation import check_tensor


def _check_labels(labels):
    check_tensor("labels", labels)
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise TypeError(
            f"labels must be an integer tensor of class ids; got dtype {labels.dtype}. "
            f"Fix: use labels.long()."
        )
    if labels.dim() != 1:
        raise ValueError(
            f"labels must be 1-D with shape (N,); got shape {tuple(labels.shape)}. Fix: labels.reshape(-1)."
        )
    return labels.detach().cpu().long()


def _check_count(name, value, minimum=0):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}.")
    return int(value)


class _Classes:
    """Labels grouped by class: positions sorted by label, and each example's class block."""

    def __init__(self, labels):
        self.order = torch.argsort(labels, stable=True)  # positions, grouped by class
        self.classes, inverse, self.counts = torch.unique(labels, return_inverse=True, return_counts=True)
        self.starts = torch.cumsum(self.counts, 0) - self.counts  # first sorted slot of each class
        self.cls = inverse  # (N,) class number (0..C-1) of each example
        self.rank = torch.empty_like(self.order)  # (N,) slot of each example inside its class block
        self.rank[self.order] = torch.arange(labels.numel()) - self.starts[inverse[self.order]]
        self.n = labels.numel()

    def describe(self, limit=10):
        pairs = list(zip(self.classes.tolist(), self.counts.tolist()))
        text = ", ".join(f"{c}: {k}" for c, k in pairs[:limit])
        return f"{{{text}{', ...' if len(pairs) > limit else ''}}}"

    def need_positive(self, what):
        if not (self.counts >= 2).any():
            raise ValueError(
                f"cannot sample {what}: a positive needs another example of the anchor's class, and no "
                f"class has two examples (examples per class: {self.describe()}). "
                f"Fix: pass labels with at least two examples of some class."
            )

    def need_negative(self, what):
        if self.classes.numel() < 2:
            raise ValueError(
                f"cannot sample {what}: a negative needs an example of another class, and the labels "
                f"hold a single class ({self.classes.tolist()}, {self.n} examples). "
                f"Fix: pass labels with at least two classes."
            )

    def uniform(self, high, generator):
        """One uniform integer in [0, high[t]) per entry of ``high`` (a (T,) int64 tensor, > 0)."""
        u = torch.rand(high.shape, generator=generator, dtype=torch.float64)
        return torch.minimum((u * high).long(), high - 1)

    def other_in_class(self, anchors, generator):
        """A uniformly random example of the anchor's class, never the anchor itself."""
        c = self.cls[anchors]
        r = self.uniform(self.counts[c] - 1, generator)
        r = r + (r >= self.rank[anchors]).long()  # skip the anchor's own slot
        return self.order[self.starts[c] + r]

    def other_class(self, anchors, generator):
        """A uniformly random example of any class but the anchor's."""
        c = self.cls[anchors]
        r = self.uniform(self.n - self.counts[c], generator)
        r = r + (r >= self.starts[c]).long() * self.counts[c]  # jump over the anchor's class block
        return self.order[r]

    def with_positive(self):
        """Positions of the examples whose class has at least two examples."""
        return torch.nonzero(self.counts[self.cls] >= 2).squeeze(1)


def sample_triplets(labels, num_triplets, *, generator=None):
    """Random valid triplets (anchor, positive, negative) from integer labels.

    Introduced in: 07 Triplet margin loss.

    The anchor is uniform over the examples whose class has at least two examples, the
    positive uniform over the *other* examples of its class, the negative uniform over the
    examples of every other class.

    Parameters
    ----------
    labels : Tensor of shape (N,)
        Integer class ids (any values, e.g. digits 0-9).
    num_triplets : int
        Number T of triplets, >= 0.
    generator : torch.Generator, optional
        Source of randomness; the same seed gives the same triplets.

    Returns
    -------
    (anchor_idx, positive_idx, negative_idx) : tuple of three int64 Tensors of shape (T,)
        Positions into ``labels`` with ``labels[a] == labels[p]``, ``a != p`` and
        ``labels[n] != labels[a]``.

    Raises
    ------
    TypeError
        If ``labels`` is not an integer tensor.
    ValueError
        If ``labels`` is not 1-D, ``num_triplets`` is not a non-negative integer, no class has
        two examples (no positive exists) or there is a single class (no negative exists).

    Examples
    --------
    >>> a, p, n = sample_triplets(torch.tensor([0, 0, 1, 1, 2]), 4, generator=torch.Generator().manual_seed(0))
    >>> a.shape, bool((a != p).all())
    (torch.Size([4]), True)
    """
    labels = _check_labels(labels)
    num_triplets = _check_count("num_triplets", num_triplets)
    groups = _Classes(labels)
    groups.need_positive("triplets")
    groups.need_negative("triplets")
    eligible = groups.with_positive()
    anchors = eligible[groups.uniform(torch.full((num_triplets,), eligible.numel()), generator)]
    return anchors, groups.other_in_class(anchors, generator), groups.other_class(anchors, generator)


def sample_pairs(labels, num_pairs, *, positive_fraction=0.5, generator=None):
    """Random similar and dissimilar pairs from integer labels, in random order.

    Introduced in: 08 Contrastive margin loss.

    ``round(positive_fraction * num_pairs)`` pairs are similar: ``i`` uniform over the examples
    whose class has two examples or more, ``j`` another example of that class. The rest are
    dissimilar: ``i`` uniform over all examples, ``j`` uniform over the other classes.

    Parameters
    ----------
    labels : Tensor of shape (N,)
        Integer class ids.
    num_pairs : int
        Number P of pairs, >= 0.
    positive_fraction : float, default=0.5
        Fraction of similar pairs, in [0, 1].
    generator : torch.Generator, optional
        Source of randomness; the same seed gives the same pairs.

    Returns
    -------
    (i, j, similar) : tuple of Tensors of shape (P,)
        ``i``, ``j`` int64 positions with ``i != j``; ``similar`` float32, 1.0 where
        ``labels[i] == labels[j]`` and 0.0 otherwise (the chapter's convention, y = 1 similar).

    Raises
    ------
    TypeError
        If ``labels`` is not an integer tensor.
    ValueError
        If ``labels`` is not 1-D, ``num_pairs`` is not a non-negative integer,
        ``positive_fraction`` is outside [0, 1], or similar pairs are asked for and no class has
        two examples, or dissimilar pairs are asked for and there is a single class.

    Examples
    --------
    >>> i, j, s = sample_pairs(torch.tensor([0, 0, 1, 1]), 6, generator=torch.Generator().manual_seed(0))
    >>> int(s.sum()), bool((i != j).all())
    (3, True)
    """
    labels = _check_labels(labels)
    num_pairs = _check_count("num_pairs", num_pairs)
    if isinstance(positive_fraction, bool) or not isinstance(positive_fraction, numbers.Real) or not (
        0.0 <= positive_fraction <= 1.0
    ):
        raise ValueError(f"positive_fraction must be a number in [0, 1]; got {positive_fraction!r}.")
    groups = _Classes(labels)
    num_similar = int(round(positive_fraction * num_pairs))
    num_dissimilar = num_pairs - num_similar
    if num_similar:
        groups.need_positive(f"{num_similar} similar pairs")
    if num_dissimilar:
        groups.need_negative(f"{num_dissimilar} dissimilar pairs")
    i_sim = torch.empty(0, dtype=torch.int64)
    j_sim = torch.empty(0, dtype=torch.int64)
    if num_similar:
        eligible = groups.with_positive()
        i_sim = eligible[groups.uniform(torch.full((num_similar,), eligible.numel()), generator)]
        j_sim = groups.other_in_class(i_sim, generator)
    i_dis = groups.uniform(torch.full((num_dissimilar,), groups.n), generator)
    j_dis = groups.other_class(i_dis, generator) if num_dissimilar else torch.empty(0, dtype=torch.int64)
    i, j = torch.cat([i_sim, i_dis]), torch.cat([j_sim, j_dis])
    similar = torch.cat([torch.ones(num_similar), torch.zeros(num_dissimilar)])
    shuffle = torch.randperm(num_pairs, generator=generator)
    return i[shuffle], j[shuffle], similar[shuffle]


def class_balanced_batches(
    labels, *, classes_per_batch, samples_per_class, num_batches, generator=None
) -> Iterator[torch.Tensor]:
    """Batches of P classes times K examples each (the "PK" batches triplet mining needs).

    Introduced in: 07 Triplet margin loss.

    Each batch draws ``classes_per_batch`` (P) distinct classes uniformly among the classes
    with at least ``samples_per_class`` (K) examples, then K distinct examples of each. So every
    example of a batch has K - 1 positives and (P - 1) K negatives in it.

    Parameters
    ----------
    labels : Tensor of shape (N,)
        Integer class ids.
    classes_per_batch : int
        P >= 2 (a batch of one class has no negative).
    samples_per_class : int
        K >= 2 (one example per class gives no positive).
    num_batches : int
        Number of batches to yield, >= 0.
    generator : torch.Generator, optional
        Source of randomness; the same seed gives the same batches.

    Returns
    -------
    Iterator of int64 Tensors of shape (P * K,)
        Positions into ``labels``, grouped by class (K consecutive positions per class), no
        repeats within a batch.

    Raises
    ------
    TypeError
        If ``labels`` is not an integer tensor.
    ValueError
        Immediately (not on the first ``next``) if P < 2, K < 2, ``num_batches`` < 0, or fewer
        than P classes have K examples.

    Examples
    --------
    >>> labels = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2])
    >>> batches = list(class_balanced_batches(labels, classes_per_batch=2, samples_per_class=2,
    ...                                       num_batches=3, generator=torch.Generator().manual_seed(0)))
    >>> [b.shape for b in batches]
    [torch.Size([4]), torch.Size([4]), torch.Size([4])]
    """
    labels = _check_labels(labels)
    p = _check_count("classes_per_batch", classes_per_batch, minimum=2)
    k = _check_count("samples_per_class", samples_per_class, minimum=2)
    num_batches = _check_count("num_batches", num_batches)
    groups = _Classes(labels)
    eligible = torch.nonzero(groups.counts >= k).squeeze(1)
    if eligible.numel() < p:
        raise ValueError(
            f"cannot build batches of {p} classes x {k} examples: only {eligible.numel()} classes have "
            f"at least {k} examples (examples per class: {groups.describe()}). "
            f"Fix: lower classes_per_batch or samples_per_class."
        )

    def batches():
        for _ in range(num_batches):
            chosen = eligible[torch.randperm(eligible.numel(), generator=generator)[:p]]
            parts = []
            for c in chosen.tolist():
                start, count = int(groups.starts[c]), int(groups.counts[c])
                parts.append(groups.order[start + torch.randperm(count, generator=generator)[:k]])
            yield torch.cat(parts)

    return batches()
