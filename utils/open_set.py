"""Class-disjoint ("open-set") splits of the digits: train on some classes, evaluate on classes never seen.

Introduced in: 09 Margin losses and embedding geometry.

A learned distance is meant to work on classes the network never saw (new identities in face
verification, new products in search). Measuring that needs a split **by class**, and every
statistic the pipeline fits (here the standardisation's per-pixel mean and standard deviation) must
come from the training classes alone, or the "unseen" classes leak into training.
``utils.data.digits(classes=...)`` standardises each call with its own statistics, so it cannot
put seen and unseen classes in one coordinate system; :func:`digits_open_set` does.
scikit-learn is imported inside the function so ``import utils`` stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

import torch


@dataclass(frozen=True)
class OpenSetSplit:
    """Digits split by class, standardised with the statistics of ``X_train`` only.

    Attributes
    ----------
    X_train, y_train : Tensor of shape (N_train, 64), (N_train,)
        Training examples of the training classes.
    X_seen, y_seen : Tensor of shape (N_seen, 64), (N_seen,)
        Held-out examples of the training classes (same classes, other images).
    unseen : dict of str -> (X, y)
        For each named group of unseen classes, all its examples: X (N_g, 64), y (N_g,).
    mean, std : Tensor of shape (64,)
        The standardisation applied to every set: ``(raw - mean) / std`` (std 1 where a pixel is
        constant over ``X_train``).
    """

    X_train: torch.Tensor
    y_train: torch.Tensor
    X_seen: torch.Tensor
    y_seen: torch.Tensor
    unseen: dict = field(default_factory=dict)
    mean: torch.Tensor | None = None
    std: torch.Tensor | None = None

    def __repr__(self) -> str:
        groups = ", ".join(f"{name}={tuple(X.shape)} classes {sorted(y.unique().tolist())}"
                           for name, (X, y) in self.unseen.items())
        return (f"OpenSetSplit(train={tuple(self.X_train.shape)}, seen={tuple(self.X_seen.shape)} "
                f"classes {sorted(self.y_train.unique().tolist())}; unseen: {groups})")


def _classes(name: str, values: Iterable[int]) -> list[int]:
    try:
        classes = sorted({int(c) for c in values})
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be an iterable of digit classes 0..9; got {values!r}.") from error
    if not classes or not set(classes) <= set(range(10)):
        raise ValueError(f"{name} must be a non-empty subset of the digit classes 0..9; got {classes}.")
    return classes


def digits_open_set(
    train_classes: Iterable[int],
    unseen: Mapping[str, Iterable[int]],
    *,
    test_size: float = 0.3,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
) -> OpenSetSplit:
    """Split ``load_digits`` by class: training classes (train / held-out) and groups of unseen classes.

    Introduced in: 09 Margin losses and embedding geometry.

    Parameters
    ----------
    train_classes : iterable of int
        Digit classes the model may train on, e.g. ``range(7)``.
    unseen : mapping of str -> iterable of int
        Named groups of classes never trained on, e.g. ``{"unseen": [7, 8, 9]}`` or
        ``{"val": [6, 7], "test": [8, 9]}``. Groups must be disjoint from each other and from
        ``train_classes``. Every example of these classes goes to its group.
    test_size : float, default=0.3
        Fraction of the training classes' examples held out as ``X_seen`` (stratified, the same
        ``train_test_split`` call as ``utils.data.digits``, so ``X_train``/``X_seen`` hold the same
        images as ``utils.data.digits(classes=train_classes)``).
    seed : int, default=0
        Seed of the stratified split.
    dtype : torch.dtype, default=torch.float32
        Dtype of the X tensors (labels are int64 digit values).

    Returns
    -------
    OpenSetSplit
        All X standardised with the per-pixel mean and standard deviation of ``X_train`` alone.

    Raises
    ------
    ValueError
        If a class set is empty or outside 0..9, classes appear in two groups, ``unseen`` is empty,
        or ``test_size`` is not in (0, 1).

    Examples
    --------
    >>> split = digits_open_set(range(7), {"unseen": [7, 8, 9]})
    >>> split.X_train.shape, split.unseen["unseen"][0].shape
    (torch.Size([884, 64]), torch.Size([533, 64]))
    """
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    train = _classes("train_classes", train_classes)
    if not isinstance(unseen, Mapping) or not unseen:
        raise ValueError(
            "unseen must be a non-empty mapping name -> classes, e.g. {'unseen': [7, 8, 9]}; "
            f"got {unseen!r}."
        )
    groups = {str(name): _classes(f"unseen[{name!r}]", values) for name, values in unseen.items()}
    owner = {c: "train_classes" for c in train}
    for name, classes in groups.items():
        for c in classes:
            if c in owner:
                raise ValueError(
                    f"class {c} is in both {owner[c]} and unseen[{name!r}]: the groups must be disjoint, "
                    f"or 'unseen' classes are not unseen. Fix: list each class once."
                )
            owner[c] = f"unseen[{name!r}]"
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must lie in (0, 1); got {test_size}.")

    data = load_digits()
    X, y = data.data, data.target
    keep = np.isin(y, train)
    X_tr, X_se, y_tr, y_se = train_test_split(
        X[keep], y[keep], test_size=test_size, random_state=seed, stratify=y[keep]
    )
    mean = X_tr.mean(axis=0)
    std = X_tr.std(axis=0)
    std = np.where(std > 0, std, 1.0)  # pixels constant on the training classes: centred, not scaled

    def standardise(a):
        return torch.as_tensor((a - mean) / std, dtype=dtype)

    def labels(a):
        return torch.as_tensor(a, dtype=torch.int64)

    unseen_sets = {}
    for name, classes in groups.items():
        rows = np.isin(y, classes)
        unseen_sets[name] = (standardise(X[rows]), labels(y[rows]))
    return OpenSetSplit(
        standardise(X_tr), labels(y_tr), standardise(X_se), labels(y_se), unseen_sets,
        torch.as_tensor(mean, dtype=dtype), torch.as_tensor(std, dtype=dtype),
    )
