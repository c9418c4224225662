"""Comparisons of a student's output with the expected one, for exercises whose answer is not simply
"numerically close" (the default, ``utils.checks.close``). Kept apart from the exercise modules so the
student bundle, which ships precomputed outcomes instead of those modules, can still use them."""

from __future__ import annotations

import math

import torch


class _AnyTensor:
    """What a mistake's mimic returns where the mistake's output is "some tensor, whatever its values"."""

    def __repr__(self) -> str:
        return "<any tensor>"


ANY_TENSOR = _AnyTensor()


def number_close(got, expected) -> bool:
    """A Python number (not a tensor: the statements ask for a Python float) close to the expected one;
    NaN equals NaN (a mimicked mistake)."""
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        return False
    if math.isnan(expected) or math.isnan(got):
        return math.isnan(expected) and math.isnan(got)
    return abs(got - expected) <= 1e-9 + 1e-6 * abs(expected)


def tensor_or_sentinel(got, expected) -> bool:
    """The sentinel must match exactly; a tensor must be floating point, of the same shape and values.

    ``ANY_TENSOR`` (only ever returned by a mistake's mimic, never by the reference) matches any tensor.
    """
    if expected is ANY_TENSOR:
        return got is ANY_TENSOR or isinstance(got, torch.Tensor)
    if isinstance(expected, str):
        return isinstance(got, str) and got == expected
    return (isinstance(got, torch.Tensor) and got.shape == expected.shape
            and got.is_floating_point() == expected.is_floating_point()
            and torch.equal(got.to(torch.float64), expected.to(torch.float64)))
