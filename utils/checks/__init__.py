"""Exercise checks: a student's function against a reference, with a diagnosis of the likely mistake.

Each exercise of ``exercises/`` is an :class:`Exercise` registered here under a stable name (the
name is also the tag ``exercise:<name>`` of the notebook cell that defines the function). A student
calls, right after writing the function::

    from utils.checks import check
    check("hinge_loss", hinge_loss)

On success it prints one line. On failure it raises ``AssertionError`` whose message names the
likely mistake and how to fix it: when the student's outputs agree with one of the exercise's
catalogued :class:`Mistake` models (a re-implementation of that mistake), that mistake's hint is given;
otherwise the first failing case is described. Messages never show the reference's code.

Evaluation is split in two so that the grader can run the untrusted half elsewhere:
:func:`run_cases` calls the student's function and returns plain data (tensors, numbers, error
strings); :func:`judge` compares those outcomes with the reference in a trusted process.

The exercise definitions live in one module per notebook (``utils/checks/exNN_*.py``), imported by
:func:`registry`. Introduced with the exercises (issue 6).
"""

from __future__ import annotations

import copy
import importlib
import pkgutil
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import torch

Case = dict[str, Any]


@dataclass(frozen=True)
class Mistake:
    """A typical mistake: ``mimic`` reproduces it (same signature as the exercise function)."""

    name: str
    hint: str
    mimic: Callable[..., Any] | None = None


@dataclass(frozen=True)
class Exercise:
    """One graded exercise.

    ``make_cases(generator, hidden)`` returns a list of keyword-argument dicts; ``hidden=True`` gives
    the grader's cases (other sizes and edge cases, never printed). ``grad_inputs`` names the tensor
    inputs whose gradients (of the output's sum) must also match. ``compare(got, expected)`` decides
    whether one output is right (default: numerically close, shapes equal).
    """

    name: str
    notebook: str
    function: str
    points: int
    reference: Callable[..., Any]
    make_cases: Callable[[torch.Generator, bool], list[Case]]
    mistakes: tuple[Mistake, ...] = ()
    grad_inputs: tuple[str, ...] = ()
    compare: Callable[[Any, Any], bool] | None = None
    max_seconds: float | None = None  # time budget per case, for "vectorise this loop" exercises
    description: str = ""
    # In the student bundle only: the public cases with the reference's and each mistake's outcomes,
    # precomputed (utils/checks/public.py), so that neither references nor mimics are shipped.
    public: dict | None = None


@dataclass
class Outcome:
    """What the student's function did on one case, as plain data."""

    value: Any = None
    grads: dict[str, torch.Tensor] = field(default_factory=dict)
    error: str | None = None  # "ExceptionType: message"
    seconds: float = 0.0


@dataclass
class Report:
    """The verdict on one exercise: per-case pass/fail, the diagnosis, and the score."""

    exercise: Exercise
    passed: list[bool]
    status: str  # "pass" | "fail" | "error" | "not implemented"
    message: str = ""

    @property
    def score(self) -> float:
        """Points earned: partial credit in proportion to the cases passed."""
        return self.exercise.points * sum(self.passed) / max(1, len(self.passed))


_REGISTRY: dict[str, Exercise] = {}


def register(exercise: Exercise) -> Exercise:
    if exercise.name in _REGISTRY and _REGISTRY[exercise.name] is not exercise:
        raise ValueError(f"two exercises are named {exercise.name!r}")
    _REGISTRY[exercise.name] = exercise
    return exercise


def registry() -> dict[str, Exercise]:
    """Every exercise, by name (imports the per-notebook modules of this package on first use; in the
    student bundle, registers the precomputed public outcomes instead)."""
    from utils.checks import public

    if public.DATA.exists():
        if not _REGISTRY:
            for exercise in public.load(public.DATA).values():
                register(exercise)
        return dict(_REGISTRY)
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("ex"):
            importlib.import_module(f"{__name__}.{info.name}")
    return dict(_REGISTRY)


def canonical_notebook(name: str) -> str:
    """The exercise notebook's name, ``exNN_slug``, from either spelling: ``ex02_hinge_loss`` or the
    name used before the rename (issue 12), ``02_hinge_loss``; a ``.ipynb``/``.py`` suffix is dropped.
    Any other text comes back unchanged (so an unknown name stays unknown)."""
    stem = name.rsplit("/", 1)[-1]
    for suffix in (".ipynb", ".py"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
    if len(stem) > 3 and stem[:2].isdigit() and stem[2] == "_":
        return "ex" + stem
    return stem


def get(name: str) -> Exercise:
    exercises = registry()
    if name not in exercises:
        raise KeyError(f"no exercise named {name!r}; known: {', '.join(sorted(exercises))}")
    return exercises[name]


# --------------------------------------------------------------------------- running (untrusted side)
def cases_for(exercise: Exercise, *, hidden: bool = False, seed: int = 0) -> list[Case]:
    if exercise.public is not None:  # the student bundle knows its public cases only
        return copy.deepcopy(exercise.public["cases"])
    return exercise.make_cases(torch.Generator().manual_seed(seed), hidden)


def _call(fn: Callable, case: Case, grad_inputs: tuple[str, ...]) -> Outcome:
    case = copy.deepcopy(case)  # a function that modifies its inputs must not corrupt the next call
    for name in grad_inputs:
        case[name] = case[name].detach().clone().requires_grad_(True)
    start = time.perf_counter()
    try:
        value = fn(**case)
        grads = {}
        if grad_inputs:
            if not isinstance(value, torch.Tensor) or not value.requires_grad:
                return Outcome(error="NoGradient: the result is not connected to the inputs by autograd "
                               "(did you use .item(), numpy, or torch.no_grad()?)")
            inputs = [case[n] for n in grad_inputs]
            got = torch.autograd.grad(value.sum(), inputs, allow_unused=True)
            grads = {n: (torch.zeros_like(i) if g is None else g.detach()) for n, g, i in zip(grad_inputs, got, inputs)}
    except Exception as exc:  # the student's error is data, reported with its hint
        return Outcome(error=f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}",
                       seconds=time.perf_counter() - start)
    value = value.detach() if isinstance(value, torch.Tensor) else value
    return Outcome(value=value, grads=grads, seconds=time.perf_counter() - start)


def run_cases(exercise: Exercise, fn: Callable, cases: list[Case]) -> list[Outcome]:
    """Call ``fn`` on every case. Never raises: errors are recorded in the outcomes."""
    return [_call(fn, case, exercise.grad_inputs) for case in cases]


# --------------------------------------------------------------------------- judging (trusted side)
def close(got: Any, expected: Any, *, rtol: float = 1e-5, atol: float = 1e-7) -> bool:
    """Numerically equal, recursively through tuples/lists/dicts; shapes must match exactly."""
    if isinstance(expected, torch.Tensor):
        if not isinstance(got, torch.Tensor):
            return False
        if got.shape != expected.shape:
            return False
        if expected.dtype == torch.bool or not (expected.is_floating_point() or got.is_floating_point()):
            return torch.equal(got.to(expected.dtype), expected)
        return torch.allclose(got.to(torch.float64), expected.to(torch.float64), rtol=rtol, atol=atol, equal_nan=True)
    if isinstance(expected, (tuple, list)):
        return isinstance(got, (tuple, list)) and len(got) == len(expected) and all(
            close(g, e, rtol=rtol, atol=atol) for g, e in zip(got, expected)
        )
    if isinstance(expected, dict):
        return isinstance(got, dict) and got.keys() == expected.keys() and all(
            close(got[k], expected[k], rtol=rtol, atol=atol) for k in expected
        )
    if isinstance(expected, float):
        return isinstance(got, (int, float, torch.Tensor)) and abs(float(got) - expected) <= atol + rtol * abs(expected)
    return got == expected


def _agrees(exercise: Exercise, got: Outcome, expected: Outcome) -> bool:
    if got.error is not None or expected.error is not None:
        return False
    same = (exercise.compare or close)(got.value, expected.value)
    return same and all(close(got.grads.get(n), expected.grads[n]) for n in expected.grads)


def _describe(case: Case) -> str:
    parts = []
    for key, value in case.items():
        if isinstance(value, torch.Tensor):
            shown = f"tensor of shape {tuple(value.shape)}, dtype {value.dtype}"
            if value.numel() <= 6:
                shown = f"{value.tolist()}"
            parts.append(f"{key}={shown}")
        else:
            parts.append(f"{key}={value!r}")
    return ", ".join(parts)


def judge(exercise: Exercise, cases: list[Case], outcomes: list[Outcome], reference: Callable | None = None) -> Report:
    """Compare the student's outcomes with the reference's on the same cases, and diagnose."""
    if len(outcomes) != len(cases):
        raise ValueError(f"{len(outcomes)} outcomes for {len(cases)} cases")
    if reference is None and exercise.reference is None:
        expected = exercise.public["expected"]
    else:
        expected = run_cases(exercise, reference or exercise.reference, cases)
    broken = [e.error for e in expected if e.error]
    if broken:
        raise RuntimeError(f"the reference of {exercise.name!r} fails on its own cases: {broken[0]}")
    passed = [_agrees(exercise, o, e) for o, e in zip(outcomes, expected)]
    slow = [
        o.seconds for o, ok in zip(outcomes, passed)
        if ok and exercise.max_seconds is not None and o.seconds > exercise.max_seconds
    ]
    if all(passed) and not slow:
        return Report(exercise, passed, "pass", f"{exercise.name}: all {len(cases)} cases pass")
    errors = [o.error for o in outcomes if o.error]
    if errors and all(e.startswith("NotImplementedError") for e in errors) and len(errors) == len(outcomes):
        return Report(exercise, [False] * len(cases), "not implemented",
                      f"{exercise.name}: not implemented yet (the stub still raises NotImplementedError)")
    if all(passed):  # right but too slow
        budget = exercise.max_seconds
        return Report(exercise, [False] * len(cases), "fail",
                      f"{exercise.name}: correct, but a case took {max(slow):.2f} s (budget {budget} s): "
                      "vectorise it — replace the Python loops by tensor operations over the whole batch.")
    message = _diagnose(exercise, cases, outcomes, passed, expected)
    return Report(exercise, passed, "error" if errors else "fail", message)


def _mimicked(exercise: Exercise, mistake: Mistake, cases: list[Case], indices: list[int]) -> list[Outcome] | None:
    """The mistake's outcomes on the given cases: run its mimic, or read them precomputed (bundle)."""
    if mistake.mimic is not None:
        return run_cases(exercise, mistake.mimic, [cases[i] for i in indices])
    stored = (exercise.public or {}).get("mistakes", {}).get(mistake.name)
    return None if stored is None else [stored[i] for i in indices]


def _diagnose(exercise: Exercise, cases: list[Case], outcomes: list[Outcome], passed: list[bool],
              expected: list[Outcome]) -> str:
    failing = [i for i, ok in enumerate(passed) if not ok]
    head = f"{exercise.name}: {len(failing)} of {len(cases)} cases fail."
    by_error_text = []
    for mistake in exercise.mistakes:
        mimicked = _mimicked(exercise, mistake, cases, failing)
        if mimicked is None:
            by_error_text.append(mistake)
        elif all(_agrees(exercise, outcomes[i], m) for i, m in zip(failing, mimicked)):
            return f"{head}\nLikely mistake — {mistake.name}: {mistake.hint}"
    first = failing[0]
    outcome = outcomes[first]
    for mistake in by_error_text:  # hints keyed on an error message (e.g. in-place autograd errors)
        if outcome.error and mistake.name.lower() in outcome.error.lower():
            return f"{head}\nLikely mistake — {mistake.name}: {mistake.hint}"
    if outcome.error:
        return f"{head}\nOn the case {_describe(cases[first])}\nyour function raised {outcome.error}"
    expected = expected[first]
    detail = "its gradient differs" if (exercise.compare or close)(outcome.value, expected.value) else "its value differs"
    shown = ""
    if isinstance(outcome.value, torch.Tensor) and isinstance(expected.value, torch.Tensor):
        if outcome.value.shape != expected.value.shape:
            shown = f" (shape {tuple(outcome.value.shape)}, expected {tuple(expected.value.shape)})"
        elif expected.value.numel() <= 6:
            shown = f": got {outcome.value.tolist()}, expected {expected.value.tolist()}"
    return f"{head}\nOn the case {_describe(cases[first])}\n{detail}{shown}."


def evaluate(name: str, fn: Callable, *, hidden: bool = False, seed: int = 0) -> Report:
    """Run and judge in one process (the student's own check)."""
    exercise = get(name)
    if not callable(fn):
        raise TypeError(f"check({name!r}, ...) expects your function {exercise.function}, got {type(fn).__name__}")
    cases = cases_for(exercise, hidden=hidden, seed=seed)
    return judge(exercise, cases, run_cases(exercise, fn, cases))


def check(name: str, fn: Callable) -> None:
    """The student's check: one line on success, ``AssertionError`` with a diagnosis on failure."""
    report = evaluate(name, fn)
    if report.status != "pass":
        raise AssertionError(report.message)
    points = report.exercise.points
    print(f"✓ {report.message} ({points} point{'s' if points != 1 else ''})")
