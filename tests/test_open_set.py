"""utils.open_set against independent references: sklearn's StandardScaler, utils.data.digits, raw counts."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from torch.testing import assert_close

from utils.data import digits
from utils.open_set import digits_open_set

RAW = load_digits()


def test_train_and_seen_match_utils_data_digits():
    split = digits_open_set(range(7), {"unseen": [7, 8, 9]}, test_size=0.3, seed=0)
    reference = digits(classes=range(7), test_size=0.3, seed=0)
    assert torch.equal(split.y_train, reference.y_train)
    assert torch.equal(split.y_seen, reference.y_test)
    assert_close(split.X_train, reference.X_train, rtol=1e-5, atol=1e-5)
    assert_close(split.X_seen, reference.X_test, rtol=1e-5, atol=1e-5)


def test_unseen_standardised_with_training_statistics_only():
    split = digits_open_set([0, 1, 2, 3, 4, 5], {"val": [6, 7], "test": [8, 9]}, seed=1)
    # independent reference: the same stratified split of the raw images, sklearn's scaler on it
    keep = np.isin(RAW.target, [0, 1, 2, 3, 4, 5])
    raw_train, _, _, _ = train_test_split(
        RAW.data[keep], RAW.target[keep], test_size=0.3, random_state=1, stratify=RAW.target[keep]
    )
    scaler = StandardScaler().fit(raw_train)
    assert_close(split.mean.double(), torch.as_tensor(scaler.mean_), rtol=1e-5, atol=1e-5)
    assert_close(split.X_train, torch.as_tensor(scaler.transform(raw_train), dtype=torch.float32),
                 rtol=1e-4, atol=1e-4)
    for name, classes in {"val": [6, 7], "test": [8, 9]}.items():
        X, y = split.unseen[name]
        rows = np.isin(RAW.target, classes)
        assert torch.equal(y, torch.as_tensor(RAW.target[rows]))
        expected = torch.as_tensor(scaler.transform(RAW.data[rows]), dtype=torch.float32)
        assert_close(X, expected, rtol=1e-4, atol=1e-4)
    # the training statistics are not those of all the data (no leakage of the unseen classes)
    assert not torch.allclose(split.mean.double(), torch.as_tensor(RAW.data.mean(axis=0)), atol=1e-2)


def test_training_set_is_standardised():
    split = digits_open_set(range(7), {"unseen": [7, 8, 9]})
    mean = split.X_train.double().mean(dim=0)
    std = split.X_train.double().std(dim=0, unbiased=False)
    assert_close(mean, torch.zeros(64, dtype=torch.float64), rtol=0, atol=1e-5)
    varying = split.std != 1.0
    assert_close(std[varying], torch.ones(int(varying.sum()), dtype=torch.float64), rtol=0, atol=1e-4)


def test_every_image_in_exactly_one_set_and_classes_disjoint():
    split = digits_open_set(range(7), {"unseen": [7, 8, 9]})
    X_un, y_un = split.unseen["unseen"]
    assert split.X_train.shape[0] + split.X_seen.shape[0] + X_un.shape[0] == len(RAW.target)
    assert set(split.y_train.tolist()) == set(range(7)) == set(split.y_seen.tolist())
    assert set(y_un.tolist()) == {7, 8, 9}
    assert split.X_train.dtype == torch.float32 and split.y_train.dtype == torch.int64


@pytest.mark.parametrize(
    "train, unseen, match",
    [
        (range(7), {"unseen": [6, 7]}, "both"),
        (range(5), {"a": [5, 6], "b": [6, 7]}, "both"),
        (range(7), {}, "non-empty mapping"),
        ([], {"unseen": [9]}, "non-empty subset"),
        (range(7), {"unseen": [10]}, "subset"),
    ],
)
def test_bad_groups_rejected(train, unseen, match):
    with pytest.raises(ValueError, match=match):
        digits_open_set(train, unseen)


def test_bad_test_size_rejected():
    with pytest.raises(ValueError, match="test_size"):
        digits_open_set(range(7), {"unseen": [7]}, test_size=1.0)
