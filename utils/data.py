"""Offline datasets that ship inside scikit-learn, split and standardised, as torch tensors.

Nothing here downloads: only ``sklearn.datasets.load_*`` loaders are used (every ``fetch_*`` needs
the network). scikit-learn is imported inside the functions so ``import utils`` stays fast.
Introduced in: 02 Hinge loss (breast cancer), 05 Multiclass margin loss (digits).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Split:
    """A train/test split. ``X_*`` float tensors (N, D); ``y_*`` label tensors (N,)."""

    X_train: torch.Tensor
    y_train: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor

    def __repr__(self) -> str:
        return (
            f"Split(train={tuple(self.X_train.shape)}, test={tuple(self.X_test.shape)}, "
            f"labels={sorted(self.y_train.unique().tolist())})"
        )


def _split_and_scale(X, y, *, test_size: float, seed: int, dtype: torch.dtype) -> tuple:
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must lie in (0, 1), got {test_size}")
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=test_size, random_state=seed, stratify=y)
    scaler = StandardScaler().fit(X_tr)  # statistics of the training split only: no test leakage
    as_t = lambda a: torch.as_tensor(a, dtype=dtype)  # noqa: E731
    return as_t(scaler.transform(X_tr)), as_t(scaler.transform(X_te)), y_tr, y_te


def breast_cancer(*, test_size: float = 0.3, seed: int = 0, dtype: torch.dtype = torch.float64) -> Split:
    """Wisconsin breast cancer (569 x 30, binary), standardised, labels in {-1, +1}.

    +1 is scikit-learn's class 1 (benign), -1 is class 0 (malignant).

    Returns
    -------
    Split
        ``X_*`` of shape (N, 30); ``y_*`` float tensors of shape (N,) with values in {-1, +1}.
    """
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    X_tr, X_te, y_tr, y_te = _split_and_scale(data.data, data.target, test_size=test_size, seed=seed, dtype=dtype)
    to_pm = lambda y: torch.as_tensor(2 * y - 1, dtype=dtype)  # noqa: E731  {0,1} -> {-1,+1}
    return Split(X_tr, to_pm(y_tr), X_te, to_pm(y_te))


def digits(
    *, test_size: float = 0.3, seed: int = 0, dtype: torch.dtype = torch.float32, classes=None
) -> Split:
    """Handwritten digits (1797 x 64, 10 classes), standardised, integer labels.

    Parameters
    ----------
    classes : iterable of int, optional
        Keep only these digit classes (labels keep their digit value).

    Returns
    -------
    Split
        ``X_*`` of shape (N, 64); ``y_*`` int64 tensors of shape (N,).
    """
    import numpy as np
    from sklearn.datasets import load_digits

    data = load_digits()
    X, y = data.data, data.target
    if classes is not None:
        classes = sorted(set(int(c) for c in classes))
        if not classes or not set(classes) <= set(range(10)):
            raise ValueError(f"classes must be a non-empty subset of 0..9, got {classes}")
        keep = np.isin(y, classes)
        X, y = X[keep], y[keep]
    X_tr, X_te, y_tr, y_te = _split_and_scale(X, y, test_size=test_size, seed=seed, dtype=dtype)
    return Split(X_tr, torch.as_tensor(y_tr, dtype=torch.int64), X_te, torch.as_tensor(y_te, dtype=torch.int64))
