"""Class-disjoint ("open-set") splits of the digits: train on some classes, evaluate on classes never seen.

Introduced in: 09 Margin losses and embedding geometry.

A learned distance is meant to work on classes the network never saw (new identities in face
verification, new products in search). Measuring that needs a split **by class**, and every
statistic the pipeline fits (here the standardisation's per-pixel mean and standard deviation) must
come from the training classes alone, or the "unseen" classes leak into training.
``utils.data.digits(classes=...)`` standardises each call with its own statistics, so it cannot
put seen and unseen classes in one coordinate system; :func:`digits_open_set` does. Even so, per-pixel
statistics fitted on some classes can blow up pixels the unseen classes use (a standard deviation of
0.034 on digits 0-6); :func:`digits_pixels` uses one global scale instead, and :func:`class_folds`
and :func:`add_lighting` build the open-set experiment of chapter 09.
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


def digits_pixels(*, dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """All 1797 digits with one **global** scale: pixel values (0..16) divided by 16.

    Introduced in: 09 Margin losses and embedding geometry.

    A global scale fits nothing on any class, so it cannot treat seen and unseen classes
    differently. Per-pixel standardisation fitted on some classes can: a pixel that is almost
    always blank on the training classes gets a tiny standard deviation (0.034 on digits 0-6),
    and an unseen digit that uses it is blown up to tens of standard deviations.

    Parameters
    ----------
    dtype : torch.dtype, default=torch.float64

    Returns
    -------
    X : Tensor of shape (1797, 64)
        Pixel intensities in [0, 1], row-major 8 x 8 images.
    y : Tensor of shape (1797,)
        Digit labels 0..9, int64.

    Examples
    --------
    >>> X, y = digits_pixels()
    >>> X.shape, float(X.max()), y.dtype
    (torch.Size([1797, 64]), 1.0, torch.int64)
    """
    from sklearn.datasets import load_digits

    data = load_digits()
    return torch.as_tensor(data.data / 16.0, dtype=dtype), torch.as_tensor(data.target, dtype=torch.int64)


def class_folds(
    num_classes: int = 10, *, test: int = 3, val: int = 2, stride: int = 2
) -> list[tuple[list[int], list[int], list[int]]]:
    """Rotating class-disjoint folds ``(train, val, test)`` for open-set evaluation.

    Introduced in: 09 Margin losses and embedding geometry.

    Fold ``k`` tests on the ``test`` classes starting at ``k * stride`` (cyclically), validates on
    the ``val`` classes after them, and trains on the rest: the validation classes are carved out
    of the classes a model may learn from, so choices (such as the number of training steps) never
    look at the test classes.

    Parameters
    ----------
    num_classes : int, default=10
    test, val : int, default=3, 2
        Classes per fold for testing and for validation; ``test + val < num_classes``.
    stride : int, default=2
        Shift of the test window between folds; ``ceil(num_classes / stride)`` folds.

    Returns
    -------
    list of (train, val, test)
        Sorted class lists, pairwise disjoint, together ``range(num_classes)``.

    Raises
    ------
    ValueError
        If a count is not a positive int or ``test + val`` leaves no training class.

    Examples
    --------
    >>> class_folds()[0]
    ([5, 6, 7, 8, 9], [3, 4], [0, 1, 2])
    >>> len(class_folds())
    5
    """
    for name, value in (("num_classes", num_classes), ("test", test), ("val", val), ("stride", stride)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int; got {value!r}.")
    if test + val >= num_classes:
        raise ValueError(
            f"test + val = {test + val} leaves no training class out of {num_classes}. Fix: use fewer "
            f"test or validation classes."
        )
    folds = []
    for start in range(0, num_classes, stride):
        window = [(start + i) % num_classes for i in range(test + val)]
        test_classes, val_classes = sorted(window[:test]), sorted(window[test:])
        train_classes = [c for c in range(num_classes) if c not in window]
        folds.append((train_classes, val_classes, test_classes))
    return folds


def add_lighting(X: torch.Tensor, strength: float, *, generator: torch.Generator | None = None) -> torch.Tensor:
    """8 x 8 images under random lighting: a brightness offset plus a linear illumination gradient.

    Introduced in: 09 Margin losses and embedding geometry.

    Each image gets ``c0 + c1 * x + c2 * y`` added to its pixels, with ``x, y`` the pixel
    coordinates scaled to [-1, 1] and ``c ~ N(0, strength^2)`` drawn independently per image.
    The nuisance is the same for every class, seen or unseen: what a network learns to ignore on
    the training classes is what it must ignore on new ones.

    Parameters
    ----------
    X : Tensor of shape (N, 64)
        Row-major 8 x 8 images (e.g. from :func:`digits_pixels`).
    strength : float
        Standard deviation of the three coefficients, >= 0.
    generator : torch.Generator, optional
        Source of the coefficients.

    Returns
    -------
    Tensor of shape (N, 64)
        ``X`` plus the lighting, same dtype; ``X`` is not modified.

    Raises
    ------
    ValueError
        If ``X`` is not (N, 64) floating point or ``strength`` < 0.

    Examples
    --------
    >>> X = torch.zeros(2, 64, dtype=torch.float64)
    >>> lit = add_lighting(X, 1.0, generator=torch.Generator().manual_seed(0))
    >>> lit.shape, bool(torch.equal(X, torch.zeros(2, 64, dtype=torch.float64)))
    (torch.Size([2, 64]), True)
    """
    if not isinstance(X, torch.Tensor) or X.ndim != 2 or X.shape[1] != 64 or not X.is_floating_point():
        raise ValueError(f"X must be a floating-point tensor of shape (N, 64) (8 x 8 images); got {X!r:.80}.")
    if not strength >= 0:
        raise ValueError(f"strength must be >= 0; got {strength!r}.")
    coords = torch.linspace(-1.0, 1.0, 8, dtype=X.dtype)
    gy, gx = torch.meshgrid(coords, coords, indexing="ij")  # row index = y, column index = x
    patterns = torch.stack([torch.ones(8, 8, dtype=X.dtype), gx, gy]).reshape(3, 64)
    coefficients = strength * torch.randn(X.shape[0], 3, generator=generator, dtype=X.dtype)
    return X + coefficients @ patterns
