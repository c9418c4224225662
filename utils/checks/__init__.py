"""Exercise checks: a student's function against a reference, with a diagnosis of the likely mistake.

Each exercise of ``exercises/`` is an :class:`Exercise` registered here under a stable name (the
name is also the tag ``exercise:<name>`` of the notebook cell that defines the function). A student
calls, right after writing the function::

    from utils.checks import check
    check("hinge_loss", hinge_loss)

On success it prints one line. On failure it raises :class:`CheckFailed` (an ``AssertionError``, so the
cell fails for nbval and stops "Run All"), whose message names the likely mistake and how to fix it; in a
Jupyter kernel that message is shown alone, without a traceback into this library (issue 12): when the student's outputs agree with one of the exercise's
catalogued :class:`Mistake` models (a re-implementation of that mistake), that mistake's hint is given;
otherwise the first failing case is described. Messages never show the reference's code.

Evaluation is split in two so that the grader can run the untrusted half elsewhere:
:func:`run_cases` calls the student's function and returns plain data (tensors, numbers, error
strings); :func:`judge` compares those outcomes with the reference in a trusted process.

What the student's function may not do (issue 13): write into its inputs (every input is compared with
a pristine copy after each call), or call what would answer the exercise for it (``Exercise.forbidden``,
patched to raise :class:`ForbiddenCall` while the function runs). Credit follows the behaviours tested:
cases carry a ``group`` (key ``"__group__"``), a group counts only when all its cases pass, and an answer
diagnosed as a catalogued mistake earns at most half the points.

The exercise definitions live in one module per notebook (``utils/checks/exNN_*.py``), imported by
:func:`registry`. Introduced with the exercises (issue 6).
"""

from __future__ import annotations

import copy
import importlib
import math
import pkgutil
import sys
import time
import types
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
    # "Vectorise" exercises (issue 13): one large case and a CPU budget; see SpeedCase below.
    speed: "SpeedCase | None" = None
    # Dotted names of callables that would answer the exercise for the student (the library's own
    # implementation, PyTorch's built-in of the same loss, autograd in "by hand" exercises; a module name
    # forbids every function defined in it). They raise ForbiddenCall while the student's function runs.
    forbidden: tuple[str, ...] = ()
    # Automatic mutants of the solution (utils/checks/mutants.py) that no valid case can tell apart from
    # it: mutant id -> one-line reason.
    equivalent_mutants: dict[str, str] = field(default_factory=dict)


@dataclass
class Outcome:
    """What the student's function did on one case, as plain data."""

    value: Any = None
    grads: dict[str, torch.Tensor] = field(default_factory=dict)
    error: str | None = None  # "ExceptionType: message"
    seconds: float = 0.0


@dataclass
class Report:
    """The verdict on one exercise: per-case pass/fail, per-group pass/fail, the diagnosis, the score."""

    exercise: Exercise
    passed: list[bool]
    status: str  # "pass" | "fail" | "error" | "not implemented" | "forbidden"
    message: str = ""
    groups: dict[str, bool] = field(default_factory=dict)  # behaviour tested -> all its cases pass
    mistake: str | None = None  # the catalogued mistake diagnosed, if any

    @property
    def score(self) -> float:
        """Points earned: the fraction of groups whose cases all pass; at most half the points when the
        answer is a catalogued mistake; 0 for a forbidden call or an answer right but too slow."""
        if self.status in ("forbidden", "not implemented") or not self.groups:
            return 0.0 if self.status != "pass" else float(self.exercise.points)
        points = self.exercise.points * sum(self.groups.values()) / len(self.groups)
        if self.mistake is not None:
            points = min(points, self.exercise.points / 2)
        return points


class CheckFailed(AssertionError):
    """A check's verdict on a wrong answer: in a Jupyter kernel, shown as its message only (no traceback)."""


class ForbiddenCall(BaseException):
    """Raised by a forbidden callable while the student's function runs.

    A ``BaseException``, so that a student's ``except Exception`` cannot swallow it (a call that was
    swallowed anyway is still recorded, see :func:`_call`)."""


GROUP = "__group__"  # the key of a case that names the behaviour it tests (never passed to the function)


def group_of(case: Case, index: int = 0) -> str:
    """The behaviour a case tests: its ``"__group__"``, or "the worked example" for the first case and
    "random cases" for the others when the exercise does not name groups."""
    return case.get(GROUP) or ("the worked example" if index == 0 else "random cases")


def grouped(group: str, *cases: Case) -> list[Case]:
    """The cases, each tagged with ``group`` (helper for ``make_cases``)."""
    return [{**case, GROUP: group} for case in cases]


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


# What a forbidden call should have been instead, by prefix of its dotted name.
_INSTEAD = (
    (("torch.autograd", "torch.Tensor.backward", "torch.func"),
     "this exercise asks for the derivative worked out by hand: write the formula with tensor operations"),
    (("torch.nn.functional", "torch.nn"),
     "this exercise asks you to write that loss yourself with tensor operations, not to call PyTorch's"),
    (("utils",), "this exercise asks you to write it yourself; the book's implementation is what you are rebuilding"),
)


def _instead(name: str) -> str:
    for prefixes, text in _INSTEAD:
        if any(name == p or name.startswith(p + ".") for p in prefixes):
            return text
    return "this exercise asks you to compute it yourself"


def _resolve(name: str):
    """(owner, attribute, object) for a dotted name; owner/attribute are None for a module."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        owner, attr = None, None
        for part in parts[cut:]:
            owner, attr, obj = obj, part, getattr(obj, part)
        return owner, attr, obj
    raise ImportError(f"cannot resolve the forbidden name {name!r}")


class _Forbid:
    """While active: each forbidden callable raises :class:`ForbiddenCall`, however it is reached.

    Two layers: the attribute on its module or class is replaced (``F.margin_ranking_loss(...)``), and a
    profile hook catches the original function object reached through another name (``from utils import
    hinge_loss as h``; a module such as ``utils.miners`` forbids every function whose code lives in it).
    Everything is restored on exit, even when the student's function raised; the first forbidden call
    is remembered in ``self.called`` even if the student's code swallowed the exception.
    """

    def __init__(self, names: tuple[str, ...], function: str = "your function"):
        self.names, self.function, self.called = tuple(names), function, None
        self._patched: list[tuple[object, str, object]] = []
        self._codes: dict[object, str] = {}
        self._files: dict[str, str] = {}
        self._builtins: dict[int, str] = {}

    def _error(self, name: str) -> ForbiddenCall:
        if self.called is None:
            self.called = name
        return ForbiddenCall(f"{self.function} may not call {name}: {_instead(name)}.")

    def __enter__(self):
        for name in self.names:
            owner, attr, obj = _resolve(name)
            if isinstance(obj, types.ModuleType):
                if getattr(obj, "__file__", None):
                    self._files[obj.__file__] = name
                for attr_name, value in list(vars(obj).items()):  # its public functions, by attribute too
                    if (isinstance(value, types.FunctionType) and not attr_name.startswith("_")
                            and value.__module__ == obj.__name__):
                        self._patch(obj, attr_name, f"{name}.{attr_name}")
                continue
            self._patch(owner, attr, name)
            target = getattr(obj, "__func__", obj)
            while hasattr(target, "__wrapped__"):
                target = target.__wrapped__
            code = getattr(target, "__code__", None)
            if code is not None:
                self._codes[code] = name
            else:
                self._builtins[id(target)] = name

        self._previous = sys.getprofile()
        if self._codes or self._files or self._builtins:
            sys.setprofile(self._profile)
        return self

    def _profile(self, frame, event, arg):
        if event == "call":
            name = self._codes.get(frame.f_code) or self._files.get(frame.f_code.co_filename)
            if name is not None:
                raise self._error(name)
        elif event == "c_call" and id(arg) in self._builtins:
            raise self._error(self._builtins[id(arg)])

    def _patch(self, owner, attr: str, name: str) -> None:
        def refuse(*args, **kwargs):
            raise self._error(name)

        self._patched.append((owner, attr, vars(owner).get(attr, _MISSING)))
        setattr(owner, attr, refuse)

    def __exit__(self, *exc):
        sys.setprofile(self._previous)
        for owner, attr, original in reversed(self._patched):
            if original is _MISSING:
                try:
                    delattr(owner, attr)
                except AttributeError:
                    pass
            else:
                setattr(owner, attr, original)
        self._patched.clear()
        return False


_MISSING = object()


def _same(before: Any, after: Any) -> bool:
    """``after`` is still exactly ``before`` (tensors: dtype, shape and every value; NaN equals NaN)."""
    if isinstance(before, torch.Tensor):
        return (isinstance(after, torch.Tensor) and after.dtype == before.dtype and after.shape == before.shape
                and bool(torch.equal(after.detach(), before) or (before.is_floating_point() and torch.equal(
                    torch.nan_to_num(after.detach(), nan=0.5), torch.nan_to_num(before, nan=0.5)))))
    if isinstance(before, (list, tuple)):
        return type(after) is type(before) and len(after) == len(before) and all(map(_same, before, after))
    if isinstance(before, dict):
        return isinstance(after, dict) and after.keys() == before.keys() and all(_same(before[k], after[k]) for k in before)
    if isinstance(before, float) and math.isnan(before):
        return isinstance(after, float) and math.isnan(after)
    return type(after) is type(before) and after == before


def _modified(case: Case, pristine: Case, versions: dict[str, int]) -> str | None:
    """The first input the call wrote into (a tensor's version counter moved, or its value changed)."""
    for name, value in case.items():
        if isinstance(value, torch.Tensor) and value._version != versions[name]:
            return name
        if not _same(pristine[name], value):
            return name
    return None


def _error_text(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"


def _call(fn: Callable, case: Case, grad_inputs: tuple[str, ...], *, forbidden: tuple[str, ...] = (),
          function: str = "your function") -> Outcome:
    """Call ``fn(**case)`` once and return what it did as plain data. Never raises (but KeyboardInterrupt).

    The signature the grader's sandbox relies on: ``_call(fn, case, grad_inputs, *, forbidden=())`` with
    ``case`` a dict of keyword arguments (keys starting with ``"__"``, such as the group, are not passed),
    ``grad_inputs`` the names of the tensor inputs whose gradient of ``output.sum()`` is returned, and
    ``forbidden`` the dotted names of :attr:`Exercise.forbidden` (plain strings, so a sandbox that cannot
    import the exercise modules passes them from its job file).

    * ``case`` is deep-copied, so the caller's case is never corrupted; after the call, every input is
      compared with a pristine copy (values, dtype, shape, and the tensor's version counter, which any
      in-place write moves): a modified input gives the error ``"InputModified: ..."`` naming it.
    * While ``fn`` runs, each forbidden callable raises :class:`ForbiddenCall`; the outcome's error is then
      ``"ForbiddenCall: <function> may not call <name>: <what to do instead>."`` (also when the student's
      code caught the exception). The gradient below is computed after the forbidden calls are restored.
    """
    case = {k: v for k, v in copy.deepcopy(case).items() if not k.startswith("__")}
    for name in grad_inputs:
        case[name] = case[name].detach().clone().requires_grad_(True)
    pristine = {k: (v.detach().clone() if isinstance(v, torch.Tensor) else copy.deepcopy(v)) for k, v in case.items()}
    versions = {k: v._version for k, v in case.items() if isinstance(v, torch.Tensor)}
    guard = _Forbid(forbidden, function)
    start = time.perf_counter()
    try:
        with guard:
            value = fn(**case)
    except ForbiddenCall as exc:
        return Outcome(error=_error_text(exc), seconds=time.perf_counter() - start)
    except Exception as exc:  # the student's error is data, reported with its hint
        seconds = time.perf_counter() - start
        if guard.called is not None:
            return Outcome(error=_error_text(guard._error(guard.called)), seconds=seconds)
        if "leaf Variable that requires grad is being used in an in-place operation" in str(exc):
            names = " or ".join(f"`{n}`" for n in grad_inputs)
            return Outcome(error=f"InputModified: your function writes into its input {names} in place",
                           seconds=seconds)
        return Outcome(error=_error_text(exc), seconds=seconds)
    seconds = time.perf_counter() - start
    if guard.called is not None:
        return Outcome(error=_error_text(guard._error(guard.called)), seconds=seconds)
    changed = _modified(case, pristine, versions)
    if changed is not None:
        return Outcome(error=f"InputModified: your function writes into its input `{changed}` in place",
                       seconds=seconds)
    grads = {}
    if grad_inputs:
        if not isinstance(value, torch.Tensor) or not value.requires_grad:
            return Outcome(error="NoGradient: the result is not connected to the inputs by autograd "
                           "(did you use .item(), numpy, or torch.no_grad()?)", seconds=seconds)
        try:
            inputs = [case[n] for n in grad_inputs]
            got = torch.autograd.grad(value.sum(), inputs, allow_unused=True)
        except Exception as exc:
            return Outcome(error=_error_text(exc), seconds=seconds)
        grads = {n: (torch.zeros_like(i) if g is None else g.detach()) for n, g, i in zip(grad_inputs, got, inputs)}
    value = value.detach() if isinstance(value, torch.Tensor) else value
    return Outcome(value=value, grads=grads, seconds=seconds)


def run_cases(exercise: Exercise, fn: Callable, cases: list[Case], *, forbidden: tuple[str, ...] = ()) -> list[Outcome]:
    """Call ``fn`` on every case. Never raises: errors are recorded in the outcomes. ``forbidden`` is for
    the student's function only (references and mimics may use anything)."""
    return [_call(fn, case, exercise.grad_inputs, forbidden=forbidden, function=exercise.function) for case in cases]


# --------------------------------------------------------------------------- judging (trusted side)
# Tolerance relative to the scale of the expected output (its largest finite magnitude), by the dtype the
# student's output has: float32 arithmetic is accepted wherever a statement does not demand float64.
TOLERANCE = {torch.float64: 1e-6, torch.float32: 1e-4}
LOW_PRECISION_TOLERANCE = 1e-2


def _tensor_close(got: torch.Tensor, expected: torch.Tensor) -> bool:
    if expected.dtype == torch.bool:
        return got.dtype == torch.bool and torch.equal(got, expected)
    if not expected.is_floating_point():  # integer indices or counts: integer dtype, exact values
        return not got.is_floating_point() and not got.is_complex() and got.dtype != torch.bool \
            and torch.equal(got.to(torch.int64), expected.to(torch.int64))
    if not got.is_floating_point():
        return False
    g, e = got.detach().to(torch.float64), expected.to(torch.float64)
    if not torch.equal(torch.isnan(g), torch.isnan(e)) or not torch.equal(torch.isinf(e), torch.isinf(g)):
        return False
    if not torch.equal(g[torch.isinf(e)], e[torch.isinf(e)]):
        return False
    finite = torch.isfinite(e)
    if not finite.any():
        return True
    scale = float(e[finite].abs().max())
    tol = TOLERANCE.get(got.dtype, LOW_PRECISION_TOLERANCE)
    return bool(((g[finite] - e[finite]).abs() <= tol * scale + tol * 1e-6).all())


def close(got: Any, expected: Any) -> bool:
    """``got`` is the expected output, of the type the statement asks, recursively through tuples, lists
    and dicts.

    Tensors: same shape; bool masks must be bool, integer outputs (indices, counts) of an integer dtype and
    equal; floating outputs floating, within a tolerance relative to the expected output's scale (its largest
    finite magnitude) and to the dtype of ``got`` (:data:`TOLERANCE`: float32 arithmetic is accepted), NaN
    and ±inf at the same places. Python numbers: a Python ``int`` where an int is expected, a Python number
    (not a tensor) where a float is expected (relative 1e-6, absolute 1e-9).
    """
    if isinstance(expected, torch.Tensor):
        return isinstance(got, torch.Tensor) and got.shape == expected.shape and _tensor_close(got, expected)
    if isinstance(expected, (tuple, list)):
        return isinstance(got, (tuple, list)) and len(got) == len(expected) and all(
            close(g, e) for g, e in zip(got, expected))
    if isinstance(expected, dict):
        return isinstance(got, dict) and got.keys() == expected.keys() and all(close(got[k], expected[k]) for k in expected)
    if isinstance(expected, bool):
        return isinstance(got, bool) and got == expected
    if isinstance(expected, int):
        return isinstance(got, int) and not isinstance(got, bool) and got == expected
    if isinstance(expected, float):
        if isinstance(got, bool) or not isinstance(got, (int, float)):
            return False
        if math.isnan(expected) or math.isnan(got):
            return math.isnan(expected) and math.isnan(got)
        return abs(float(got) - expected) <= 1e-9 + 1e-6 * abs(expected)
    return got == expected


def type_problem(got: Any, expected: Any) -> str | None:
    """What is wrong with the TYPE of ``got`` (not its values), in words, or None."""
    if isinstance(expected, torch.Tensor):
        if not isinstance(got, torch.Tensor):
            return f"your function returns {type(got).__name__} where a tensor is expected"
        if got.shape != expected.shape:
            return None
        if expected.dtype == torch.bool and got.dtype != torch.bool:
            return (f"your mask has dtype {got.dtype}: return a bool mask (comparisons and &, |, ~ give one), "
                    "so that it can index a tensor")
        if not expected.is_floating_point() and expected.dtype != torch.bool and (got.is_floating_point() or got.dtype == torch.bool):
            return (f"your indices have dtype {got.dtype}: return integer indices (torch.int64, as argmin, "
                    "argmax and torch.arange give them), which can index a tensor")
        if expected.is_floating_point() and not got.is_floating_point():
            return f"your result has dtype {got.dtype}: return a floating-point tensor"
        return None
    if isinstance(expected, (tuple, list)) and isinstance(got, (tuple, list)) and len(got) == len(expected):
        return next((p for p in map(type_problem, got, expected) if p), None)
    if isinstance(expected, dict) and isinstance(got, dict) and got.keys() == expected.keys():
        return next((p for p in (type_problem(got[k], expected[k]) for k in expected) if p), None)
    if isinstance(expected, int) and not isinstance(expected, bool) and (isinstance(got, (torch.Tensor, float)) or isinstance(got, bool)):
        return (f"you return a {type(got).__name__} where a Python int is asked: convert it with int(...) "
                "(a 0-dim tensor is not an int)")
    if isinstance(expected, float) and isinstance(got, torch.Tensor):
        return "you return a tensor where a Python float is asked: convert it with .item() or float(...)"
    return None


def _agrees(exercise: Exercise, got: Outcome, expected: Outcome) -> bool:
    if got.error is not None or expected.error is not None:
        return False
    same = (exercise.compare or close)(got.value, expected.value)
    return same and all(close(got.grads.get(n), expected.grads[n]) for n in expected.grads)


def _describe(case: Case) -> str:
    parts = []
    for key, value in case.items():
        if key.startswith("__"):
            continue
        if isinstance(value, torch.Tensor):
            shown = f"tensor of shape {tuple(value.shape)}, dtype {value.dtype}"
            if value.numel() <= 6:
                shown = f"{value.tolist()} ({value.dtype})"
            parts.append(f"{key}={shown}")
        else:
            parts.append(f"{key}={value!r}")
    return ", ".join(parts)


def _group_summary(groups: dict[str, bool]) -> str:
    passed = [g for g, ok in groups.items() if ok]
    failed = [g for g, ok in groups.items() if not ok]
    text = f"Groups passed ({len(passed)}/{len(groups)}): {'; '.join(passed) or 'none'}."
    if failed:
        text += f" Failed: {'; '.join(failed)}."
    return text


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
    names = [group_of(c, i) for i, c in enumerate(cases)]
    groups = {g: all(ok for n, ok in zip(names, passed) if n == g) for g in dict.fromkeys(names)}
    forbidden = next((o.error for o in outcomes if o.error and o.error.startswith("ForbiddenCall")), None)
    if forbidden:
        return Report(exercise, [False] * len(cases), "forbidden",
                      f"{exercise.name}: {forbidden.split(': ', 1)[1]} (0 points for this exercise)",
                      {g: False for g in groups})
    slow = [
        o.seconds for o, ok in zip(outcomes, passed)
        if ok and exercise.max_seconds is not None and o.seconds > exercise.max_seconds
    ]
    if all(passed) and not slow:
        return Report(exercise, passed, "pass", f"{exercise.name}: all {len(cases)} cases pass", groups)
    errors = [o.error for o in outcomes if o.error]
    if errors and all(e.startswith("NotImplementedError") for e in errors) and len(errors) == len(outcomes):
        return Report(exercise, [False] * len(cases), "not implemented",
                      f"{exercise.name}: not implemented yet (the stub still raises NotImplementedError)",
                      {g: False for g in groups})
    if all(passed):  # right but too slow
        budget = exercise.max_seconds
        return Report(exercise, [False] * len(cases), "fail",
                      f"{exercise.name}: correct, but a case took {max(slow):.2f} s (budget {budget} s): "
                      "vectorise it — replace the Python loops by tensor operations over the whole batch.",
                      {g: False for g in groups})
    message, mistake = _diagnose(exercise, cases, outcomes, passed, expected)
    raised = [e for e in errors if not e.startswith("InputModified")]
    return Report(exercise, passed, "error" if raised else "fail", f"{message}\n{_group_summary(groups)}",
                  groups, mistake)


def _mimicked(exercise: Exercise, mistake: Mistake, cases: list[Case], indices: list[int]) -> list[Outcome] | None:
    """The mistake's outcomes on the given cases: run its mimic, or read them precomputed (bundle)."""
    if mistake.mimic is not None:
        return run_cases(exercise, mistake.mimic, [cases[i] for i in indices])
    stored = (exercise.public or {}).get("mistakes", {}).get(mistake.name)
    return None if stored is None else [stored[i] for i in indices]


_INPUT_HINT = ("never write into an input: the caller's tensor would change under it. Compute into a new "
               "tensor instead (e.g. `targets * scores`, not `targets.mul_(scores)`; torch.where or masked_fill, "
               "not `x[...] = ...` on an input; .clone() first if you must modify).")


def _diagnose(exercise: Exercise, cases: list[Case], outcomes: list[Outcome], passed: list[bool],
              expected: list[Outcome]) -> tuple[str, str | None]:
    """(message, the catalogued mistake diagnosed or None)."""
    failing = [i for i, ok in enumerate(passed) if not ok]
    head = f"{exercise.name}: {len(failing)} of {len(cases)} cases fail."
    modified = next((outcomes[i].error for i in failing if (outcomes[i].error or "").startswith("InputModified")), None)
    if modified:
        return f"{head}\n{modified.split(': ', 1)[1]}: {_INPUT_HINT}", None
    by_error_text = []
    for mistake in exercise.mistakes:
        mimicked = _mimicked(exercise, mistake, cases, failing)
        if mimicked is None:
            by_error_text.append(mistake)
        elif all(_agrees(exercise, outcomes[i], m) for i, m in zip(failing, mimicked)):
            return f"{head}\nLikely mistake — {mistake.name}: {mistake.hint}", mistake.name
    first = failing[0]
    outcome = outcomes[first]
    for mistake in by_error_text:  # hints keyed on an error message (e.g. in-place autograd errors)
        if outcome.error and mistake.name.lower() in outcome.error.lower():
            return f"{head}\nLikely mistake — {mistake.name}: {mistake.hint}", mistake.name
    where = f"On the case {_describe(cases[first])} (group: {group_of(cases[first], first)})"
    if outcome.error:
        return f"{head}\n{where}\nyour function raised {outcome.error}", None
    expected = expected[first]
    problem = type_problem(outcome.value, expected.value)
    if problem:
        return f"{head}\n{where}\n{problem}.", None
    if (exercise.compare or close)(outcome.value, expected.value):
        return f"{head}\n{where}\nits value is right but its gradient differs.", None
    detail, shown = "its value differs", ""
    if isinstance(outcome.value, torch.Tensor) and isinstance(expected.value, torch.Tensor):
        if outcome.value.shape != expected.value.shape:
            shown = f" (shape {tuple(outcome.value.shape)}, expected {tuple(expected.value.shape)})"
        elif expected.value.numel() <= 6:
            shown = f": got {outcome.value.tolist()}, expected {expected.value.tolist()}"
    return f"{head}\n{where}\n{detail}{shown}.", None


def evaluate(name: str, fn: Callable, *, hidden: bool = False, seed: int = 0, enforce: bool = True) -> Report:
    """Run and judge in one process (the student's own check); the exercise's forbidden calls are refused
    (``enforce=False``: allowed, for tests that run the library or a mistake's mimic through a check)."""
    exercise = get(name)
    if not callable(fn):
        raise TypeError(f"check({name!r}, ...) expects your function {exercise.function}, got {type(fn).__name__}")
    cases = cases_for(exercise, hidden=hidden, seed=seed)
    return judge(exercise, cases, run_cases(exercise, fn, cases, forbidden=exercise.forbidden if enforce else ()))


def check(name: str, fn: Callable) -> None:
    """The student's check: one line on success, :class:`CheckFailed` with a diagnosis on failure."""
    report = evaluate(name, fn)
    if report.status != "pass":
        raise CheckFailed(report.message)
    too_slow = speed_message(report.exercise, fn)  # "vectorise" exercises only (issue 13)
    if too_slow:
        raise CheckFailed(too_slow)
    points = report.exercise.points
    print(f"✓ {report.message} ({points} point{'s' if points != 1 else ''})")


# --------------------------------------------------------------------------- speed cases (issue 13, item 6)
# A "vectorise" exercise declares one large case on which a Python loop over the batch is at least 20x
# slower than the reference, and a CPU budget between the two. The grader runs that case once in the
# sandbox and reads the sandbox's CPU time from outside (/proc/<pid>/stat, utils/grading/runner.py), so
# patching ``time`` in the notebook changes nothing; the student's check times it with process_time.
@dataclass(frozen=True)
class SpeedCase:
    """``make(generator)`` returns the large case (keyword arguments); ``max_cpu_seconds`` is the CPU
    budget of one call, chosen from measurements recorded in ``measured`` (loop and vectorised times).
    ``expected``: the reference's outcome on the seed-0 case, stored where there is no reference to run
    (the student bundle, utils/checks/public.py)."""

    make: Callable[[torch.Generator], Case]
    max_cpu_seconds: float
    measured: str = ""
    expected: "Outcome | None" = None


def speed_message(exercise: Exercise, fn: Callable) -> str | None:
    """The student's side of the speed case: None when ``fn`` is right and within the CPU budget on it,
    else why not. Timed in the student's own process (``time.process_time``): a hint, not the grade."""
    if exercise.speed is None:
        return None
    case = exercise.speed.make(torch.Generator().manual_seed(0))
    start = time.process_time()
    outcome = _call(fn, case, exercise.grad_inputs, forbidden=exercise.forbidden)
    spent = time.process_time() - start
    expected = (_call(exercise.reference, case, exercise.grad_inputs) if exercise.reference
                else exercise.speed.expected)
    if expected is not None and not _agrees(exercise, outcome, expected):
        return (f"{exercise.name}: right on the small cases, wrong on a large one "
                f"({outcome.error or 'the values differ'}).")
    if spent > exercise.speed.max_cpu_seconds:
        return (f"{exercise.name}: correct, but a large case took {spent:.2f} s of CPU time (budget "
                f"{exercise.speed.max_cpu_seconds:g} s): vectorise it — replace the Python loop over the batch "
                "by tensor operations on the whole batch.")
    return None


# --------------------------------------------------------------------------- plain display in Jupyter
def _stub_function(tb) -> str | None:
    """The name of the exercise stub that raised, when the innermost frame is ``raise NotImplementedError()``
    right under ``# YOUR CODE HERE`` (the stub the exercise notebooks are generated with), else None."""
    import linecache

    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return None
    code, line = tb.tb_frame.f_code, tb.tb_lineno
    here = linecache.getline(code.co_filename, line).strip()
    above = linecache.getline(code.co_filename, line - 1).strip()
    return code.co_name if here == "raise NotImplementedError()" and above == "# YOUR CODE HERE" else None


def _show_plainly(shell, etype, value, tb, tb_offset=None):
    """IPython's handler for CheckFailed (and for an exercise stub that is not written yet): the message
    only, no traceback frames. The error is still sent as an error, so the cell fails for nbval and
    "Run All" stops; any other NotImplementedError keeps its usual traceback."""
    if issubclass(etype, CheckFailed):
        lines = [f"✗ {line}" if i == 0 else line for i, line in enumerate(str(value).splitlines())]
    elif (stub := _stub_function(tb)) is not None:
        lines = [f"✗ NotImplementedError: `{stub}` is not written yet: replace `raise NotImplementedError()` "
                 "under `# YOUR CODE HERE` with your code."]
    else:
        lines = shell.InteractiveTB.structured_traceback(etype, value, tb, tb_offset=tb_offset)
    shell._showtraceback(etype, value, lines)
    return lines


def _install_plain_display() -> None:
    """Register :func:`_show_plainly` when imported inside an IPython kernel (nothing otherwise)."""
    if "IPython" not in sys.modules:
        return
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return
    shell.set_custom_exc((CheckFailed, NotImplementedError), _show_plainly)


_install_plain_display()
