"""Bad input gets a clear error, never a silent wrong number: type, and key words of the message."""

import math
import re

import pytest
import torch

from utils.losses import (
    contrastive_margin_loss,
    hinge_loss,
    logistic_loss,
    multiclass_hinge_loss,
    ranking_margin_loss,
    squared_hinge_loss,
    triplet_margin_loss,
)
from utils.validation import apply_reduction, check_margin

S = torch.tensor([0.5, -1.0, 2.0])
Y = torch.tensor([1.0, -1.0, 1.0])
Z = torch.zeros(3, 2)
BINARY_LOSSES = [hinge_loss, squared_hinge_loss, logistic_loss]


def raises(exc, *words):
    """pytest.raises that also checks each word occurs in the message, literally."""
    return pytest.raises(exc, match="(?s)" + "".join(f"(?=.*{re.escape(w)})" for w in words))


# ----------------------------------------------------------------------------- binary targets


@pytest.mark.parametrize("loss", BINARY_LOSSES)
@pytest.mark.parametrize(("targets", "shown"), [(torch.tensor([1.0, 0.0, 1.0]), "[0.0, 1.0]"),
                                               (torch.tensor([1, 0, 1]), "[0, 1]"),
                                               (torch.tensor([True, False, True]), "[0, 1]")])
def test_zero_one_targets_are_detected_with_the_fix(loss, targets, shown):
    with raises(ValueError, "{0, 1} labels were detected", "2 * targets - 1", f"got values {shown}"):
        loss(S, targets)


@pytest.mark.parametrize("loss", BINARY_LOSSES)
def test_other_binary_target_values_are_listed(loss):
    with raises(ValueError, "outside {-1, +1}", "[0.0, 2.0]"):
        loss(S, torch.tensor([2.0, -1.0, 0.0]))
    with raises(ValueError, "nan"):
        loss(S, torch.tensor([1.0, float("nan"), -1.0]))


@pytest.mark.parametrize("loss", BINARY_LOSSES)
def test_binary_shape_mismatch_names_both_shapes(loss):
    with raises(ValueError, "same shape", "scores.shape=(3,)", "targets.shape=(1, 3)"):
        loss(S, Y[None])


@pytest.mark.parametrize("loss", BINARY_LOSSES)
def test_integer_scores_are_rejected(loss):
    with raises(TypeError, "floating-point", "torch.int64", ".float()"):
        loss(torch.tensor([1, -2, 3]), Y)


@pytest.mark.parametrize("loss", BINARY_LOSSES)
def test_non_tensor_inputs_are_rejected(loss):
    with raises(TypeError, "scores must be a torch.Tensor", "list"):
        loss([0.5, -1.0, 2.0], Y)
    with raises(TypeError, "targets must be a torch.Tensor", "torch.as_tensor"):
        loss(S, [1, -1, 1])


# ----------------------------------------------------------------------------- multiclass


def test_multiclass_scores_must_be_2d():
    with raises(ValueError, "2-D", "(N, C)", "(3,)"):
        multiclass_hinge_loss(S, torch.tensor([0, 1, 0]))


def test_multiclass_needs_two_classes():
    with raises(ValueError, "C >= 2", "(3, 1)", "hinge_loss"):
        multiclass_hinge_loss(torch.zeros(3, 1), torch.tensor([0, 0, 0]))


def test_multiclass_class_index_out_of_range():
    with raises(ValueError, "[0, 2]", "C=3", "[-1, 3]"):
        multiclass_hinge_loss(torch.zeros(4, 3), torch.tensor([0, 3, -1, 2]))


@pytest.mark.parametrize("targets", [torch.tensor([0.0, 1.0]), torch.tensor([True, False])])
def test_multiclass_non_integer_targets(targets):
    with raises(TypeError, "integer class indices", ".long()"):
        multiclass_hinge_loss(torch.zeros(2, 3), targets)


def test_multiclass_batch_size_mismatch():
    with raises(ValueError, "same batch size", "scores.shape[0]=2", "targets.shape[0]=3"):
        multiclass_hinge_loss(torch.zeros(2, 3), torch.tensor([0, 1, 2]))


def test_multiclass_integer_scores():
    with raises(TypeError, ".float()"):
        multiclass_hinge_loss(torch.zeros(2, 3, dtype=torch.long), torch.tensor([0, 1]))


def test_multiclass_unknown_variant_lists_valid_ones():
    with raises(ValueError, "variant", "'weston_watkins'", "'crammer_singer'", "'sum_of_hinges'"):
        multiclass_hinge_loss(torch.zeros(2, 3), torch.tensor([0, 1]), variant="sum_of_hinges")


# ----------------------------------------------------------------------------- pairs and triplets


def test_ranking_errors():
    with raises(ValueError, "pos_scores.shape=(3,)", "neg_scores.shape=(2,)"):
        ranking_margin_loss(S, S[:2])
    with raises(TypeError, "neg_scores", ".float()"):
        ranking_margin_loss(S, torch.tensor([1, 2, 3]))


def test_triplet_errors():
    with raises(ValueError, "anchor must be 2-D", "(N, D)", "(3,)"):
        triplet_margin_loss(S, S, S)
    with raises(ValueError, "same shape", "negative.shape=(3, 3)"):
        triplet_margin_loss(Z, Z, torch.zeros(3, 3))
    with raises(TypeError, "positive", ".float()"):
        triplet_margin_loss(Z, Z.long(), Z)
    for p in (0, -1.0, float("nan")):
        with raises(ValueError, "p must be > 0"):
            triplet_margin_loss(Z, Z, Z, p=p)


@pytest.mark.parametrize("similar", [torch.tensor([1, -1, 1]), torch.tensor([1.0, -1.0, -1.0])])
def test_similar_labels_that_look_like_plus_minus_one(similar):
    with raises(ValueError, "look like {-1, +1}", "(y + 1) // 2"):
        contrastive_margin_loss(Z, Z, similar)


def test_similar_labels_other_values_are_listed():
    with raises(ValueError, "outside {0, 1}", "[0.5, 2.0]"):
        contrastive_margin_loss(Z, Z, torch.tensor([0.5, 1.0, 2.0]))


def test_contrastive_shape_errors():
    with raises(ValueError, "same batch size", "similar.shape[0]=2"):
        contrastive_margin_loss(Z, Z, torch.tensor([1, 0]))
    with raises(ValueError, "similar must be 1-D", "(N,)"):
        contrastive_margin_loss(Z, Z, torch.ones(3, 1))
    with raises(TypeError, "z2", ".float()"):
        contrastive_margin_loss(Z, Z.int(), torch.tensor([1, 0, 1]))


# ----------------------------------------------------------------------------- shared arguments


def all_calls(**kw):
    """One valid call of every loss, with extra keyword arguments."""
    return [
        lambda: hinge_loss(S, Y, **kw),
        lambda: squared_hinge_loss(S, Y, **kw),
        lambda: multiclass_hinge_loss(Z, torch.tensor([0, 1, 0]), **kw),
        lambda: ranking_margin_loss(S, S, **kw),
        lambda: triplet_margin_loss(Z, Z, Z, **kw),
        lambda: contrastive_margin_loss(Z, Z, torch.tensor([1, 0, 1]), **kw),
    ]


@pytest.mark.parametrize("margin", [-0.1, float("nan"), float("inf")])
def test_bad_margin(margin):
    for call in all_calls(margin=margin):
        with raises(ValueError, "margin must be a finite number >= 0", f"got {margin}"):
            call()


def test_margin_zero_is_allowed_and_margin_type_checked():
    for call in all_calls(margin=0):
        assert torch.isfinite(call())
    with raises(TypeError, "margin must be a real number", "str"):
        check_margin("1.0")
    with raises(TypeError, "margin must be a real number"):
        check_margin(True)


def test_unknown_reduction_lists_valid_ones():
    for call in all_calls(reduction="average") + [lambda: logistic_loss(S, Y, reduction="average")]:
        with raises(ValueError, "reduction must be one of 'none', 'mean', 'sum'", "'average'"):
            call()
    with raises(ValueError, "'none', 'mean', 'sum'"):
        apply_reduction(S, None)


def test_empty_batch():
    empty, empty_z = torch.zeros(0), torch.zeros(0, 2)
    calls = [
        lambda: hinge_loss(empty, empty),
        lambda: squared_hinge_loss(empty, empty),
        lambda: logistic_loss(empty, empty),
        lambda: multiclass_hinge_loss(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long)),
        lambda: ranking_margin_loss(empty, empty),
        lambda: triplet_margin_loss(empty_z, empty_z, empty_z),
        lambda: contrastive_margin_loss(empty_z, empty_z, torch.zeros(0)),
    ]
    for call in calls:
        with raises(ValueError, "at least one example", "empty"):
            call()


def test_messages_say_how_to_fix():
    """Every error message carries a 'Fix:' (scikit-learn style: expected, received, remedy)."""
    bad_calls = [
        lambda: hinge_loss(S, torch.tensor([0.0, 1.0, 1.0])),
        lambda: multiclass_hinge_loss(torch.zeros(2, 3), torch.tensor([0, 5])),
        lambda: triplet_margin_loss(Z, Z, Z, margin=-1),
        lambda: contrastive_margin_loss(Z, Z, torch.tensor([1, -1, 1])),
        lambda: ranking_margin_loss(S, S, reduction="avg"),
        lambda: logistic_loss(torch.zeros(0), torch.zeros(0)),
    ]
    for call in bad_calls:
        with pytest.raises((TypeError, ValueError)) as info:
            call()
        assert "Fix:" in str(info.value) and "got" in str(info.value)


def test_valid_edge_inputs_do_not_raise():
    assert hinge_loss(torch.tensor(0.5), torch.tensor(-1)) == 1.5  # 0-d scores
    assert math.isfinite(triplet_margin_loss(Z, Z, Z, p=float("inf"), margin=0).item())


# ----------------------------------------------------------------------------- fast-path checks


@pytest.mark.parametrize(
    "targets",
    [
        torch.tensor([1.0, -1.0, 1.0000001], dtype=torch.float64),  # would round to 1 in float32
        torch.tensor([1, -1, 255], dtype=torch.uint8),
        torch.tensor([1, -1, -128], dtype=torch.int8),  # abs(-128) overflows to -128, not 1
        torch.tensor([1.0, -1.0, 1e-30]),
        torch.tensor([1.0, float("inf"), -1.0]),
        torch.tensor([1, 1j, -1]),  # |1j| == 1, but 1j is not a label
    ],
)
@pytest.mark.filterwarnings("ignore:Casting complex values")
def test_near_miss_binary_targets_are_rejected(targets):
    with pytest.raises(ValueError, match="targets must be -1 or \\+1"):
        hinge_loss(torch.zeros(3), targets)


@pytest.mark.parametrize(
    "targets",
    [torch.tensor([1, -1, 1], dtype=torch.int8), torch.tensor([1.0, -1.0, 1.0], dtype=torch.float64),
     torch.tensor([1, -1, 1], dtype=torch.int32), torch.tensor([True, True, True])],
)
def test_valid_binary_targets_of_every_dtype_pass(targets):
    assert hinge_loss(torch.zeros(3), targets).item() == 1.0


@pytest.mark.parametrize(
    "similar",
    [
        torch.tensor([0.0, 1.0, 1e-30]),  # s (1 - s) is not 0 for a tiny s
        torch.tensor([0.0, 1.0, 1.0 - 2.0**-24]),
        torch.tensor([0.0, 1.0, float("nan")]),
        torch.tensor([0.0, 1.0, float("-inf")]),
        torch.tensor([0, 1, 2], dtype=torch.uint8),
        torch.tensor([0.0, 1.0, 5e-324], dtype=torch.float64),  # the smallest subnormal
    ],
)
def test_near_miss_similar_labels_are_rejected(similar):
    with pytest.raises(ValueError, match="similar must be 1"):
        contrastive_margin_loss(Z, Z, similar)


def test_similar_labels_of_every_dtype_pass():
    for similar in (torch.tensor([0, 1, 1], dtype=torch.uint8), torch.tensor([0.0, 1.0, -0.0]),
                    torch.tensor([False, True, True]), torch.tensor([0, 1, 0], dtype=torch.int64)):
        assert math.isfinite(contrastive_margin_loss(Z, Z + 1, similar).item())


def test_class_target_check_is_one_pass_and_still_lists_values():
    multiclass_hinge_loss(torch.zeros(2, 3), torch.tensor([0, 2]))  # bounds are inclusive
    with raises(ValueError, "[3]"):
        multiclass_hinge_loss(torch.zeros(2, 3), torch.tensor([0, 3]))
