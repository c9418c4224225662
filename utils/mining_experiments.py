"""Training an embedding with a triplet miner, and the measurements the mining notebook needs.

Introduced in: 10 Hard negative mining.

:func:`utils.embedding.train_embedding` hands ``batch_loss`` the embeddings and labels of a batch,
not the positions of its examples in the training set. Measuring how often a miner picks an example
whose label was corrupted needs those positions, so this module owns a small loop of its own
(same PK batches, same Adam, same order of random draws as ``train_embedding``) that records, per
step, what the miner chose:

- ``loss``: the batch loss, the mean triplet loss over the mined triplets (``reduction="mean"``) or
  over the active ones only (``reduction="mean_nonzero"``, Hermans et al.'s "batch all"); 0 when the
  miner finds none;
- ``active_fraction``: share of the mined triplets with a positive loss;
- ``hard_fraction``: share of the mined triplets that are hard, ``d(a,n) < d(a,p)``;
- ``num_triplets``: how many triplets the miner returned;
- ``grad_norm``: the norm of the gradient of the loss over all the network's parameters;
- only when ``flipped`` is given: ``noisy_share``, the share of the mined triplets with at least
  one member whose label was flipped; ``noisy_positive_share`` and ``noisy_negative_share``, the
  share whose positive (resp. negative) was flipped; ``noisy_loss_share``, the share of the batch's
  total mined loss carried by triplets with a flipped member; ``noisy_in_batch``, the share of flipped
  examples in the batch (what a miner blind to the labels' quality would pick per member);

and, every ``eval_every`` steps, on an evaluation set: ``recall_at_1`` and ``mean_distance`` (the
mean pairwise Euclidean distance of the embeddings, which goes to 0 when training collapses); after
the last step also ``map_at_r`` (MAP@R, :func:`utils.retrieval.map_at_r`; a list with one entry).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from utils.distances import paired_distances, pairwise_distances
from utils.embedding import EmbeddingNet, embed
from utils.miners import mine_triplets
from utils.retrieval import map_at_r
from utils.sampling import class_balanced_batches
from utils.validation import check_margin


def flip_labels(labels, fraction, *, generator=None):
    """Corrupt a fraction of integer labels: each chosen label becomes a uniformly random OTHER class.

    Introduced in: 10 Hard negative mining.

    Parameters
    ----------
    labels : Tensor of shape (N,)
        Integer class labels with at least 2 distinct values.
    fraction : float
        Share of labels to flip, in [0, 1]; exactly ``round(fraction * N)`` labels change.
    generator : torch.Generator, optional
        Source of randomness (the same seed flips the same labels the same way).

    Returns
    -------
    noisy_labels : Tensor of shape (N,), int64
        A copy of ``labels`` with the chosen entries replaced.
    flipped : Tensor of shape (N,), bool
        True where the label was changed (``noisy_labels != labels`` exactly there).

    Raises
    ------
    TypeError
        If ``labels`` is not an integer tensor.
    ValueError
        If ``labels`` is not 1-D, has fewer than 2 classes, or ``fraction`` is outside [0, 1].

    Examples
    --------
    >>> y = torch.arange(10) % 2
    >>> noisy, flipped = flip_labels(y, 0.3, generator=torch.Generator().manual_seed(0))
    >>> int(flipped.sum()), bool((noisy != y).eq(flipped).all())
    (3, True)
    """
    if not isinstance(labels, torch.Tensor):
        raise TypeError(f"labels must be a torch.Tensor; got {type(labels).__name__}.")
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise TypeError(f"labels must be integer class labels; got dtype {labels.dtype}. Fix: use labels.long().")
    if labels.dim() != 1:
        raise ValueError(f"labels must be 1-D with shape (N,); got shape {tuple(labels.shape)}.")
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be a number in [0, 1]; got {fraction!r}. Fix: e.g. fraction=0.2.")
    classes = torch.unique(labels)
    if classes.numel() < 2:
        raise ValueError(
            f"flipping a label needs another class to flip to; got a single class {classes.tolist()}. "
            f"Fix: pass labels with at least 2 classes."
        )
    n = labels.shape[0]
    chosen = torch.randperm(n, generator=generator)[: int(round(fraction * n))]
    # Position of each chosen label among the sorted classes, then a uniform shift in [1, C-1]:
    # (position + shift) mod C is uniform over the C - 1 other classes.
    position = torch.searchsorted(classes, labels[chosen])
    shift = torch.randint(1, classes.numel(), (chosen.numel(),), generator=generator)
    noisy = labels.clone().long()
    noisy[chosen] = classes[(position + shift) % classes.numel()]
    flipped = torch.zeros(n, dtype=torch.bool)
    flipped[chosen] = True
    return noisy, flipped


REDUCTIONS = ("mean", "mean_nonzero")


def mined_triplet_loss(embeddings, labels, *, strategy, margin, metric="euclidean", generator=None,
                       reduction="mean"):
    """Mean triplet loss ``max(0, d(a,p) - d(a,n) + margin)`` over the triplets a miner picks.

    Introduced in: 10 Hard negative mining.

    Parameters
    ----------
    embeddings : Tensor of shape (B, D)
        Batch embeddings (differentiable).
    labels : Tensor of shape (B,)
        Integer labels of the batch.
    strategy : {"random", "batch_hard", "semi_hard", "all"}
        Passed to :func:`utils.miners.mine_triplets` (``margin`` is passed for "semi_hard").
    margin : float
        Margin of the loss (and of the semi-hard band), >= 0.
    metric : {"euclidean", "squared_euclidean", "cosine"}, default="euclidean"
        Distance used both to mine and in the loss.
    generator : torch.Generator, optional
        For the "random" strategy.
    reduction : {"mean", "mean_nonzero"}, default="mean"
        ``"mean"``: the sum of the per-triplet losses divided by the number of mined triplets
        (PML's ``MeanReducer``). ``"mean_nonzero"``: divided by the number of triplets with a
        positive loss (PML's default ``AvgNonZeroReducer``); with ``strategy="all"`` this is the
        "batch all" loss of Hermans et al. (2017), which does not fade as easy triplets pile up.

    Returns
    -------
    loss : Tensor, scalar
        The reduced loss; ``0 * embeddings.sum()`` (zero, with a zero gradient) if no triplet is
        mined, or, for ``"mean_nonzero"``, if none is active.
    triplets : tuple of three (T,) int64 Tensors
        The mined (anchor, positive, negative) indices.
    per_triplet : Tensor of shape (T,)
        The loss of each mined triplet.

    Raises
    ------
    ValueError
        If ``margin`` < 0 or ``reduction`` is not one of ``REDUCTIONS``.
    """
    margin = check_margin(margin)
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}; got {reduction!r}.")
    a, p, n = mine_triplets(
        embeddings, labels, strategy=strategy, margin=margin if strategy == "semi_hard" else None,
        generator=generator, metric=metric,
    )
    if a.numel() == 0:
        return 0.0 * embeddings.sum(), (a, p, n), embeddings.new_zeros(0)
    z = embeddings
    per_triplet = torch.clamp(
        paired_distances(z[a], z[p], metric=metric) - paired_distances(z[a], z[n], metric=metric) + margin,
        min=0.0,
    )
    if reduction == "mean":
        return per_triplet.mean(), (a, p, n), per_triplet
    active = int((per_triplet > 0).sum())
    return per_triplet.sum() / max(active, 1), (a, p, n), per_triplet


def mean_pairwise_distance(embeddings):
    """Mean Euclidean distance over all pairs i != j of (N, D) embeddings (0 = collapsed to a point).

    Introduced in: 10 Hard negative mining.
    """
    n = embeddings.shape[0]
    if n < 2:
        raise ValueError(f"need at least 2 embeddings for a pairwise distance; got N={n}.")
    with torch.no_grad():
        return float(pairwise_distances(embeddings.detach()).sum() / (n * (n - 1)))


def recall_at_1(embeddings, labels):
    """Leave-one-out Recall@1 by one ``argmin`` per row (no full sort); equals
    ``utils.retrieval.recall_at_k(embeddings, labels, k=1)``, ties to the lowest index included.

    Introduced in: 10 Hard negative mining.

    Parameters
    ----------
    embeddings : Tensor of shape (N, D)
    labels : Tensor of shape (N,), integer

    Returns
    -------
    float
        Share of the queries whose class has another member (the others are left out, as in
        ``recall_at_k``) whose nearest other example has their label.
    """
    with torch.no_grad():
        dist = pairwise_distances(embeddings.detach())
        dist.fill_diagonal_(float("inf"))
        nearest = dist.argmin(dim=1)
    has_other = (labels.unsqueeze(0) == labels.unsqueeze(1)).sum(dim=1) > 1
    if not has_other.any():
        raise ValueError("no query has a same-class example: every class holds a single example.")
    hit = labels[nearest] == labels
    return float(hit[has_other].double().mean())


@dataclass
class MiningRun:
    """What :func:`train_with_miner` recorded. Per-step lists have one entry per optimiser step;
    ``eval_step``, ``recall_at_1`` and ``mean_distance`` one entry per evaluation."""

    model: torch.nn.Module
    history: dict[str, list[float]] = field(default_factory=dict)


def train_with_miner(
    X, y, *, strategy, margin, steps, classes_per_batch, samples_per_class, lr=1e-3, out_features=16,
    normalize=True, metric="euclidean", seed=0, flipped=None, eval_X=None, eval_y=None, eval_every=10,
    reduction="mean",
):
    """Train an :class:`~utils.embedding.EmbeddingNet` with mined triplets on PK batches (Adam).

    Introduced in: 10 Hard negative mining.

    The batches, optimiser and the order of random draws are those of
    :func:`utils.embedding.train_embedding` with ``batch_loss`` = :func:`mined_triplet_loss`, so
    the loss history is identical to it; this loop additionally knows each batch's positions in
    ``X``, to report how often the miner picks examples whose label was flipped.

    Parameters
    ----------
    X : Tensor of shape (N, D_in)
        Training inputs, float32 or float64; the network is built in float32 (same initial weights
        for both) and then cast to ``X.dtype``. float64 shrinks the rounding differences between
        CPUs, but training can amplify them: report scores with the digits the seeds support.
    y : Tensor of shape (N,)
        Training labels (possibly corrupted, see ``flipped``).
    strategy : {"random", "batch_hard", "semi_hard", "all"}
        The miner.
    margin : float
        Triplet margin (and semi-hard band), >= 0.
    steps : int
        Optimiser steps, >= 1.
    classes_per_batch, samples_per_class : int
        P and K of the PK batches (B = P * K).
    lr : float, default=1e-3
        Adam learning rate.
    out_features : int, default=16
        Embedding dimension D.
    normalize : bool, default=True
        L2-normalise the embeddings (unit sphere).
    metric : {"euclidean", "squared_euclidean", "cosine"}, default="euclidean"
        Distance used to mine and in the loss.
    seed : int, default=0
        Seeds the network's initial weights (without touching torch's global random state), the
        batch sampler (``seed``) and the random miner (``seed + 1``).
    flipped : Tensor of shape (N,), bool, optional
        Which training labels were corrupted; enables ``noisy_share`` and ``noisy_in_batch``.
    eval_X, eval_y : Tensor, optional
        Evaluation set, (M, D_in) and (M,); enables ``recall_at_1`` and ``mean_distance``, measured
        before training (step 0), after every ``eval_every`` steps and after the last step, and
        ``map_at_r``, after the last step.
    eval_every : int, default=10
    reduction : {"mean", "mean_nonzero"}, default="mean"
        How the mined triplets' losses are averaged, see :func:`mined_triplet_loss`.

    Returns
    -------
    MiningRun
        ``.model`` (trained) and ``.history`` (see the module docstring for the keys).

    Raises
    ------
    ValueError
        If shapes disagree, ``steps`` < 1, or the labels cannot give the PK batches.
    """
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X and y must have the same number of rows; got {X.shape[0]} and {y.shape[0]}.")
    if flipped is not None and (flipped.dtype != torch.bool or flipped.shape != y.shape):
        raise ValueError(f"flipped must be a bool tensor of shape {tuple(y.shape)}; got {flipped.dtype} "
                         f"{tuple(flipped.shape)}. Fix: pass the mask returned by flip_labels.")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int; got {steps!r}.")
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = EmbeddingNet(in_features=X.shape[1], out_features=out_features, normalize=normalize)
    model = model.to(X.dtype)
    batches = class_balanced_batches(
        y, classes_per_batch=classes_per_batch, samples_per_class=samples_per_class, num_batches=steps,
        generator=torch.Generator().manual_seed(seed),
    )
    miner_generator = torch.Generator().manual_seed(seed + 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history: dict[str, list[float]] = {
        "loss": [], "active_fraction": [], "hard_fraction": [], "num_triplets": [], "grad_norm": []
    }
    if flipped is not None:
        history.update(noisy_share=[], noisy_positive_share=[], noisy_negative_share=[], noisy_loss_share=[],
                       noisy_in_batch=[])

    def evaluate(step):
        if eval_X is not None:
            z = embed(model, eval_X)
            history.setdefault("eval_step", []).append(step)
            history.setdefault("recall_at_1", []).append(recall_at_1(z, eval_y))
            history.setdefault("mean_distance", []).append(mean_pairwise_distance(z))
            if step == steps:  # MAP@R costs about six Recall@1: only at the end
                history["map_at_r"] = [map_at_r(z, eval_y)]

    evaluate(0)
    model.train()
    for step, idx in enumerate(batches, start=1):
        loss, (a, p, n), per_triplet = mined_triplet_loss(
            model(X[idx]), y[idx], strategy=strategy, margin=margin, metric=metric, generator=miner_generator,
            reduction=reduction,
        )
        optimizer.zero_grad()
        loss.backward()
        grad_norm = torch.linalg.vector_norm(
            torch.stack([torch.linalg.vector_norm(q.grad) for q in model.parameters() if q.grad is not None])
        )
        optimizer.step()
        history["grad_norm"].append(float(grad_norm))
        history["loss"].append(loss.item())
        history["num_triplets"].append(float(a.numel()))
        history["active_fraction"].append(float((per_triplet > 0).double().mean()) if a.numel() else 0.0)
        # hard: the hinge argument exceeds the margin, i.e. d(a,n) < d(a,p)
        history["hard_fraction"].append(float((per_triplet > margin).double().mean()) if a.numel() else 0.0)
        if flipped is not None:
            bad = flipped[idx]
            history["noisy_in_batch"].append(float(bad.double().mean()))
            for key, involved in (
                ("noisy_share", bad[a] | bad[p] | bad[n]),
                ("noisy_positive_share", bad[p]),
                ("noisy_negative_share", bad[n]),
            ):
                history[key].append(float(involved.double().mean()) if a.numel() else 0.0)
            total = float(per_triplet.detach().double().sum())
            noisy_loss = float(per_triplet.detach().double()[bad[a] | bad[p] | bad[n]].sum())
            history["noisy_loss_share"].append(noisy_loss / total if total > 0 else 0.0)
        if step % eval_every == 0 or step == steps:
            evaluate(step)
    return MiningRun(model, history)


# ------------------------------------------------------------------------------ several seeds


def mean_sd(values, digits=3):
    """``"mean ± sd"`` of a list of numbers (sample standard deviation, n - 1), ``digits`` decimals.

    Introduced in: 10 Hard negative mining (results over several seeds).

    >>> mean_sd([0.5, 0.7])
    '0.600 ± 0.141'
    """
    values = [float(v) for v in values]
    if len(values) < 2:
        raise ValueError(f"a spread needs at least 2 values; got {len(values)}.")
    mean = sum(values) / len(values)
    sd = (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5
    return f"{mean:.{digits}f} ± {sd:.{digits}f}"


def seed_mean(histories, key):
    """Mean over runs of the per-step (or per-evaluation) list ``history[key]``: a list of S histories,
    each with a list of length T under ``key`` -> list of T floats.

    Introduced in: 10 Hard negative mining.
    """
    lists = [h[key] for h in histories]
    if not lists or len({len(v) for v in lists}) != 1:
        raise ValueError(f"need at least one history and lists of one length under {key!r}.")
    return [sum(v) / len(v) for v in zip(*lists)]


def plot_seed_means(runs, keys, *, names, colours, ylabels, title, log_y=(), suffix="", styles=None):
    """One panel per key: for each strategy of ``runs`` ({strategy: [history, ...]}) the mean over
    seeds of ``history[key]``, against the training step (per-step keys) or ``history["eval_step"]``
    (keys recorded at evaluations). ``styles`` maps a strategy to a line style (default solid), so
    that curves lying on top of each other stay visible. Legend outside the axes, right. Returns the figure.

    Introduced in: 10 Hard negative mining.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(keys))
    for strategy, histories in runs.items():
        for ax, key in zip(axes, keys):
            values = seed_mean(histories, key)
            steps = histories[0].get("eval_step") if len(values) != len(histories[0]["loss"]) else None
            ax.plot(steps or range(1, len(values) + 1), values, marker="o" if steps else None, ms=3,
                    ls=(styles or {}).get(strategy, "-"), color=colours[strategy], label=names[strategy] + suffix)
    for ax, key, label in zip(axes, keys, ylabels):
        ax.set(xlabel="training step", ylabel=label, yscale="log" if key in log_y else "linear")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside right center", fontsize=8)
    fig.suptitle(title)
    return fig


def print_seed_table(runs, columns, *, names, title=None, width=15, digits=2):
    """Print one row per strategy and, per column, ``"mean ± sd"`` over its runs (seeds).

    Introduced in: 10 Hard negative mining.

    Parameters
    ----------
    runs : dict of str -> list of dict
        ``{strategy: [history of seed 0, history of seed 1, ...]}``, at least 2 histories each.
    columns : dict of str -> callable
        ``{header: fn}`` with ``fn(history) -> float``; a header may hold ``\\n`` for two lines.
    names : dict of str -> str
        Display name of each strategy.
    title : str, optional
        A line printed above the table.
    width : int, default=15
    digits : int, default=2
        Decimals of the mean and the spread. Two by default: short training runs are chaotic, so the
        third decimal of a trained model's score can change with the CPU's summation order (measured:
        float64 weights drifted by 1e-4 relative between ATen's ``default`` and ``avx2`` kernels after
        100 Adam steps), while the seed-to-seed spread is itself of order 0.01.
        Width of each column.
    """
    if title is not None:
        print(title)
    headers = [h.split("\n") for h in columns]
    lines = max(len(h) for h in headers)
    for i in range(lines):
        print(f"{'':14s}" + "".join(f"{(h[i] if i < len(h) else ''):>{width}s}" for h in headers))
    for strategy, histories in runs.items():
        cells = [mean_sd([fn(h) for h in histories], digits) for fn in columns.values()]
        print(f"{names[strategy]:14s}" + "".join(f"{c:>{width}s}" for c in cells))
