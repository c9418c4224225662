"""A label-convention guard: detect {-1,+1} vs {0,1} vs class indices, and say (or do) the conversion
each loss needs.

The chapter: "Binary hinge loss usually expects targets in {-1,+1}, while binary cross-entropy expects
targets in {0,1}." Mixing them up fails silently in PyTorch: with {0,1} labels
``F.soft_margin_loss`` gives log 2 for every negative example whatever its score, ``F.margin_ranking_loss``
returns the margin, ``F.binary_cross_entropy_with_logits`` with -1 targets returns a loss that goes to
minus infinity. The guard turns that silence into a message.
Introduced in: 14 Practical guidelines.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from utils.validation import check_choice, check_tensor

CONVENTIONS = ("plus_minus_one", "zero_one", "class_indices")

# What each loss family expects (the book's losses and their PyTorch counterparts).
LOSS_CONVENTIONS = {
    "hinge": "plus_minus_one",  # utils.hinge_loss, squared_hinge_loss, F.margin_ranking_loss(s, 0, y)
    "squared_hinge": "plus_minus_one",
    "logistic": "plus_minus_one",  # utils.logistic_loss, F.soft_margin_loss
    "bce": "zero_one",  # F.binary_cross_entropy(_with_logits)
    "contrastive": "zero_one",  # utils.contrastive_margin_loss: 1 = similar pair
    "cross_entropy": "class_indices",  # F.cross_entropy, int64 in [0, C-1]
    "multiclass_hinge": "class_indices",  # utils.multiclass_hinge_loss, F.multi_margin_loss
}

_ADVICE = {
    "plus_minus_one": (
        "labels are {-1, +1}: use them as they are for hinge, squared hinge and logistic losses "
        "(utils.hinge_loss, F.soft_margin_loss); for binary cross-entropy (F.binary_cross_entropy_with_logits) "
        "convert with (y + 1) / 2; for cross-entropy on 2 columns or multiclass hinge use ((y + 1) // 2).long()."
    ),
    "zero_one": (
        "labels are {0, 1}: use them as they are (as float) for binary cross-entropy and as the 'similar' flag "
        "of a contrastive loss; for binary hinge, squared hinge or logistic (soft margin) losses convert with "
        "2 * y - 1 (otherwise every 0 label is silently read as a wrong class or gives a constant loss); "
        "for cross-entropy on 2 columns use y.long()."
    ),
    "class_indices": (
        "labels are class indices 0..C-1: use them as int64 for cross-entropy and multiclass hinge "
        "(F.cross_entropy, utils.multiclass_hinge_loss); for a binary loss pick a positive class k and "
        "use 2 * (y == k) - 1 for hinge/logistic or (y == k).float() for binary cross-entropy."
    ),
}


@dataclass(frozen=True)
class LabelConvention:
    """What ``detect_label_convention`` found.

    ``name`` in ``CONVENTIONS``; ``values`` the sorted distinct labels; ``advice`` what to do per loss.
    """

    name: str
    values: tuple
    advice: str

    def __str__(self) -> str:
        return f"{self.name} (values {list(self.values)}): {self.advice}"


def _distinct_values(targets: torch.Tensor) -> list:
    check_tensor("targets", targets)
    if targets.numel() == 0:
        raise ValueError("targets is empty. Fix: pass at least one label per class.")
    if targets.is_complex():
        raise TypeError(f"targets must be real; got dtype {targets.dtype}.")
    if targets.is_floating_point() and not torch.isfinite(targets).all():
        raise ValueError("targets contain NaN or inf. Fix: clean the labels first.")
    values = torch.unique(targets.detach()).tolist()
    if targets.dtype == torch.bool:
        values = [int(v) for v in values]
    return values


def detect_label_convention(targets: torch.Tensor) -> LabelConvention:
    """Detect the label convention of ``targets`` and say what each loss needs.

    Introduced in: 14 Practical guidelines.

    Rules, on the set of distinct values (bool counts as {0, 1}):

    - {-1, +1} (both present) -> ``"plus_minus_one"``;
    - {0, 1} (both present) -> ``"zero_one"`` (also valid class indices for C = 2, see advice);
    - integers 0..K-1 with K >= 3 values present, or any set of non-negative integers containing
      a value >= 2 -> ``"class_indices"``.

    Pass the labels of the whole data set (or a batch containing at least two classes): a single
    distinct value cannot identify a convention.

    Parameters
    ----------
    targets : Tensor of shape (N,) (any shape is flattened)
        Labels, integer, float or bool dtype.

    Returns
    -------
    LabelConvention

    Raises
    ------
    ValueError
        If only one distinct value is present, if values are not integers, or if they fit none of
        the conventions (e.g. {-1, 0, 1} or {1, 2}: explained in the message).

    Examples
    --------
    >>> detect_label_convention(torch.tensor([0, 1, 1, 0])).name
    'zero_one'
    >>> detect_label_convention(torch.tensor([-1.0, 1.0])).name
    'plus_minus_one'
    """
    values = _distinct_values(targets)
    shown = values[:10]
    if len(values) == 1:
        raise ValueError(
            f"targets hold a single distinct value {values[0]}: the label convention is ambiguous "
            f"({{-1,+1}}, {{0,1}} and class indices all contain it). Fix: check the labels of the whole "
            f"data set, or a batch that holds at least two classes."
        )
    if any(float(v) != int(v) for v in values):
        raise ValueError(
            f"targets must be integer-valued labels; got non-integer values {shown}. Fix: soft or "
            f"smoothed labels are not a label convention; pass hard labels."
        )
    ints = sorted(int(v) for v in values)
    if ints == [-1, 1]:
        return LabelConvention("plus_minus_one", tuple(ints), _ADVICE["plus_minus_one"])
    if ints == [0, 1]:
        return LabelConvention("zero_one", tuple(ints), _ADVICE["zero_one"])
    if ints[0] >= 0:
        advice = _ADVICE["class_indices"]
        if ints[0] != 0 or ints[-1] != len(ints) - 1:
            advice += (
                f" Note: the values present are {ints[:10]}, not 0..{len(ints) - 1}: if some classes are absent "
                f"from this batch that is fine; if labels start at 1 or skip values, remap them to 0..C-1 "
                f"(e.g. with torch.unique(y, return_inverse=True))."
            )
        return LabelConvention("class_indices", tuple(ints), advice)
    if ints == [-1, 0, 1]:
        raise ValueError(
            f"targets hold {{-1, 0, 1}}: a mix of the {{-1,+1}} and {{0,1}} conventions (or three classes "
            f"with a -1 'ignore' label). Fix: decide which convention the labels follow and re-encode them."
        )
    raise ValueError(
        f"targets hold negative values {shown} other than the {{-1, +1}} convention. Fix: map the "
        f"classes to 0..C-1 (torch.unique(y, return_inverse=True)) or to {{-1, +1}} for a binary loss."
    )


def convert_labels(targets: torch.Tensor, to: str, *, positive_class: int | None = None) -> torch.Tensor:
    """Convert binary labels between conventions (float output, except class indices: int64).

    Introduced in: 14 Practical guidelines.

    Parameters
    ----------
    targets : Tensor of shape (N,)
        Labels in any convention ``detect_label_convention`` recognises.
    to : {"plus_minus_one", "zero_one", "class_indices"}
        Target convention: {-1,+1} via ``2y - 1``, {0,1} via ``(y + 1) / 2``, {0,1} int64 indices.
    positive_class : int, optional
        Required when ``targets`` are class indices with more than two classes present (one-vs-rest:
        ``positive_class`` becomes the positive label).

    Returns
    -------
    Tensor of shape (N,)
        float32 (float64 if ``targets`` is float64) for "plus_minus_one"/"zero_one"; int64 for "class_indices".
    """
    check_choice("to", to, CONVENTIONS)
    source = detect_label_convention(targets).name
    dtype = targets.dtype if targets.dtype in (torch.float32, torch.float64) else torch.float32
    if source == "class_indices":
        if positive_class is None:
            if to == "class_indices":
                return targets.long()
            raise ValueError(
                f"targets are class indices with values {sorted(set(targets.tolist()))[:10]}; converting them to a "
                f"binary convention needs positive_class. Fix: convert_labels(y, {to!r}, positive_class=k)."
            )
        positive = (targets == positive_class).to(dtype)  # {0, 1}
    elif source == "plus_minus_one":
        positive = (targets.to(dtype) + 1) / 2
    else:
        positive = targets.to(dtype)
    if to == "plus_minus_one":
        return 2 * positive - 1
    if to == "zero_one":
        return positive
    return positive.long()


def prepare_targets(targets: torch.Tensor, loss: str, *, positive_class: int | None = None) -> torch.Tensor:
    """Return ``targets`` in the convention ``loss`` expects (see ``LOSS_CONVENTIONS``), converting if needed.

    Introduced in: 14 Practical guidelines.

    Parameters
    ----------
    targets : Tensor of shape (N,)
    loss : one of ``LOSS_CONVENTIONS`` ("hinge", "squared_hinge", "logistic", "bce", "contrastive",
        "cross_entropy", "multiclass_hinge")
    positive_class : int, optional
        For class indices fed to a binary loss (one-vs-rest).

    Raises
    ------
    ValueError
        For a multiclass loss on {-1,+1} labels (use ``convert_labels(y, "class_indices")`` explicitly:
        which of -1/+1 is class 0 is a choice), or for an unknown ``loss``.
    """
    check_choice("loss", loss, tuple(LOSS_CONVENTIONS))
    wanted = LOSS_CONVENTIONS[loss]
    found = detect_label_convention(targets).name
    if wanted == "class_indices":
        if found == "plus_minus_one":
            raise ValueError(
                f"{loss} expects class indices 0..C-1; got {{-1, +1}} labels. Fix: convert explicitly with "
                f"utils.labels.convert_labels(y, 'class_indices') (then -1 -> class 0, +1 -> class 1)."
            )
        return targets.long()
    return convert_labels(targets, wanted, positive_class=positive_class)
