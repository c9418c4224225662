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


def test_digits_pixels_is_one_global_scale():
    from utils.open_set import digits_pixels

    X, y = digits_pixels()
    assert X.dtype == torch.float64 and y.dtype == torch.int64
    assert_close(X, torch.as_tensor(RAW.data, dtype=torch.float64) / 16, rtol=0, atol=0)
    assert torch.equal(y, torch.as_tensor(RAW.target))
    assert digits_pixels(dtype=torch.float32)[0].dtype == torch.float32


def test_per_pixel_standardisation_blows_up_unseen_digits():
    # the artefact chapter 09 avoids: measured independently with numpy on the same training images
    split = digits_open_set(range(7), {"unseen": [7, 8, 9]})
    keep = np.isin(RAW.target, range(7))
    raw_train, _, _, _ = train_test_split(
        RAW.data[keep], RAW.target[keep], test_size=0.3, random_state=0, stratify=RAW.target[keep]
    )
    std = raw_train.std(axis=0)
    smallest = std[std > 0].min()
    assert 0.03 < smallest < 0.04
    unseen = RAW.data[np.isin(RAW.target, [7, 8, 9])]
    z = (unseen - raw_train.mean(axis=0)) / np.where(std > 0, std, 1.0)
    assert np.abs(z).max() > 40
    assert_close(split.unseen["unseen"][0].abs().max().double(), torch.tensor(np.abs(z).max()), rtol=1e-5, atol=0)


def test_class_folds_partition_the_classes():
    from utils.open_set import class_folds

    folds = class_folds()
    assert len(folds) == 5
    tested = set()
    for train, val, test in folds:
        assert len(test) == 3 and len(val) == 2 and len(train) == 5
        assert sorted(train + val + test) == list(range(10))
        tested |= set(test)
    assert tested == set(range(10))  # every class is a test class at least once
    assert folds[0] == ([5, 6, 7, 8, 9], [3, 4], [0, 1, 2])
    assert folds[4] == ([3, 4, 5, 6, 7], [1, 2], [0, 8, 9])  # the window wraps around
    assert len(class_folds(6, test=2, val=1, stride=3)) == 2


@pytest.mark.parametrize("kwargs", [dict(test=6, val=4), dict(test=0), dict(stride=True), dict(num_classes=2.5)])
def test_class_folds_bad_arguments_rejected(kwargs):
    from utils.open_set import class_folds

    with pytest.raises(ValueError):
        class_folds(**kwargs)


def test_add_lighting_matches_an_independent_loop():
    from utils.open_set import add_lighting

    X = torch.rand(5, 64, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    before = X.clone()
    lit = add_lighting(X, 0.7, generator=torch.Generator().manual_seed(3))
    assert torch.equal(X, before)  # input untouched
    c = 0.7 * torch.randn(5, 3, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    expected = X.clone().reshape(5, 8, 8)
    for n in range(5):
        for row in range(8):
            for col in range(8):
                x, y = -1 + 2 * col / 7, -1 + 2 * row / 7
                expected[n, row, col] += c[n, 0] + c[n, 1] * x + c[n, 2] * y
    assert_close(lit, expected.reshape(5, 64), rtol=0, atol=1e-12)
    assert torch.equal(add_lighting(X, 0.0), X)
    with pytest.raises(ValueError, match="strength"):
        add_lighting(X, -1.0)
    with pytest.raises(ValueError, match="64"):
        add_lighting(torch.zeros(3, 16), 1.0)
