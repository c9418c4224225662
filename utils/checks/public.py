"""The exercise checks of the student bundle: public cases and precomputed outcomes, no code to read.

In the repository, each check module (``exNN_*.py``) holds a reference implementation, the hidden
cases and a mimic of each catalogued mistake: too much for a student to see. ``export`` runs them once,
at release time, on the public cases (seed 0) and stores plain data: the cases, the reference's
outcomes and each mistake's outcomes, and for a "vectorise" exercise its large speed case with the
reference's outcome on it (about 5 MB for exercise 05's 30000 x 20 scores). The bundle ships that
file (``public.pt``) instead of the check modules, and ``load`` turns it back into
:class:`~utils.checks.Exercise` objects whose checks behave exactly as in the repository on the public
cases: same verdicts, same hints. Introduced with the student bundle (issue 8).
"""

from __future__ import annotations

from pathlib import Path

import torch

from utils.checks import Exercise, Mistake, Outcome, SpeedCase, _call, cases_for, comparisons, run_cases

DATA = Path(__file__).with_name("public.pt")
_ANY_TENSOR = "<<any tensor>>"  # comparisons.ANY_TENSOR, stored as data


def _encode(outcome: Outcome) -> dict:
    value = _ANY_TENSOR if outcome.value is comparisons.ANY_TENSOR else outcome.value
    return {"value": value, "grads": outcome.grads, "error": outcome.error}


def _decode(stored: dict) -> Outcome:
    value = comparisons.ANY_TENSOR if isinstance(stored["value"], str) and stored["value"] == _ANY_TENSOR \
        else stored["value"]
    return Outcome(value=value, grads=stored["grads"], error=stored["error"])


def _compare_name(exercise: Exercise) -> str | None:
    if exercise.compare is None:
        return None
    for name in ("number_close", "tensor_or_sentinel"):
        if exercise.compare is getattr(comparisons, name):
            return name
    raise ValueError(f"{exercise.name}: its compare function must live in utils/checks/comparisons.py "
                     "so that the student bundle can use it")


def _export_speed(exercise: Exercise) -> dict | None:
    """A "vectorise" exercise's large case as the student's check makes it (seed 0), with the reference's
    outcome on it: the bundle's check then times an answer and checks it there, as the repository's does."""
    if exercise.speed is None:
        return None
    case = exercise.speed.make(torch.Generator().manual_seed(0))
    return {"case": case, "expected": _encode(_call(exercise.reference, case, exercise.grad_inputs)),
            "max_cpu_seconds": exercise.speed.max_cpu_seconds, "measured": exercise.speed.measured}


def _speed_from(stored: dict | None) -> SpeedCase | None:
    if stored is None:
        return None
    # The stored case itself: _call deep-copies a case before each call, so no answer can spoil it.
    return SpeedCase(lambda generator, case=stored["case"]: case, max_cpu_seconds=stored["max_cpu_seconds"],
                     measured=stored["measured"], expected=_decode(stored["expected"]))


def export(exercises: dict[str, Exercise]) -> dict:
    """Plain data (tensors, numbers, strings) for every exercise's public cases (and large speed case)."""
    data = {}
    for name, exercise in sorted(exercises.items()):
        cases = cases_for(exercise)
        expected = run_cases(exercise, exercise.reference, cases)
        data[name] = {
            "notebook": exercise.notebook, "function": exercise.function, "points": exercise.points,
            "description": exercise.description, "grad_inputs": list(exercise.grad_inputs),
            "max_seconds": exercise.max_seconds, "compare": _compare_name(exercise),
            "forbidden": list(exercise.forbidden),
            "cases": cases, "expected": [_encode(o) for o in expected], "speed": _export_speed(exercise),
            "mistakes": [
                {"name": m.name, "hint": m.hint,
                 "outcomes": None if m.mimic is None else [_encode(o) for o in run_cases(exercise, m.mimic, cases)]}
                for m in exercise.mistakes
            ],
        }
    return data


def exercises_from(data: dict) -> dict[str, Exercise]:
    """The bundle's exercises, rebuilt from exported data (nothing is registered)."""
    exercises = {}
    for name, item in data.items():
        public = {
            "cases": item["cases"],
            "expected": [_decode(o) for o in item["expected"]],
            "mistakes": {m["name"]: [_decode(o) for o in m["outcomes"]] for m in item["mistakes"] if m["outcomes"]},
        }
        exercises[name] = Exercise(
            name=name, notebook=item["notebook"], function=item["function"], points=item["points"],
            reference=None, make_cases=lambda generator, hidden, cases=item["cases"]: cases,
            mistakes=tuple(Mistake(m["name"], m["hint"]) for m in item["mistakes"]),
            grad_inputs=tuple(item["grad_inputs"]),
            compare=getattr(comparisons, item["compare"]) if item["compare"] else None,
            max_seconds=item["max_seconds"], description=item["description"], public=public,
            forbidden=tuple(item.get("forbidden", ())), speed=_speed_from(item.get("speed")),
        )
    return exercises


def save(exercises: dict[str, Exercise], path: Path) -> None:
    torch.save(export(exercises), path)


def load(path: Path) -> dict[str, Exercise]:
    return exercises_from(torch.load(path, weights_only=True))
