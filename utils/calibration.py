"""Calibration of classifier outputs: expected calibration error, reliability diagrams, and the two
post-hoc mappings that turn scores into probabilities (temperature scaling, Platt scaling).

A classifier is *calibrated* when, among the examples it predicts with confidence p, a fraction p
is correct. Cross-entropy trains probabilities; a margin loss trains scores, and scores only become
"probabilities" through a mapping that the user chooses (softmax of the raw scores is the naive one).
matplotlib is imported only inside ``reliability_diagram``.
Introduced in: 13 Margin losses versus cross-entropy.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from utils.validation import check_class_targets, check_float_tensor, check_ndim, check_nonempty


def _check_probs(probs: torch.Tensor, targets: torch.Tensor) -> None:
    check_float_tensor("probs", probs)
    check_ndim("probs", probs, 2, "(N, C)")
    check_nonempty("probs", probs)
    check_class_targets(targets, probs.shape[1])
    if targets.shape[0] != probs.shape[0]:
        raise ValueError(
            f"probs and targets must have the same batch size N; got {probs.shape[0]} and {targets.shape[0]}. "
            f"Fix: pass one label per row of probs."
        )
    if (probs < 0).any() or (probs > 1).any() or not torch.isfinite(probs).all():
        raise ValueError(
            "probs must lie in [0, 1]; got values outside it. Fix: pass probabilities, e.g. "
            "torch.softmax(scores, dim=1), not raw scores."
        )
    row_sums = probs.double().sum(dim=1)
    if not torch.allclose(row_sums, torch.ones_like(row_sums), atol=1e-3):
        raise ValueError(
            f"each row of probs must sum to 1; got row sums in [{row_sums.min():.4f}, {row_sums.max():.4f}]. "
            f"Fix: normalise with torch.softmax(scores, dim=1); for binary probabilities p of the "
            f"positive class pass torch.stack([1 - p, p], dim=1)."
        )


@dataclass(frozen=True)
class ReliabilityBins:
    """Per-bin statistics of top-label confidence, ``n_bins`` equal-width bins over [0, 1].

    ``edges`` (n_bins + 1,); ``count``, ``accuracy``, ``confidence`` (n_bins,) (accuracy and
    confidence are NaN in empty bins). ``ece`` is the expected calibration error.
    """

    edges: torch.Tensor
    count: torch.Tensor
    accuracy: torch.Tensor
    confidence: torch.Tensor
    ece: float


def reliability_bins(probs: torch.Tensor, targets: torch.Tensor, *, n_bins: int = 15) -> ReliabilityBins:
    """Bin examples by top-label confidence and measure accuracy and mean confidence per bin.

    Introduced in: 13 Margin losses versus cross-entropy.

    Parameters
    ----------
    probs : Tensor of shape (N, C)
        Predicted class probabilities, rows summing to 1.
    targets : Tensor of shape (N,)
        Integer class indices in [0, C-1].
    n_bins : int, default=15
        Number of equal-width confidence bins; bin b is ``(b/n, (b+1)/n]`` (the first includes 0).

    Returns
    -------
    ReliabilityBins
        Edges, counts, per-bin accuracy and confidence, and the ECE
        ``sum_b |B_b|/N * |acc(B_b) - conf(B_b)|``.
    """
    _check_probs(probs, targets)
    if isinstance(n_bins, bool) or not isinstance(n_bins, int) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive int; got {n_bins!r}. Fix: pass e.g. n_bins=15.")
    probs = probs.detach().double()
    confidence, predicted = probs.max(dim=1)
    correct = (predicted == targets).double()
    edges = torch.linspace(0.0, 1.0, n_bins + 1, dtype=torch.float64)
    # bin index: ceil(conf * n) - 1, so bins are right-closed; confidence 0 falls in bin 0
    index = (torch.ceil(confidence * n_bins).long() - 1).clamp(0, n_bins - 1)
    count = torch.bincount(index, minlength=n_bins).double()
    acc_sum = torch.bincount(index, weights=correct, minlength=n_bins)
    conf_sum = torch.bincount(index, weights=confidence, minlength=n_bins)
    accuracy = acc_sum / count  # NaN where empty
    mean_conf = conf_sum / count
    ece = float(((acc_sum - conf_sum).abs()).sum() / probs.shape[0])
    return ReliabilityBins(edges, count.long(), accuracy, mean_conf, ece)


def expected_calibration_error(probs: torch.Tensor, targets: torch.Tensor, *, n_bins: int = 15) -> float:
    """Expected calibration error (ECE) of top-label confidence, equal-width bins.

    Introduced in: 13 Margin losses versus cross-entropy.

    ``ECE = sum_b |B_b| / N * |accuracy(B_b) - mean confidence(B_b)|`` (Guo et al. 2017), where the
    confidence of an example is its largest probability and it is correct when that class is the target.

    Parameters
    ----------
    probs : Tensor of shape (N, C)
        Predicted probabilities, rows summing to 1 (for binary p of class 1: ``stack([1 - p, p], 1)``).
    targets : Tensor of shape (N,)
        Integer class indices.
    n_bins : int, default=15

    Returns
    -------
    float
        In [0, 1]; 0 is perfectly calibrated (on these bins).

    Examples
    --------
    >>> probs = torch.tensor([[0.95, 0.05], [0.95, 0.05], [0.25, 0.75]])
    >>> round(expected_calibration_error(probs, torch.tensor([0, 1, 1]), n_bins=10), 4)
    0.3833
    """
    return reliability_bins(probs, targets, n_bins=n_bins).ece


def reliability_diagram(probs, targets, *, n_bins: int = 15, ax=None, title: str | None = None, color=None,
                        counts: bool = True):
    """Plot accuracy against confidence per bin (bars), the diagonal of perfect calibration, and the ECE.

    Introduced in: 13 Margin losses versus cross-entropy.

    Parameters
    ----------
    probs : Tensor of shape (N, C); targets : Tensor of shape (N,)
    n_bins : int, default=15
    ax : matplotlib Axes, optional
    title : str, optional
        Shown with the ECE appended.
    counts : bool, default=True
        Write the number of examples of each non-empty bin above the plot, over its bar: a bin of 3
        examples and a bin of 500 look alike as bars, and the ECE weighs them by these counts.

    Returns
    -------
    (ax, ReliabilityBins)
    """
    import matplotlib.pyplot as plt

    bins = reliability_bins(probs, targets, n_bins=n_bins)
    ax = ax or plt.subplots(figsize=(3.6, 3.4))[1]
    width = 1.0 / n_bins
    centres = (bins.edges[:-1] + width / 2).numpy()
    filled = bins.count > 0
    acc = torch.nan_to_num(bins.accuracy).numpy()
    ax.bar(centres[filled.numpy()], acc[filled.numpy()], width=width * 0.95, color=color or "#0072B2",
           alpha=0.8, label="accuracy in bin")
    conf = bins.confidence[filled].numpy()
    ax.plot(conf, acc[filled.numpy()], "k.", ms=5, label="(mean confidence, accuracy)")
    ax.plot([0, 1], [0, 1], "--", color="grey", lw=1, label="perfect calibration")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (largest probability)")
    ax.set_ylabel("accuracy")
    label = f"ECE = {bins.ece:.3f}"
    if counts:
        top = ax.get_xaxis_transform()  # x in data units, y in axes units: 1.0 is the top of the plot
        for x, n in zip(centres[filled.numpy()], bins.count[filled].tolist()):
            ax.text(x, 1.01, str(n), transform=top, rotation=90, ha="center", va="bottom", fontsize=6)
        ax.text(0.0, 1.01, "n:", transform=top, ha="right", va="bottom", fontsize=6)
    ax.set_title(f"{title}\n{label}" if title else label, pad=22 if counts else 6)
    return ax, bins


def _negative_log_likelihood(log_probs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return -log_probs.gather(1, targets.long().unsqueeze(1)).mean()


@dataclass(frozen=True)
class TemperatureScaling:
    """A fitted temperature ``T``: probabilities ``softmax(scores / T)``. See ``temperature_scaling``."""

    temperature: float

    def predict_proba(self, scores: torch.Tensor) -> torch.Tensor:
        """(N, C) scores -> (N, C) probabilities ``softmax(scores / T)`` (float64)."""
        check_float_tensor("scores", scores)
        check_ndim("scores", scores, 2, "(N, C)")
        return torch.softmax(scores.detach().double() / self.temperature, dim=1)


def temperature_scaling(scores: torch.Tensor, targets: torch.Tensor, *, max_iter: int = 100) -> TemperatureScaling:
    """Fit one temperature ``T > 0`` minimising the NLL of ``softmax(scores / T)`` on held-out data.

    Introduced in: 13 Margin losses versus cross-entropy.

    Fit it on a split the model was NOT trained on (Guo et al. 2017). Dividing every score by the same
    positive T never changes the argmax, so accuracy is unchanged; only confidence is rescaled.

    Parameters
    ----------
    scores : Tensor of shape (N, C)
        Raw class scores (logits of a cross-entropy model, or scores of a margin-loss model).
    targets : Tensor of shape (N,)
        Integer class indices.
    max_iter : int, default=100
        L-BFGS iterations on ``log T`` (float64, strong-Wolfe line search).

    Returns
    -------
    TemperatureScaling
    """
    check_float_tensor("scores", scores)
    check_ndim("scores", scores, 2, "(N, C)")
    check_nonempty("scores", scores)
    check_class_targets(targets, scores.shape[1])
    s = scores.detach().double()
    log_t = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([log_t], lr=1.0, max_iter=max_iter, line_search_fn="strong_wolfe",
                            tolerance_grad=1e-12, tolerance_change=1e-14)

    def closure():
        opt.zero_grad()
        loss = _negative_log_likelihood(torch.log_softmax(s / log_t.exp(), dim=1), targets)
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    return TemperatureScaling(float(log_t.detach().exp()))


@dataclass(frozen=True)
class PlattScaling:
    """A fitted Platt mapping ``P(y = +1 | s) = sigmoid(a * s + b)``. See ``platt_scaling``."""

    a: float
    b: float

    def predict_proba(self, scores: torch.Tensor) -> torch.Tensor:
        """(N,) scores -> (N,) probabilities of the positive class (float64)."""
        check_float_tensor("scores", scores)
        return torch.sigmoid(self.a * scores.detach().double() + self.b)


def platt_scaling(
    scores: torch.Tensor, targets: torch.Tensor, *, smoothing: bool = True, max_iter: int = 100
) -> PlattScaling:
    """Fit Platt's sigmoid ``sigmoid(a s + b)`` to binary scores by maximum likelihood (Platt 1999).

    Introduced in: 13 Margin losses versus cross-entropy.

    A one-feature logistic regression on the score, fitted on held-out data. With ``smoothing``
    (Platt's original, as in libsvm) the 0/1 targets are replaced by ``(N+ + 1) / (N+ + 2)`` for
    positives and ``1 / (N- + 2)`` for negatives: without it, scores that separate the held-out set
    perfectly send ``a`` to infinity (the maximum-likelihood fit does not exist).

    Parameters
    ----------
    scores : Tensor of shape (N,)
        Raw binary scores (e.g. of a hinge-trained model).
    targets : Tensor of shape (N,)
        Labels in {-1, +1} or {0, 1} (1 is the positive class either way).
    smoothing : bool, default=True
        Use Platt's smoothed targets (see above); False fits the plain 0/1 likelihood.
    max_iter : int, default=100
        L-BFGS iterations (float64, strong-Wolfe line search).

    Returns
    -------
    PlattScaling
    """
    check_float_tensor("scores", scores)
    check_ndim("scores", scores, 1, "(N,)")
    check_nonempty("scores", scores)
    values = set(torch.unique(targets).tolist())
    if not (values <= {-1.0, 1.0} or values <= {0.0, 1.0}):
        raise ValueError(
            f"targets must be in {{-1, +1}} or {{0, 1}}; got values {sorted(values)}. "
            f"Fix: encode the positive class as 1 (see utils.labels.detect_label_convention)."
        )
    if targets.shape != scores.shape:
        raise ValueError(f"scores and targets must have the same shape; got {tuple(scores.shape)} and "
                         f"{tuple(targets.shape)}. Fix: pass one label per score.")
    s = scores.detach().double()
    y01 = (targets.double() > 0).double()
    if smoothing:
        n_pos = float(y01.sum())
        n_neg = y01.numel() - n_pos
        y01 = torch.where(y01 > 0, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2)).double()
    params = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([params], lr=1.0, max_iter=max_iter, line_search_fn="strong_wolfe",
                            tolerance_grad=1e-12, tolerance_change=1e-14)

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(params[0] * s + params[1], y01)
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    a, b = params.detach().tolist()
    return PlattScaling(a, b)
