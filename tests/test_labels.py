"""utils.labels: detection rules, conversions checked against brute-force maps and against PyTorch /
scikit-learn losses that use each convention (REFERENCES.md ("Oracles"))."""

import pytest
import sklearn.metrics
import torch
import torch.nn.functional as F
from torch.testing import assert_close

import utils
from utils.labels import LOSS_CONVENTIONS, convert_labels, detect_label_convention, prepare_targets


@pytest.mark.parametrize(
    "values, expected",
    [
        ([-1, 1, 1, -1], "plus_minus_one"),
        ([-1.0, 1.0], "plus_minus_one"),
        ([0, 1, 0], "zero_one"),
        ([0.0, 1.0], "zero_one"),
        ([True, False], "zero_one"),
        ([0, 1, 2], "class_indices"),
        ([3, 7, 9], "class_indices"),
        (list(range(10)), "class_indices"),
    ],
)
def test_detect(values, expected):
    conv = detect_label_convention(torch.tensor(values))
    assert conv.name == expected
    assert list(conv.values) == sorted({int(v) for v in values})


def test_advice_says_what_to_do():
    assert "2 * y - 1" in detect_label_convention(torch.tensor([0, 1])).advice
    assert "(y + 1) / 2" in detect_label_convention(torch.tensor([-1, 1])).advice
    assert "remap" in detect_label_convention(torch.tensor([1, 2, 3])).advice  # labels starting at 1


@pytest.mark.parametrize(
    "values, match",
    [([1, 1], "single distinct value"), ([-1, 0, 1], "mix"), ([0.5, 1.0], "integer"), ([-2, 1], "negative"),
     ([], "empty")],
)
def test_detect_rejects(values, match):
    with pytest.raises(ValueError, match=match):
        detect_label_convention(torch.tensor(values, dtype=torch.float32))


def test_detect_rejects_nan_and_non_tensor():
    with pytest.raises(ValueError, match="NaN"):
        detect_label_convention(torch.tensor([0.0, float("nan")]))
    with pytest.raises(TypeError):
        detect_label_convention([0, 1])


def brute(values, to, positive_class=None):
    out = []
    for v in values:
        if positive_class is not None:
            pos = v == positive_class
        else:
            pos = v == 1
        out.append({"plus_minus_one": 1.0 if pos else -1.0, "zero_one": 1.0 if pos else 0.0,
                    "class_indices": 1 if pos else 0}[to])
    return out


@pytest.mark.parametrize("to", ["plus_minus_one", "zero_one", "class_indices"])
@pytest.mark.parametrize("source", [[0, 1, 1, 0], [-1, 1, 1, -1], [0.0, 1.0, 0.0]])
def test_convert_matches_brute_force(to, source):
    out = convert_labels(torch.tensor(source), to)
    assert out.tolist() == brute(source, to)
    assert out.dtype == (torch.int64 if to == "class_indices" else torch.float32)


def test_convert_one_vs_rest_and_dtype():
    y = torch.tensor([0, 3, 5, 3, 9])
    assert convert_labels(y, "plus_minus_one", positive_class=3).tolist() == brute(y.tolist(), "plus_minus_one", 3)
    assert convert_labels(torch.tensor([-1.0, 1.0], dtype=torch.float64), "zero_one").dtype == torch.float64
    with pytest.raises(ValueError, match="positive_class"):
        convert_labels(y, "zero_one")
    with pytest.raises(ValueError, match="to must be"):
        convert_labels(y, "binary")


def test_roundtrip():
    y = torch.randint(0, 2, (50,), generator=torch.Generator().manual_seed(0)).float()
    assert torch.equal(convert_labels(convert_labels(y, "plus_minus_one"), "zero_one"), y)


def test_prepare_targets_against_reference_losses():
    g = torch.Generator().manual_seed(0)
    s = torch.randn(100, generator=g, dtype=torch.float64)
    y01 = torch.randint(0, 2, (100,), generator=g).double()
    # logistic in {-1,+1} == BCE in {0,1}
    assert_close(F.soft_margin_loss(s, prepare_targets(y01, "logistic")), F.binary_cross_entropy_with_logits(s, y01))
    # hinge in {-1,+1} == scikit-learn hinge, which takes {0,1}
    assert_close(utils.hinge_loss(s, prepare_targets(y01, "hinge")).item(),
                 sklearn.metrics.hinge_loss(y01.numpy(), s.numpy()))
    # BCE from {-1,+1}
    y_pm = 2 * y01 - 1
    assert_close(F.binary_cross_entropy_with_logits(s, prepare_targets(y_pm, "bce")),
                 F.soft_margin_loss(s, y_pm))
    # cross-entropy on two columns [0, s] from {0,1} == logistic
    assert_close(F.cross_entropy(torch.stack([0 * s, s], 1), prepare_targets(y01, "cross_entropy")),
                 F.soft_margin_loss(s, y_pm))


def test_prepare_targets_rules():
    assert set(LOSS_CONVENTIONS.values()) == {"plus_minus_one", "zero_one", "class_indices"}
    with pytest.raises(ValueError, match="convert_labels"):
        prepare_targets(torch.tensor([-1, 1]), "cross_entropy")
    with pytest.raises(ValueError, match="loss must be"):
        prepare_targets(torch.tensor([0, 1]), "svm")
    y = torch.tensor([0, 2, 1])
    assert prepare_targets(y, "multiclass_hinge").dtype == torch.int64
    assert prepare_targets(y, "hinge", positive_class=2).tolist() == [-1.0, 1.0, -1.0]
