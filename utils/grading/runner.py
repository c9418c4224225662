"""Grading one submission: run the student's cells in a sandboxed child, judge the outcomes here.

The child receives the pristine setup cell, the student's exercise cells, and the hidden cases
(``torch.save``); it returns outcomes as plain data (``result_<i>.pt``, read with
``torch.load(weights_only=True)``). The verdict is :func:`utils.checks.judge` in this process, with the
reference loaded from ``solutions/`` (trusted code, never given to the child). Each exercise's run is
watched: the child writes a progress line before each cell and each exercise; if a line does not
change within the per-exercise timeout, or the notebook's timeout passes, its process group is
killed, the exercise in progress is "timeout", and a fresh child grades the remaining exercises.
Introduced with the grader (issue 7).
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch

from utils import checks
from utils.grading import submissions
from utils.grading.sandbox import Isolation, Limits, Zygote, ZygoteDied, kill_group, read_untrusted

MAX_RESULT_BYTES = 64 * 1024 * 1024


@dataclass
class Settings:
    seed: int = 20240607
    exercise_timeout: float = 20.0
    notebook_timeout: float = 120.0
    limits: Limits = field(default_factory=Limits)
    isolation: Isolation = field(default_factory=Isolation)
    scratch: Path | None = None


@dataclass
class NotebookSpec:
    """The pristine exercise notebook and the trusted references for its exercises."""

    slug: str
    setup: str
    cells: list[submissions.Cell]
    exercises: list[checks.Exercise]
    references: dict[str, Callable]

    @property
    def points(self) -> int:
        return sum(e.points for e in self.exercises)


def load_spec(slug: str, exercises_dir: Path, solutions_dir: Path) -> NotebookSpec:
    """Read ``exercises/<slug>.ipynb`` and load each reference from ``solutions/<slug>.ipynb``.

    ``slug`` may be ``ex02_hinge_loss`` or the name used before the rename, ``02_hinge_loss``."""
    slug = checks.canonical_notebook(slug)
    pristine = submissions.read_cells((exercises_dir / f"{slug}.ipynb").read_bytes())
    solution = submissions.read_cells((solutions_dir / f"{slug}.ipynb").read_bytes())
    code = [c for c in pristine if c.kind == "code" and c.source.strip()]
    setup = code[0].source
    registered = [e for e in checks.registry().values() if e.notebook == slug]
    position = {}
    for i, cell in enumerate(pristine):
        for tag in cell.tags:
            if tag.startswith("exercise:"):
                position.setdefault(tag.split(":", 1)[1], i)
    registered.sort(key=lambda e: (position.get(e.name, 10**6), e.name))
    references = {}
    for exercise in registered:
        cells = submissions.tagged(solution, f"exercise:{exercise.name}")
        if len(cells) != 1:
            raise RuntimeError(f"solutions/{slug}.ipynb: expected one cell tagged exercise:{exercise.name}")
        namespace: dict = {"__name__": f"solution_{slug}"}
        exec(compile(setup, f"{slug}:setup", "exec"), namespace)
        exec(compile(cells[0].source, f"{slug}:{exercise.name}", "exec"), namespace)
        references[exercise.name] = namespace[exercise.function]
    return NotebookSpec(slug, setup, pristine, registered, references)


@dataclass
class ExerciseResult:
    name: str
    points: float
    max_points: int
    status: str  # pass | fail | error | not implemented | timeout | missing
    feedback: str
    flags: list[str] = field(default_factory=list)  # "modified", ...

    @property
    def label(self) -> str:
        return "+".join([self.status.replace(" ", "-")] + self.flags)


@dataclass
class SubmissionResult:
    sub: submissions.Submission
    spec: NotebookSpec | None
    exercises: list[ExerciseResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    timing: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(e.points for e in self.exercises)

    @property
    def max_points(self) -> int:
        return self.spec.points if self.spec else 0


# --------------------------------------------------------------------------- feedback text
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def redact(text: str) -> str:
    """An error message without its numbers (they may describe a hidden case)."""
    return _NUMBER.sub("#", text)[:300]


def feedback_for(report: checks.Report, outcomes: list[checks.Outcome]) -> str:
    """The student's feedback from a Report: the hint, never the hidden inputs or the reference."""
    n, failed = len(report.passed), report.passed.count(False)
    if report.status == "pass":
        return f"all {n} hidden cases pass."
    if report.status == "not implemented":
        return "not implemented (the function still raises NotImplementedError)."
    likely = re.search(r"Likely mistake — (.*)", report.message, re.DOTALL)
    if likely:
        return f"{failed} of {n} hidden cases fail. Likely mistake — {likely.group(1).strip()}"
    if "correct, but a case took" in report.message:
        return "correct, but too slow on a hidden case: vectorise it (tensor operations instead of Python loops)."
    errors = [o.error for o in outcomes if o.error]
    if errors:
        return f"{failed} of {n} hidden cases fail; your function raised {redact(errors[0])}"
    detail = "the gradient differs" if "its gradient differs" in report.message else "the value differs"
    return f"{failed} of {n} hidden cases fail: {detail} from the expected one (a shape, a sign, a reduction?)."


# --------------------------------------------------------------------------- results from the child
def _outcomes(data: object, n: int) -> list[checks.Outcome]:
    """Validate the child's plain data; raises ValueError on anything unexpected."""
    if not isinstance(data, list) or len(data) != n:
        raise ValueError("wrong number of outcomes")
    outcomes = []
    for item in data:
        if not isinstance(item, dict) or set(item) != {"value", "grads", "error", "seconds"}:
            raise ValueError("malformed outcome")
        grads, error, seconds = item["grads"], item["error"], item["seconds"]
        if not isinstance(grads, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                                  for k, v in grads.items()):
            raise ValueError("malformed gradients")
        if error is not None and not isinstance(error, str):
            raise ValueError("malformed error")
        if not isinstance(seconds, float):
            raise ValueError("malformed timing")
        outcomes.append(checks.Outcome(value=item["value"], grads=grads, error=error, seconds=seconds))
    return outcomes


def load_result(path: Path, n: int) -> tuple[str, object]:
    """("outcomes", list) | ("missing", cell_error) | ("unreadable", why) | ("absent", None)."""
    if not os.path.lexists(path):
        return "absent", None
    data = read_untrusted(path, MAX_RESULT_BYTES)
    if data is None:
        return "unreadable", "not a regular file, or too large"
    try:
        result = torch.load(io.BytesIO(data), weights_only=True)
        if not isinstance(result, dict):
            raise ValueError("not a dict")
        cell_error = result.get("cell_error")
        cell_error = cell_error if isinstance(cell_error, str) else None
        if result.get("missing") is True:
            return "missing", cell_error
        return "outcomes", (_outcomes(result.get("outcomes"), n), cell_error)
    except Exception as exc:  # a forged or truncated file: data, never a verdict
        return "unreadable", f"{type(exc).__name__}"


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


# --------------------------------------------------------------------------- one submission
def grade(zygote_factory: Callable[[], Zygote], zygote: Zygote, sub: submissions.Submission,
          spec: NotebookSpec, settings: Settings) -> tuple[SubmissionResult, Zygote]:
    """Grade one readable submission; returns the result and the (possibly restarted) zygote."""
    result = SubmissionResult(sub, spec, notes=list(sub.notes))
    start = time.perf_counter()
    student_setup = submissions.setup_cell(sub.cells)
    setup_source = student_setup.source if student_setup and student_setup.source.strip() != spec.setup.strip() \
        else None
    cells, flags, static = [], {}, {}
    for exercise in spec.exercises:
        found, notes = submissions.exercise_cells(sub.cells, exercise.name, exercise.function)
        result.notes.extend(notes)
        flags[exercise.name] = ["modified"] if submissions.check_modified(sub.cells, spec.cells, exercise.name) else []
        if not found:
            static[exercise.name] = ExerciseResult(
                exercise.name, 0.0, exercise.points, "missing",
                f"no function `{exercise.function}` found: write it in the cell tagged exercise:{exercise.name}.")
        cells.extend((exercise.name, c) for c in found)
    order = {id(c): i for i, c in enumerate(sub.cells)}
    cells.sort(key=lambda pair: order[id(pair[1])])  # notebook order, as "Run All" would
    cases = {e.name: checks.cases_for(e, hidden=True, seed=settings.seed) for e in spec.exercises}
    todo = [e for e in spec.exercises if e.name not in static]
    outcome_of: dict[str, ExerciseResult] = dict(static)
    skipped_cells: set[str] = set()
    deadline = time.monotonic() + settings.notebook_timeout
    worker_seconds = 0.0
    while todo:
        if time.monotonic() >= deadline:
            for e in todo:
                outcome_of[e.name] = _timeout(e, settings.notebook_timeout, notebook=True)
            break
        attempt = _Attempt(sub, spec, todo, cases, setup_source,
                           [(n, c) for n, c in cells if n not in skipped_cells], settings)
        try:
            t0 = time.perf_counter()
            ending = attempt.run(zygote, deadline)
            worker_seconds += time.perf_counter() - t0
        except ZygoteDied:
            ending = attempt.ending or ("crash", "the sandbox process died")
            zygote.close()
            zygote = zygote_factory()
        finally:
            attempt.cleanup()
        progressed = False
        for e in list(todo):
            kind, payload = attempt.results.get(e.name, ("absent", None))
            if kind == "absent":
                continue
            progressed = True
            todo.remove(e)
            if kind == "missing":
                why = f" (the cell raised {redact(payload)})" if payload else ""
                outcome_of[e.name] = ExerciseResult(
                    e.name, 0.0, e.points, "missing" if not payload else "error",
                    f"no function `{e.function}` after running your cell{why}.")
            elif kind == "unreadable":
                outcome_of[e.name] = ExerciseResult(e.name, 0.0, e.points, "error",
                                                    f"error: unreadable results ({payload}).")
            else:
                outcomes, _ = payload
                t0 = time.perf_counter()
                report = checks.judge(e, cases[e.name], outcomes, reference=spec.references[e.name])
                result.timing["judge"] = result.timing.get("judge", 0.0) + time.perf_counter() - t0
                outcome_of[e.name] = ExerciseResult(e.name, report.score, e.points, report.status,
                                                    feedback_for(report, outcomes))
        if not todo:
            break
        # The child stopped before finishing: charge the exercise it was on (per its progress line).
        kind, why = ending
        culprit_name, phase = attempt.culprit()
        if phase == "setup" and setup_source is not None and not progressed:
            setup_source = None  # the student's own import cell hung or crashed: retry without it
            result.notes.append(f"your first code cell was skipped ({why})")
            continue
        if culprit_name is not None and all(e.name != culprit_name for e in todo) and progressed:
            if phase == "cell":  # its result was written (or forged) before the process died
                skipped_cells.add(culprit_name)
            continue
        culprit = next((e for e in todo if e.name == culprit_name), todo[0])
        todo.remove(culprit)
        if phase == "cell":
            skipped_cells.add(culprit.name)
        if kind == "timeout":
            outcome_of[culprit.name] = _timeout(culprit, settings.exercise_timeout)
        elif kind == "deadline":
            outcome_of[culprit.name] = _timeout(culprit, settings.notebook_timeout, notebook=True)
        else:
            outcome_of[culprit.name] = ExerciseResult(culprit.name, 0.0, culprit.points, "error",
                                                      f"error: {why}.")
    for exercise in spec.exercises:
        entry = outcome_of[exercise.name]
        entry.flags = flags[exercise.name]
        result.exercises.append(entry)
    result.timing["worker"] = worker_seconds
    result.timing["total"] = time.perf_counter() - start
    return result, zygote


def _timeout(exercise: checks.Exercise, seconds: float, notebook: bool = False) -> ExerciseResult:
    what = "the notebook's time limit" if notebook else "the time limit"
    return ExerciseResult(exercise.name, 0.0, exercise.points, "timeout",
                          f"did not finish within {what} ({seconds:g} s): an infinite loop, a long sleep, "
                          "or a very slow implementation?")


class _Attempt:
    """One child process grading the exercises still to do."""

    def __init__(self, sub, spec, todo, cases, setup_source, cells, settings: Settings):
        self.settings, self.todo, self.cases = settings, todo, cases
        base = settings.scratch or Path(tempfile.gettempdir())
        self.workdir = Path(tempfile.mkdtemp(prefix="grade-", dir=base))
        self.results: dict[str, tuple[str, object]] = {}
        self.ending: tuple[str, str] | None = None
        self.last_marker = ""
        job = {"setup": spec.setup, "student_setup": setup_source,
               "cells": [{"exercise": name, "source": cell.source} for name, cell in cells],
               "exercises": [{"name": e.name, "function": e.function, "grad_inputs": list(e.grad_inputs)}
                             for e in todo]}
        (self.workdir / "job.json").write_text(json.dumps(job))
        for i, e in enumerate(todo):
            torch.save(cases[e.name], self.workdir / f"cases_{i}.pt")
        shutil.copyfile(sub.path, self.workdir / sub.path.name)
        iso = settings.isolation
        if iso.uid is not None:
            for p in [self.workdir, *self.workdir.iterdir()]:
                os.chown(p, iso.uid, iso.gid)
        os.chmod(self.workdir, 0o700)

    def marker(self) -> str:
        data = read_untrusted(self.workdir / "progress", 4096, tail=True)
        if not data:
            return ""
        lines = data.decode("utf-8", errors="replace").strip().split("\n")
        return lines[-1] if lines else ""

    def culprit(self) -> tuple[str | None, str]:
        parts = self.last_marker.split(" ", 1)
        if parts[0] in ("cell", "run") and len(parts) == 2:
            return parts[1], parts[0]
        return None, "setup"

    def run(self, zygote: Zygote, deadline: float) -> tuple[str, str]:
        s, iso, lim = self.settings, self.settings.isolation, self.settings.limits
        request = {"workdir": str(self.workdir), "uid": iso.uid, "gid": iso.gid,
                   "hide": iso.hide if iso.namespaces else None, "private_tmp": iso.private_tmp,
                   "mem_bytes": lim.memory_mb << 20, "fsize_bytes": lim.file_mb << 20,
                   "cpu_seconds": int(min(lim.cpu_seconds, s.notebook_timeout + 5)), "nproc": lim.nproc}
        pid = zygote.start(request)
        phase_start, killed, died, message = time.monotonic(), None, False, {}
        try:
            while True:
                message = zygote.poll(0.02)
                if message is not None and message.get("event") == "exited":
                    break
                marker = self.marker()
                now = time.monotonic()
                if marker != self.last_marker:
                    self.last_marker, phase_start = marker, now
                if killed is None and (now >= deadline or now - phase_start > s.exercise_timeout):
                    killed = "deadline" if now >= deadline else "timeout"
                    kill_group(pid)
        except ZygoteDied:
            died = True
        finally:
            kill_group(pid)  # anything the child left behind in its session
        self.last_marker = self.marker() or self.last_marker
        for i, e in enumerate(self.todo):
            self.results[e.name] = load_result(self.workdir / f"result_{i}.pt", len(self.cases[e.name]))
        if died:
            self.ending = ("crash", "the sandbox process died")
            raise ZygoteDied(self.ending[1])
        if killed:
            self.ending = (killed, "time limit")
        elif message.get("signal"):
            name = _signal_name(message["signal"])
            hint = {"SIGSEGV": "a segmentation fault", "SIGXFSZ": "a file above the size limit",
                    "SIGXCPU": "the CPU time limit", "SIGKILL": "killed (out of memory?)"}.get(name, name)
            self.ending = ("crash", f"the process crashed ({name}: {hint})")
        else:
            self.ending = ("crash", f"the process exited early (exit code {message.get('code')})")
        return self.ending

    def cleanup(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)
