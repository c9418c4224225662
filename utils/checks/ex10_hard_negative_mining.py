"""Exercises of 10 Hard negative mining: a batch-hard miner, and FaceNet's semi-hard condition."""

from __future__ import annotations

import torch

from utils.checks import Exercise, Mistake, register

NOTEBOOK = "ex10_hard_negative_mining"


# --------------------------------------------------------------------------- batch_hard_triplets
def _batch_cases(generator: torch.Generator, hidden: bool) -> list[dict]:
    """PK-like batches of random float64 embeddings (no distance ties), some with a singleton class."""
    cases = [dict(embeddings=torch.tensor([[0.0, 0.0], [1.0, 0.0], [4.0, 0.0], [0.0, 2.0], [3.0, 3.0]],
                                          dtype=torch.float64),
                  labels=torch.tensor([0, 0, 0, 1, 2]))]
    shapes = ((10, 2, None), (24, 4, None))
    ### BEGIN HIDDEN
    if hidden:  # the grader's cases: two singletons (no positive), odd, large and wide batches
        shapes = ((2, 3, [0, 1]), (9, 2, None), (64, 16, None), (129, 8, None))
    ### END HIDDEN
    for n, dim, fixed in shapes:
        labels = torch.tensor(fixed) if fixed is not None else torch.randint(0, max(2, n // 4), (n,), generator=generator)
        embeddings = torch.randn(n, dim, generator=generator, dtype=torch.float64)
        cases.append(dict(embeddings=embeddings, labels=labels))
    ### BEGIN HIDDEN
    if hidden:  # one class only: no negatives, so no triplet at all
        cases.append(dict(embeddings=torch.randn(4, 3, generator=generator, dtype=torch.float64),
                          labels=torch.zeros(4, dtype=torch.int64)))
    ### END HIDDEN
    return cases


def _reference_batch_hard(embeddings, labels):
    x = embeddings.tolist()
    y = labels.tolist()
    n = len(y)

    def dist(i, j):
        return sum((a - b) ** 2 for a, b in zip(x[i], x[j])) ** 0.5

    anchors, positives, negatives = [], [], []
    for i in range(n):
        pos = [j for j in range(n) if j != i and y[j] == y[i]]
        neg = [j for j in range(n) if y[j] != y[i]]
        if not pos or not neg:
            continue
        # farthest positive, nearest negative; ties to the smallest index (min/max keep the first)
        hardest_positive = max(pos, key=lambda j: (dist(i, j), -j))
        hardest_negative = min(neg, key=lambda j: (dist(i, j), j))
        anchors.append(i)
        positives.append(hardest_positive)
        negatives.append(hardest_negative)
    as_tensor = lambda v: torch.tensor(v, dtype=torch.int64)  # noqa: E731
    return as_tensor(anchors), as_tensor(positives), as_tensor(negatives)


def _masked_triplets(embeddings, labels, *, positive="max", negative="min", self_positive=False, any_negative=False):
    d = torch.cdist(embeddings, embeddings)
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(len(labels), dtype=torch.bool)
    pos = same if self_positive else same & ~eye
    neg = ~eye if any_negative else ~same
    keep = pos.any(dim=1) & (~same).any(dim=1)
    if positive == "max":
        p = torch.where(pos, d, -torch.inf).argmax(dim=1)
    else:
        p = torch.where(pos, d, torch.inf).argmin(dim=1)
    if negative == "min":
        n = torch.where(neg, d, torch.inf).argmin(dim=1)
    else:
        n = torch.where(neg, d, -torch.inf).argmax(dim=1)
    if self_positive:
        keep = (~same).any(dim=1)
    a = torch.arange(len(labels))
    return a[keep], p[keep], n[keep]


BATCH_HARD_TRIPLETS = register(Exercise(
    name="batch_hard_triplets",
    notebook=NOTEBOOK,
    function="batch_hard_triplets",
    points=3,
    reference=_reference_batch_hard,
    make_cases=_batch_cases,
    mistakes=(
        Mistake("nearest positive (easiest, not hardest)",
                "the hardest positive is the FARTHEST sample of the anchor's class (largest distance), "
                "not the nearest one.",
                lambda embeddings, labels: _masked_triplets(embeddings, labels, positive="min")),
        Mistake("farthest negative (easiest, not hardest)",
                "the hardest negative is the NEAREST sample of another class (smallest distance), "
                "not the farthest one.",
                lambda embeddings, labels: _masked_triplets(embeddings, labels, negative="max")),
        Mistake("anchor used as its own positive",
                "an anchor alone in its class got itself as positive: exclude the diagonal from the "
                "positive mask, and drop anchors that have no other sample of their class.",
                lambda embeddings, labels: _masked_triplets(embeddings, labels, self_positive=True)),
        Mistake("negatives not restricted to other classes",
                "your 'negative' is the nearest other sample whatever its label, often a positive. "
                "Mask out every sample with the anchor's label (not only the anchor) before the minimum.",
                lambda embeddings, labels: _masked_triplets(embeddings, labels, any_negative=True)),
    ),
    description="Batch-hard mining: the farthest positive and nearest negative of every anchor.",
))


# --------------------------------------------------------------------------- semi_hard_mask
def _semi_hard_cases(generator: torch.Generator, hidden: bool) -> list[dict]:
    """Distances on a grid of 1/16 (exact in float), with ties at both bounds of the semi-hard band."""
    d_ap = torch.tensor([0.5, 0.5, 0.5, 0.5, 0.5, 0.5], dtype=torch.float64)
    d_an = torch.tensor([0.25, 0.5, 0.625, 0.75, 1.0, 0.6875], dtype=torch.float64)
    cases = [dict(d_ap=d_ap, d_an=d_an, margin=0.25)]
    sizes = ((30, 0.25), (60, 0.5))
    ### BEGIN HIDDEN
    if hidden:  # the grader's cases: other sizes (one triplet, odd, large) and margins
        sizes = ((1, 0.5), (17, 0.125), (200, 0.25), (64, 1.0))
    ### END HIDDEN
    for n, margin in sizes:
        d_ap = torch.randint(0, 24, (n,), generator=generator).to(torch.float64) / 16
        offset = torch.randint(-8, 16, (n,), generator=generator).to(torch.float64) / 16
        d_an = d_ap + offset
        tie_low, tie_high = torch.rand(n, generator=generator) < 0.1, torch.rand(n, generator=generator) < 0.1
        d_an = torch.where(tie_low, d_ap, torch.where(tie_high, d_ap + margin, d_an)).clamp(min=0.0)
        cases.append(dict(d_ap=d_ap, d_an=d_an, margin=margin))
    return cases


def _reference_semi_hard(d_ap, d_an, margin):
    return torch.tensor([ap < an < ap + margin for ap, an in zip(d_ap.tolist(), d_an.tolist())], dtype=torch.bool)


SEMI_HARD_MASK = register(Exercise(
    name="semi_hard_mask",
    notebook=NOTEBOOK,
    function="semi_hard_mask",
    points=2,
    reference=_reference_semi_hard,
    make_cases=_semi_hard_cases,
    mistakes=(
        Mistake("no upper bound",
                "you keep every negative farther than the positive; semi-hard negatives must also violate "
                "the margin: d(a,n) < d(a,p) + margin.",
                lambda d_ap, d_an, margin: d_an > d_ap),
        Mistake("hard instead of semi-hard",
                "you select negatives CLOSER than the positive (d(a,n) < d(a,p)): those are the hard ones. "
                "Semi-hard negatives are farther than the positive but inside the margin.",
                lambda d_ap, d_an, margin: d_an < d_ap),
        Mistake("no lower bound",
                "you keep every margin-violating negative (d(a,n) < d(a,p) + margin), hard ones included; "
                "semi-hard also requires d(a,p) < d(a,n).",
                lambda d_ap, d_an, margin: d_an < d_ap + margin),
        Mistake("lower bound not strict",
                "a negative exactly as far as the positive (d(a,n) = d(a,p)) is not semi-hard: use "
                "d(a,p) < d(a,n), strictly.",
                lambda d_ap, d_an, margin: (d_ap <= d_an) & (d_an < d_ap + margin)),
        Mistake("upper bound not strict",
                "a negative exactly at d(a,p) + margin has zero loss and is not semi-hard: use "
                "d(a,n) < d(a,p) + margin, strictly.",
                lambda d_ap, d_an, margin: (d_ap < d_an) & (d_an <= d_ap + margin)),
        Mistake("both bounds not strict",
                "both inequalities of FaceNet's condition are strict: d(a,p) < d(a,n) < d(a,p) + margin.",
                lambda d_ap, d_an, margin: (d_ap <= d_an) & (d_an <= d_ap + margin)),
    ),
    description="FaceNet's semi-hard condition d(a,p) < d(a,n) < d(a,p) + margin, as a boolean mask.",
))
