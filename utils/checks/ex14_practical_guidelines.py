"""Exercises of 14 Practical guidelines: the fraction of margin violations, and a label-convention guard.

The guard must RAISE ``ValueError`` on labels that are neither {0,1} nor {-1,+1}. The checking framework
compares return values only (a raised error always fails a case), so the notebook's exercise cell gives
the student a small fixed wrapper, ``to_plus_minus_one_or_error``, that turns a ``ValueError`` into the
string ``"ValueError"``; that wrapper is what is graded, and the reference returns the same string on
invalid labels. Any other exception (``NotImplementedError`` of the stub, a ``TypeError``...) still
propagates and is reported as usual.
"""

from __future__ import annotations

import torch

from utils.checks import Exercise, Mistake, register
from utils.checks.comparisons import ANY_TENSOR, tensor_or_sentinel

NOTEBOOK = "ex14_practical_guidelines"
RAISED = "ValueError"




# --------------------------------------------------------------------------- violation_fraction
def _score_cases(generator: torch.Generator, hidden: bool) -> list[dict]:
    """Scores on a grid of 1/8 (products with ±1 are exact), some exactly at y·s = margin."""
    cases = [dict(scores=torch.tensor([2.0, 0.5, -0.25, 1.0, -3.0], dtype=torch.float64),
                  targets=torch.tensor([1.0, 1.0, 1.0, 1.0, -1.0], dtype=torch.float64), margin=1.0)]
    sizes = ((20, 1.0), (64, 0.5), (40, 2.0))
    ### BEGIN HIDDEN
    if hidden:  # the grader's cases: other sizes (one example, odd, large) and margins
        sizes = ((1, 1.0), (7, 0.5), (100, 2.0), (513, 1.0))
    ### END HIDDEN
    for n, margin in sizes:
        targets = torch.randint(0, 2, (n,), generator=generator).to(torch.float64) * 2 - 1
        # odd multiples of 1/16: never exactly 0 (where "misclassified" would be ambiguous), exact products
        scores = (torch.randint(-24, 24, (n,), generator=generator).to(torch.float64) + 0.5) / 8
        at_margin = torch.rand(n, generator=generator) < 0.15
        scores = torch.where(at_margin, margin * targets, scores)
        cases.append(dict(scores=scores, targets=targets, margin=margin))
    return cases


def _reference_violations(scores, targets, margin=1.0):
    flags = [y * s < margin for s, y in zip(scores.tolist(), targets.tolist())]
    return sum(flags) / len(flags)


VIOLATION_FRACTION = register(Exercise(
    name="violation_fraction",
    notebook=NOTEBOOK,
    function="violation_fraction",
    points=2,
    reference=_reference_violations,
    make_cases=_score_cases,
    mistakes=(
        Mistake("misclassified only",
                "you count the misclassified examples (y·s < 0); an example violates the margin as soon as "
                "y·s < margin, even when it is correctly classified (0 <= y·s < margin).",
                lambda scores, targets, margin=1.0: ((targets * scores) < 0).double().mean().item()),
        Mistake("labels treated as {0,1}",
                "your function converts the targets as if they were {0,1} labels (2*y - 1), but they are "
                "already in {-1,+1}: use y·s as given.",
                lambda scores, targets, margin=1.0: (((2 * targets - 1) * scores) < margin).double().mean().item()),
        Mistake("example at the margin counted",
                "an example with y·s exactly equal to the margin has zero hinge loss and does not violate "
                "it: use a strict y·s < margin.",
                lambda scores, targets, margin=1.0: ((targets * scores) <= margin).double().mean().item()),
        Mistake("margin ignored",
                "your result does not change with `margin`: compare y·s with the margin argument, not with 1.",
                lambda scores, targets, margin=1.0: ((targets * scores) < 1.0).double().mean().item()),
        Mistake("count instead of fraction",
                "return the FRACTION of violating examples (between 0 and 1), not their number.",
                lambda scores, targets, margin=1.0: float(((targets * scores) < margin).sum())),
    ),
    description="Fraction of examples with y·s < margin (binary, targets in {-1,+1}).",
))


# --------------------------------------------------------------------------- to_plus_minus_one
def _label_cases(generator: torch.Generator, hidden: bool) -> list[dict]:
    """Valid {0,1} and {-1,+1} labels of integer and float dtypes, single-value batches, and invalid label sets."""
    cases = [
        dict(labels=torch.tensor([0, 1, 1, 0])),
        dict(labels=torch.tensor([-1, 1, 1, -1])),
        dict(labels=torch.tensor([0, 1, 2, 1])),  # class indices: invalid
    ]
    valid_sets = ([0, 1], [-1, 1], [1], [0], [-1])
    invalid_sets = ([-1, 0, 1], [1, 2], [0, 0.5, 1], [-2, 2], [0, 3])
    dtypes, sizes = (torch.int64, torch.float64), (8, 30)
    ### BEGIN HIDDEN
    if hidden:  # the grader's cases: more dtypes (float32, int32) and sizes (one label, few, many)
        dtypes, sizes = (torch.int64, torch.float64, torch.float32, torch.int32), (1, 5, 200)
    ### END HIDDEN
    for n in sizes:
        for dtype in dtypes:
            for values in valid_sets + invalid_sets:
                if dtype.is_floating_point is False and any(v != int(v) for v in values):
                    continue
                pool = torch.tensor(values, dtype=torch.float64)
                labels = pool[torch.randint(0, len(values), (n,), generator=generator)]
                if n >= len(values):  # every value of the set appears at least once
                    labels[: len(values)] = pool
                cases.append(dict(labels=labels.to(dtype)))
    return cases


def _reference_guard(labels):
    values = set(labels.tolist())
    if values <= {0, 1}:
        return torch.tensor([2.0 * v - 1.0 for v in labels.tolist()], dtype=torch.float64)
    if values <= {-1, 1}:
        return torch.tensor([float(v) for v in labels.tolist()], dtype=torch.float64)
    return RAISED


_compare = tensor_or_sentinel


def _guarded(convert):
    def wrapper(labels):
        try:
            return convert(labels)
        except ValueError:
            return RAISED
    return wrapper


def _always_01(labels):
    return 2.0 * labels.double() - 1.0


def _integer_result(labels):
    out = _reference_guard(labels)
    return out if isinstance(out, str) else out.long()


def _no_validation(labels):
    out = _reference_guard(labels)
    return ANY_TENSOR if isinstance(out, str) else out  # converts valid labels right, never raises


def _zero_to_plus_one(labels):
    out = _reference_guard(labels)
    if isinstance(out, str) or not set(labels.tolist()) <= {0, 1}:
        return out
    return 1.0 - 2.0 * labels.double()


def _two_values_required(labels):
    if len(set(labels.tolist())) != 2:
        raise ValueError("need both classes")
    return _reference_guard(labels)


TO_PLUS_MINUS_ONE = register(Exercise(
    name="to_plus_minus_one",
    notebook=NOTEBOOK,
    function="to_plus_minus_one_or_error",
    points=2,
    reference=_reference_guard,
    make_cases=_label_cases,
    compare=_compare,
    mistakes=(
        Mistake("always converted as {0,1}",
                "you apply 2*y - 1 whatever the labels: labels already in {-1,+1} become {-3,+1}, and "
                "invalid labels go through. Detect the convention first.", _guarded(_always_01)),
        Mistake("integer result",
                "return a FLOATING-point tensor (e.g. .to(torch.float32) or float64): the losses multiply "
                "the labels with float scores, and integer ±1 labels break autograd-friendly code paths.",
                _guarded(_integer_result)),
        Mistake("no validation",
                "labels such as {0, 1, 2} or {-1, 0, 1} must raise ValueError (naming the values found); "
                "your function silently maps them to ±1.", _guarded(_no_validation)),
        Mistake("0 mapped to +1",
                "with {0,1} labels, 1 is the positive class: 0 -> -1 and 1 -> +1.", _guarded(_zero_to_plus_one)),
        Mistake("single-class batch rejected",
                "a batch whose labels are all 1 (or all 0, or all -1) is valid — a small batch can hold "
                "one class only. Check that the values are a SUBSET of {0,1} or of {-1,+1}.",
                _guarded(_two_values_required)),
    ),
    description="Convert {0,1} or {-1,+1} labels to float ±1; raise ValueError for any other labels.",
))
