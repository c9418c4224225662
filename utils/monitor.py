"""A margin-violation monitor: the fraction of examples (or pairs, or triplets) that violate the margin,
recorded during training, plotted, and turned into a diagnosis.

The chapter's guideline: "Monitor how many examples violate the margin. If almost none violate it,
training may have little signal. If almost all violate it for a long time, the margin may be too large,
the model may be underpowered, or negative examples may be too hard." Under a margin loss, an example
violates the margin exactly when its loss is positive, i.e. when it still sends a gradient.
matplotlib is imported only inside the plotting methods.
Introduced in: 14 Practical guidelines.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import torch

from utils.validation import (
    check_binary_targets,
    check_class_targets,
    check_float_tensor,
    check_margin,
    check_ndim,
    check_nonempty,
    check_same_shape,
)

# Thresholds of ``diagnose`` (documented there).
LOW = 0.02
HIGH = 0.9
LONG = 0.5
TAIL = 0.1

HEALTHY = "healthy"
TOO_FEW = "almost no violations: little training signal (margin too small?)"
TOO_MANY = "almost all violate for long: margin too large, model too small, or negatives too hard"


def binary_violations(scores: torch.Tensor, targets: torch.Tensor, *, margin: float = 1.0) -> torch.Tensor:
    """Which examples violate the binary margin: ``y s < margin`` (hinge loss > 0). (N,), (N,) -> (N,) bool.

    Introduced in: 14 Practical guidelines. Targets in {-1, +1}.
    """
    margin = check_margin(margin)
    check_float_tensor("scores", scores)
    check_binary_targets(targets)
    check_same_shape(scores=scores, targets=targets)
    return targets.to(scores.dtype) * scores.detach() < margin


def multiclass_violations(scores: torch.Tensor, targets: torch.Tensor, *, margin: float = 1.0) -> torch.Tensor:
    """Which examples violate the multiclass margin: some wrong class j has ``s_j > s_c - margin``.

    Introduced in: 14 Practical guidelines.

    Exactly the examples with a positive multiclass hinge loss (Weston-Watkins or Crammer-Singer: both
    are positive iff ``max_{j != c} s_j - s_c + margin > 0``).

    Parameters
    ----------
    scores : Tensor of shape (N, C); targets : int Tensor of shape (N,); margin : float >= 0

    Returns
    -------
    Tensor of shape (N,), bool
    """
    margin = check_margin(margin)
    check_float_tensor("scores", scores)
    check_ndim("scores", scores, 2, "(N, C)")
    check_class_targets(targets, scores.shape[1])
    s = scores.detach()
    correct = s.gather(1, targets.long().unsqueeze(1)).squeeze(1)
    wrong = s.scatter(1, targets.long().unsqueeze(1), float("-inf")).amax(dim=1)
    return wrong - correct + margin > 0


def triplet_violations(d_ap: torch.Tensor, d_an: torch.Tensor, *, margin: float = 1.0) -> torch.Tensor:
    """Which triplets violate ``d(a,p) + margin <= d(a,n)`` (triplet loss > 0). (T,), (T,) -> (T,) bool.

    Introduced in: 14 Practical guidelines.
    """
    margin = check_margin(margin)
    check_float_tensor("d_ap", d_ap)
    check_float_tensor("d_an", d_an)
    check_same_shape(d_ap=d_ap, d_an=d_an)
    return d_ap.detach() - d_an.detach() + margin > 0


@dataclass(frozen=True)
class Diagnosis:
    """Result of ``diagnose``: ``status`` (one of the three messages), and the numbers behind it."""

    status: str
    share_quiet: float  # share of recorded steps with violation fraction <= low
    share_busy: float  # share of recorded steps with violation fraction >= high
    tail_mean: float  # mean violation fraction over the last `tail` share of steps

    def __str__(self) -> str:
        return (f"{self.status}  [steps with <= low: {self.share_quiet:.2f}, with >= high: {self.share_busy:.2f}, "
                f"final mean: {self.tail_mean:.3f}]")


def diagnose(
    fractions: Sequence[float], *, low: float = LOW, high: float = HIGH, long: float = LONG, tail: float = TAIL
) -> Diagnosis:
    """Turn a violation-fraction curve into one of three diagnoses.

    Introduced in: 14 Practical guidelines.

    Rules (defaults ``low=0.02``, ``high=0.9``, ``long=0.5``, ``tail=0.1``):

    1. **too many** — at least a share ``long`` of the recorded steps have a violation fraction
       ``>= high`` AND the mean over the last ``tail`` share of steps is still ``>= high``:
       "almost all violate for long: margin too large, model too small, or negatives too hard".
    2. **too few** — otherwise, if at least a share ``long`` of the steps have a fraction ``<= low``:
       "almost no violations: little training signal (margin too small?)". A run that only reaches
       ~0 violations in its last steps is not flagged: it is converging, not starved.
    3. **healthy** otherwise (typically: the fraction falls from near 1 and levels off in between).

    Why these numbers: 2 % and 90 % are "almost none" and "almost all" of the chapter; "for long" is
    read as "for most of the recorded run". They are heuristics: change them for your setting, and note
    that the curve is measured on training data, so it says nothing about generalisation (tune the
    margin on a validation split for that).

    Parameters
    ----------
    fractions : sequence of float in [0, 1]
        Violation fraction per recorded step, in order.

    Returns
    -------
    Diagnosis
    """
    values = [float(f) for f in fractions]
    if not values:
        raise ValueError("fractions is empty: nothing was recorded. Fix: call monitor.record(...) during training.")
    if any(not (0.0 <= f <= 1.0) for f in values):
        raise ValueError(f"fractions must lie in [0, 1]; got min {min(values)}, max {max(values)}.")
    if not (0.0 <= low < high <= 1.0):
        raise ValueError(f"need 0 <= low < high <= 1; got low={low}, high={high}.")
    for name, v in (("long", long), ("tail", tail)):
        if not 0.0 < v <= 1.0:
            raise ValueError(f"{name} must lie in (0, 1]; got {v}.")
    n = len(values)
    share_quiet = sum(f <= low for f in values) / n
    share_busy = sum(f >= high for f in values) / n
    k = max(1, math.ceil(tail * n))
    tail_mean = sum(values[-k:]) / k
    if share_busy >= long and tail_mean >= high:
        status = TOO_MANY
    elif share_quiet >= long:
        status = TOO_FEW
    else:
        status = HEALTHY
    return Diagnosis(status, share_quiet, share_busy, tail_mean)


@dataclass
class MarginViolationMonitor:
    """Record the fraction of examples (or pairs, triplets) violating the margin during training.

    Introduced in: 14 Practical guidelines.

    Call ``record`` once per step (or epoch) with either a fraction, a boolean violation mask, or the
    per-example losses of a margin loss (``reduction="none"``: a loss > 0 is a violation). Then
    ``plot()`` draws the curve and ``diagnose()`` names it (see :func:`diagnose`).

    Examples
    --------
    >>> monitor = MarginViolationMonitor("hinge")
    >>> monitor.record(torch.tensor([0.0, 0.3, 0.0, 1.2]))  # per-example hinge losses
    0.5
    >>> monitor.record(torch.tensor([True, False, False, False]))
    0.25
    >>> monitor.fractions
    [0.5, 0.25]
    """

    name: str | None = None
    steps: list[int] = field(default_factory=list)
    fractions: list[float] = field(default_factory=list)

    def record(self, violations, step: int | None = None) -> float:
        """Record one step and return its violation fraction.

        Parameters
        ----------
        violations : float, or Tensor of shape (N,)
            A fraction in [0, 1]; a bool mask (True = violates); or per-example margin losses
            (float, >= 0; violation = loss > 0).
        step : int, optional
            Step number (default: one more than the last recorded).
        """
        if isinstance(violations, torch.Tensor):
            check_nonempty("violations", violations)
            if violations.dtype == torch.bool:
                fraction = violations.double().mean().item()
            elif violations.is_floating_point():
                v = violations.detach()
                if (v < 0).any() or not torch.isfinite(v).all():
                    raise ValueError(
                        "a float tensor passed to record() is read as per-example margin losses, which are >= 0 "
                        "and finite; got negative or non-finite values. Fix: pass a bool mask "
                        "(e.g. utils.monitor.binary_violations(scores, y)) or losses with reduction='none'."
                    )
                fraction = (v > 0).double().mean().item()
            else:
                raise TypeError(f"violations tensor must be bool or float; got {violations.dtype}. "
                                f"Fix: pass a bool mask or per-example losses.")
        elif isinstance(violations, (int, float)) and not isinstance(violations, bool):
            fraction = float(violations)
            if not 0.0 <= fraction <= 1.0:
                raise ValueError(f"a fraction must lie in [0, 1]; got {fraction}.")
        else:
            raise TypeError(f"violations must be a float or a tensor; got {type(violations).__name__}.")
        step = (self.steps[-1] + 1 if self.steps else 0) if step is None else int(step)
        self.steps.append(step)
        self.fractions.append(fraction)
        return fraction

    def diagnose(self, **thresholds) -> Diagnosis:
        """Diagnose the recorded curve; keyword thresholds as in :func:`diagnose`."""
        return diagnose(self.fractions, **thresholds)

    def plot(self, ax=None, *, label: str | None = None, thresholds: bool = True, color=None,
             xlabel: str = "training step", low: float = LOW, high: float = HIGH):
        """Plot the violation fraction against the step, with the ``low``/``high`` thresholds shaded.

        Returns the matplotlib Axes.
        """
        import matplotlib.pyplot as plt

        ax = ax or plt.subplots()[1]
        ax.plot(self.steps, self.fractions, label=label or self.name, color=color)
        if thresholds and not getattr(ax, "_violation_bands", False):
            ax.axhspan(high, 1.0, color="#D55E00", alpha=0.08, lw=0)
            ax.axhspan(0.0, low, color="#0072B2", alpha=0.08, lw=0)
            ax.axhline(high, color="#D55E00", ls=":", lw=1)
            ax.axhline(low, color="#0072B2", ls=":", lw=1)
            ax._violation_bands = True
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("fraction violating the margin")
        if label or self.name:
            ax.legend()
        return ax
