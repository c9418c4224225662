"""Exercises of 13 Margin losses versus cross-entropy: the expected calibration error."""

from __future__ import annotations

import math

import torch

from utils.checks import Exercise, Mistake, register
from utils.checks.comparisons import number_close

NOTEBOOK = "ex13_margins_vs_cross_entropy"


def _probability_cases(generator: torch.Generator, hidden: bool) -> list[dict]:
    """Softmax outputs, over- or under-confident; a fixed case with confidences on bin edges."""
    # confidences 0.5, 0.75, 1.0, 0.25-edge on 4 bins: (0, .25], (.25, .5], (.5, .75], (.75, 1]
    edges = torch.tensor([[0.5, 0.25, 0.25], [0.75, 0.25, 0.0], [0.0, 1.0, 0.0], [0.5, 0.3, 0.2],
                          [0.2, 0.3, 0.5], [0.1, 0.15, 0.75]], dtype=torch.float64)
    cases = [dict(probs=edges, targets=torch.tensor([0, 0, 0, 1, 2, 2]), n_bins=4)]
    shapes = ((50, 3, 10), (200, 5, 15), (80, 2, 5))
    ### BEGIN HIDDEN
    if hidden:  # the grader's cases: other sizes (one example, two classes, many examples) and bin counts
        shapes = ((1, 2, 10), (9, 3, 5), (300, 10, 15), (1000, 4, 10))
    ### END HIDDEN
    for n, classes, n_bins in shapes:
        logits = torch.randn(n, classes, generator=generator, dtype=torch.float64)
        temperature = 0.3 + 2.0 * float(torch.rand(1, generator=generator))
        probs = torch.softmax(logits / temperature, dim=1)
        # correct with a probability that wiggles around the confidence: over-confident in some bins,
        # under-confident in others (with one sign everywhere, the binning would not matter)
        confidence, predicted = probs.max(dim=1)
        p_correct = (confidence + 0.3 * torch.sin(12 * confidence)).clamp(0.0, 1.0)
        correct = torch.rand(n, generator=generator, dtype=torch.float64) < p_correct
        other = (predicted + torch.randint(1, classes, (n,), generator=generator)) % classes
        targets = torch.where(correct, predicted, other)
        cases.append(dict(probs=probs, targets=targets, n_bins=n_bins))
    return cases


def _reference_ece(probs, targets, n_bins=10):
    rows = probs.tolist()
    n = len(rows)
    bins = [[] for _ in range(n_bins)]
    for row, target in zip(rows, targets.tolist()):
        confidence = max(row)
        predicted = row.index(confidence)
        # bin b holds (b/n_bins, (b+1)/n_bins]; a confidence of exactly 0 goes to the first bin
        b = max(0, min(n_bins - 1, math.ceil(confidence * n_bins) - 1))
        bins[b].append((confidence, predicted == target))
    total = 0.0
    for members in bins:
        if members:
            accuracy = sum(ok for _, ok in members) / len(members)
            confidence = sum(c for c, _ in members) / len(members)
            total += len(members) / n * abs(accuracy - confidence)
    return total


_compare = number_close


def _bin_stats(probs, targets, n_bins, *, confidence=None, left_closed=False):
    top, predicted = probs.max(dim=1)
    conf = top if confidence is None else confidence
    if left_closed:
        index = torch.clamp((conf * n_bins).floor().long(), max=n_bins - 1)
    else:
        index = torch.clamp(torch.ceil(conf * n_bins).long() - 1, 0, n_bins - 1)
    correct = (predicted == targets).double()
    count = torch.bincount(index, minlength=n_bins).double()
    acc = torch.bincount(index, weights=correct, minlength=n_bins) / count
    mean_conf = torch.bincount(index, weights=conf, minlength=n_bins) / count
    return count, acc, mean_conf


def _weighted(count, acc, mean_conf):
    keep = count > 0
    return float((count[keep] * (acc[keep] - mean_conf[keep]).abs()).sum() / count.sum())


def _unweighted(probs, targets, n_bins=10):
    count, acc, mean_conf = _bin_stats(probs, targets, n_bins)
    keep = count > 0
    return float((acc[keep] - mean_conf[keep]).abs().mean())


def _true_class_confidence(probs, targets, n_bins=10):
    conf = probs[torch.arange(len(targets)), targets]
    return _weighted(*_bin_stats(probs, targets, n_bins, confidence=conf))


def _nan_from_empty(probs, targets, n_bins=10):
    count, acc, mean_conf = _bin_stats(probs, targets, n_bins)
    return float((count * (acc - mean_conf).abs()).sum() / count.sum())


def _signed(probs, targets, n_bins=10):
    count, acc, mean_conf = _bin_stats(probs, targets, n_bins)
    keep = count > 0
    return float((count[keep] * (acc[keep] - mean_conf[keep])).sum().abs() / count.sum())


def _left_closed(probs, targets, n_bins=10):
    return _weighted(*_bin_stats(probs, targets, n_bins, left_closed=True))


def _ten_bins(probs, targets, n_bins=10):
    return _weighted(*_bin_stats(probs, targets, 10))


EXPECTED_CALIBRATION_ERROR = register(Exercise(
    name="expected_calibration_error",
    notebook=NOTEBOOK,
    function="expected_calibration_error",
    points=3,
    reference=_reference_ece,
    make_cases=_probability_cases,
    compare=_compare,
    mistakes=(
        Mistake("unweighted mean over bins",
                "you average |accuracy - confidence| over the bins with equal weights; each bin must weigh "
                "its share of examples, |B_b| / N, so that a bin of 2 examples does not count as much as a "
                "bin of 500.", _unweighted),
        Mistake("confidence of the true class",
                "the confidence is the probability of the PREDICTED class (the row's maximum), not of the "
                "target class; accuracy asks whether that predicted class is the target.",
                _true_class_confidence),
        Mistake("NaN from empty bins",
                "an empty bin has no accuracy (0/0 = NaN) and poisons the sum: skip empty bins (their weight "
                "is 0 anyway).", _nan_from_empty),
        Mistake("signed gaps",
                "take the absolute value of each bin's gap, |acc(B) - conf(B)|, before summing: "
                "over- and under-confident bins must not cancel.", _signed),
        Mistake("left-closed bins",
                "the bins are right-closed, (b/n_bins, (b+1)/n_bins]: a confidence of exactly 0.5 with 4 bins "
                "belongs to (0.25, 0.5], not [0.5, 0.75). Use ceil(conf·n_bins) - 1 (clamped to 0), or "
                "torch.bucketize(conf, inner_edges) with its default right=False.", _left_closed),
        Mistake("n_bins ignored",
                "your result does not change with `n_bins`: use it for the bin edges, instead of a fixed 10.",
                _ten_bins),
    ),
    description="Expected calibration error of the top-label confidence, right-closed equal-width bins.",
))
