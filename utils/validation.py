"""Input checks shared by the losses, miners and angular losses of the companion.

Every check raises with a message that says what was expected, what was received and how to
fix it, in the style of scikit-learn. Checks return nothing unless documented otherwise.
"""

import math
import numbers

import torch

REDUCTIONS = ("none", "mean", "sum")

# --------------------------------------------------------------------------- the validation switch
# Modelled on torch.distributions' ``validate_args``: on by default (a textbook wants a clear error, not a
# silent wrong number), off for a hot training loop. Off means off, as in torch.distributions: no check of
# types, shapes or arguments (they cost ~15 us per call, as much as a small loss's arithmetic) and no check
# that reads tensor VALUES back to Python (labels in {-1, +1}, class indices in range, 0/1 pair labels,
# zero-norm rows, at least two classes in a batch). While torch.compile traces, the value checks are skipped
# even with validation on (a read-back would break the graph); the others are evaluated once, at trace time.
_VALIDATE = True


def set_validate_args(value: bool) -> None:
    """Turn the value checks of every loss, miner and angular loss on (default) or off, globally.

    Introduced with the benchmark (issue 16). With validation off no input is checked and no loss reads a
    tensor back to Python, so a loss costs what its arithmetic costs and traces with
    ``torch.compile(fullgraph=True)``; wrong labels or shapes then give silently wrong numbers (or torch's
    own error), exactly as torch's own losses do.

    Raises
    ------
    TypeError
        If ``value`` is not a bool.
    """
    global _VALIDATE
    if not isinstance(value, bool):
        raise TypeError(f"set_validate_args expects True or False; got {value!r}.")
    _VALIDATE = value


def validation_enabled() -> bool:
    """True when value checks run: the switch is on and torch.compile is not tracing."""
    return _VALIDATE and not torch.compiler.is_compiling()


class validate_args:
    """Context manager: ``with validate_args(False): ...`` runs the block with value checks off.

    Restores the previous setting on exit, even on an exception. Not thread-local (like
    ``torch.distributions.Distribution.set_default_validate_args``).
    """

    def __init__(self, value: bool):
        if not isinstance(value, bool):
            raise TypeError(f"validate_args expects True or False; got {value!r}.")
        self.value = value

    def __enter__(self):
        self.previous = _VALIDATE
        set_validate_args(self.value)
        return self

    def __exit__(self, *exc):
        set_validate_args(self.previous)
        return False


def _values(x, limit=10):
    """Sorted distinct values of ``x`` as a short printable list."""
    values = torch.unique(x.detach().cpu().to(torch.float64 if x.is_floating_point() else torch.int64))
    return f"{values.tolist()[:limit]}{' ...' if values.numel() > limit else ''}"


def _isin(x, allowed):
    """Elementwise: is each entry of ``x`` one of the numbers ``allowed``?"""
    return torch.isin(x.to(torch.float64), torch.tensor(allowed, dtype=torch.float64, device=x.device))


def check_tensor(name, x):
    """Raise ``TypeError`` unless ``x`` is a ``torch.Tensor``."""
    if not _VALIDATE:
        return
    if not isinstance(x, torch.Tensor):
        raise TypeError(
            f"{name} must be a torch.Tensor; got {type(x).__name__}. "
            f"Fix: convert it with torch.as_tensor({name})."
        )


def check_float_tensor(name, x):
    """Raise ``TypeError`` unless ``x`` is a floating-point tensor (scores, embeddings)."""
    if not _VALIDATE:
        return
    check_tensor(name, x)
    if not x.is_floating_point():
        raise TypeError(
            f"{name} must be a floating-point tensor (scores and embeddings are real numbers); "
            f"got dtype {x.dtype}. Fix: use {name}.float() (or .double())."
        )


def check_nonempty(name, x):
    """Raise ``ValueError`` if ``x`` holds no element (an empty batch)."""
    if not _VALIDATE:
        return
    if x.numel() == 0:
        raise ValueError(
            f"{name} must hold at least one example; got an empty tensor of shape {tuple(x.shape)}. "
            f"Fix: skip empty batches before calling the loss."
        )


def check_ndim(name, x, ndim, layout):
    """Raise ``ValueError`` unless ``x`` has ``ndim`` dimensions; ``layout`` is e.g. ``"(N, C)"``."""
    if not _VALIDATE:
        return
    if x.dim() != ndim:
        raise ValueError(
            f"{name} must be {ndim}-D with shape {layout}; got shape {tuple(x.shape)}. "
            f"Fix: reshape it, e.g. {name}.reshape(N, -1) for a 2-D layout or "
            f"{name}.reshape(-1) for a 1-D one."
        )


def check_same_shape(**tensors):
    """Raise ``ValueError`` unless all the named tensors have the same shape."""
    if not _VALIDATE:
        return
    shapes = {name: tuple(t.shape) for name, t in tensors.items()}
    if len(set(shapes.values())) > 1:
        got = ", ".join(f"{name}.shape={shape}" for name, shape in shapes.items())
        raise ValueError(
            f"{', '.join(shapes)} must have the same shape (one entry per example); got {got}. "
            f"Fix: pass tensors that pair up element by element (no broadcasting is done)."
        )


def check_same_batch_size(**tensors):
    """Raise ``ValueError`` unless all the named tensors have the same first dimension N."""
    if not _VALIDATE:
        return
    sizes = {name: t.shape[0] for name, t in tensors.items()}
    if len(set(sizes.values())) > 1:
        got = ", ".join(f"{name}.shape[0]={n}" for name, n in sizes.items())
        raise ValueError(
            f"{', '.join(sizes)} must have the same batch size N; got {got}. "
            f"Fix: pass one label per example."
        )


def _all_plus_minus_one(targets):
    """True iff every entry of ``targets`` is -1 or +1, compared in the targets' own dtype.

    Hot path of every binary loss, so two kernels: ``|t|`` and one min/max reduction (all
    ``|t| == 1`` iff ``min |t| == max |t| == 1``; NaN propagates and fails). Bool tensors only
    hold 0 and 1: for them the test is "all True".
    """
    if targets.numel() == 0:
        return True
    if targets.dtype == torch.bool:
        return bool(targets.all())
    if targets.is_complex():  # |1j| == 1, so compare values
        return bool(((targets == 1) | (targets == -1)).all())
    low, high = torch.aminmax(targets.abs())
    return low.item() == 1 and high.item() == 1


def _all_zero_or_one(similar):
    """True iff every entry of ``similar`` is 0 or 1, compared in its own dtype (fast path)."""
    if similar.numel() == 0 or similar.dtype == torch.bool:
        return True
    if similar.is_complex():
        return bool(((similar == 0) | (similar == 1)).all())
    if similar.is_floating_point():
        # s (1 - s) is exactly 0 iff s is 0 or 1 (no rounding makes it 0 otherwise; NaN fails).
        low, high = torch.aminmax(similar * (1 - similar))
        return low.item() == 0 and high.item() == 0
    low, high = torch.aminmax(similar)  # integers: 0 <= s <= 1 means s in {0, 1}
    return low.item() >= 0 and high.item() <= 1


def check_binary_targets(targets):
    """Raise unless ``targets`` hold only -1 and +1 (float, int or bool dtype accepted)."""
    check_tensor("targets", targets)
    if not validation_enabled():
        return
    if _all_plus_minus_one(targets):
        return
    # Failure path only: build the detailed message.
    bad = ~_isin(targets, [-1.0, 1.0])
    if _isin(targets, [0.0, 1.0]).all():
        raise ValueError(
            f"targets must be -1 or +1; got values {_values(targets)}: {{0, 1}} labels were detected. "
            f"Fix: convert them with targets = 2 * targets - 1."
        )
    raise ValueError(
        f"targets must be -1 or +1; got values outside {{-1, +1}}: {_values(targets[bad])}. "
        f"Fix: encode the positive class as +1 and the negative class as -1."
    )


def check_class_targets(targets, num_classes):
    """Raise unless ``targets`` is a 1-D integer tensor of class indices in ``[0, num_classes)``."""
    check_tensor("targets", targets)
    if targets.is_floating_point() or targets.is_complex() or targets.dtype == torch.bool:
        raise TypeError(
            f"targets must be integer class indices; got dtype {targets.dtype}. "
            f"Fix: use targets.long()."
        )
    check_ndim("targets", targets, 1, "(N,)")
    if targets.numel() == 0 or not validation_enabled():
        return
    low, high = torch.aminmax(targets)  # one reduction; the message is built only on failure
    if low.item() < 0 or high.item() >= num_classes:
        bad = (targets < 0) | (targets >= num_classes)
        raise ValueError(
            f"targets must be class indices in [0, {num_classes - 1}] (scores have C={num_classes} "
            f"columns); got out-of-range values {_values(targets[bad])}. "
            f"Fix: map labels to 0..C-1, or give scores one column per class."
        )


def check_similar_labels(similar):
    """Raise unless ``similar`` holds only 1 (similar pair) and 0 (dissimilar pair)."""
    check_tensor("similar", similar)
    if not validation_enabled():
        return
    if _all_zero_or_one(similar):
        return
    # Failure path only: build the detailed message.
    bad = ~_isin(similar, [0.0, 1.0])
    if _isin(similar, [-1.0, 1.0]).all():
        raise ValueError(
            f"similar must be 1 (similar pair) or 0 (dissimilar pair); got values {_values(similar)}, "
            f"which look like {{-1, +1}} labels. Fix: convert them with similar = (y + 1) // 2."
        )
    raise ValueError(
        f"similar must be 1 (similar pair) or 0 (dissimilar pair); got values outside {{0, 1}}: "
        f"{_values(similar[bad])}. Fix: pass a bool or 0/1 tensor."
    )


def check_margin(margin, name="margin"):
    """Return ``margin`` as a float; raise unless it is a finite real number >= 0."""
    if not _VALIDATE:
        return margin
    if isinstance(margin, bool) or not isinstance(margin, numbers.Real):
        raise TypeError(
            f"{name} must be a real number; got {type(margin).__name__}. "
            f"Fix: pass a Python float such as {name}=1.0."
        )
    if not math.isfinite(margin) or margin < 0:
        raise ValueError(
            f"{name} must be a finite number >= 0; got {margin}. "
            f"Fix: pass a non-negative {name} such as 1.0 (0 is allowed)."
        )
    return float(margin)


def check_positive(name, value):
    """Return ``value`` as a float; raise unless it is a real number > 0 (``inf`` allowed)."""
    if not _VALIDATE:
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {type(value).__name__}. Fix: pass e.g. {name}=2.")
    if not value > 0:
        raise ValueError(f"{name} must be > 0; got {value}. Fix: pass a positive value, e.g. {name}=2.")
    return float(value)


def check_choice(name, value, valid):
    """Raise ``ValueError`` unless ``value`` is one of ``valid``."""
    if not _VALIDATE:
        return
    if value not in valid:
        raise ValueError(
            f"{name} must be one of {', '.join(map(repr, valid))}; got {value!r}. "
            f"Fix: pick one of the valid values."
        )


def apply_reduction(loss, reduction):
    """Reduce per-example losses: ``"none"`` keeps them, ``"mean"`` averages, ``"sum"`` adds."""
    check_choice("reduction", reduction, REDUCTIONS)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss
