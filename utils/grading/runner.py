"""Grading one submission: run the student's notebook in a sandboxed child, judge the outcomes here.

The child receives the pristine setup cell, every code cell of the student's notebook but the check cells
(:func:`cells_to_run`), and the hidden cases (``torch.save``); it runs the cells in order, then calls each
exercise's function through :func:`utils.checks._call` and returns outcomes as plain data
(``result_<i>.pt``, read with ``torch.load(weights_only=True)``). The verdict is :func:`utils.checks.judge`
in this process, with the reference loaded from ``solutions/`` (trusted code, never given to the child).
Each run is watched: the child writes a progress line before each cell and each exercise; if a line does
not change within the per-cell timeout, or the notebook's timeout passes, its process group is killed; a
fresh child then goes on without the cell that hung (or charges the exercise that was running). The CPU
time of a "vectorise" exercise's speed case is read here, from ``/proc``, while the child stops itself
around that call. Introduced with the grader (issue 7); the notebook as run, the speed case and the
re-run after an outside kill with issue 13.
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
    status: str  # pass | fail | error | not implemented | timeout | missing | forbidden
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
def _outcome(item: object) -> checks.Outcome:
    """One outcome from the child's plain data; raises ValueError on anything unexpected."""
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
    return checks.Outcome(value=item["value"], grads=grads, error=error, seconds=seconds)


def _outcomes(data: object, n: int) -> list[checks.Outcome]:
    """Validate the child's plain data; raises ValueError on anything unexpected."""
    if not isinstance(data, list) or len(data) != n:
        raise ValueError("wrong number of outcomes")
    return [_outcome(item) for item in data]


def load_result(path: Path, n: int) -> tuple[str, object]:
    """("outcomes", (list, speed outcome or None)) | ("missing", None) | ("unreadable", why) | ("absent", None)."""
    if not os.path.lexists(path):
        return "absent", None
    data = read_untrusted(path, MAX_RESULT_BYTES)
    if data is None:
        return "unreadable", "not a regular file, or too large"
    try:
        result = torch.load(io.BytesIO(data), weights_only=True)
        if not isinstance(result, dict):
            raise ValueError("not a dict")
        if result.get("missing") is True:
            return "missing", None
        speed = result.get("speed")
        return "outcomes", (_outcomes(result.get("outcomes"), n), None if speed is None else _outcome(speed))
    except Exception as exc:  # a forged or truncated file: data, never a verdict
        return "unreadable", f"{type(exc).__name__}"


def load_cell_errors(path: Path) -> dict[int, str]:
    """The child's ``cells.pt``: {cell index: "ExceptionType: message"}; {} if absent or malformed."""
    data = read_untrusted(path, 1 << 20)
    if not data:
        return {}
    try:
        errors = torch.load(io.BytesIO(data), weights_only=True)
    except Exception:
        return {}
    if not isinstance(errors, dict):
        return {}
    return {k: v[:300] for k, v in errors.items() if isinstance(k, int) and isinstance(v, str)}


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def proc_stat(pid: int) -> tuple[str, float] | None:
    """(state letter, CPU seconds of the process and its waited-for children) from /proc/<pid>/stat.

    Read by the grader from outside the sandbox: nothing the child does to its own clocks changes it.
    Resolution: one clock tick (10 ms).
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            text = f.read().decode("ascii", errors="replace")
    except OSError:
        return None
    fields = text[text.rfind(")") + 2:].split()
    try:
        ticks = sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    except (ValueError, IndexError):
        return None
    return fields[0], ticks / _CLOCK_TICKS


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


# --------------------------------------------------------------------------- which cells run
@dataclass
class StudentCell:
    index: int  # position among the notebook's cells (0-based)
    number: int  # 1-based among the notebook's code cells, as the student counts them
    exercise: str | None  # the exercise:<name> tag, if any
    source: str

    def label(self) -> str:
        first = next((line.strip() for line in self.source.split("\n") if line.strip()), "")
        first = first if len(first) <= 60 else first[:57] + "..."
        what = f"the cell tagged exercise:{self.exercise}" if self.exercise else f"code cell {self.number}"
        return f"{what} (`{first}`)"


def cells_to_run(sub: submissions.Submission, spec: NotebookSpec) -> list[StudentCell]:
    """Every code cell of the student's notebook, in order, except check cells (tagged ``check:*``: the
    grader's hidden cases replace them) and a first cell identical to the pristine setup cell (the
    grader runs the pristine one first anyway). Empty cells are left out."""
    names = {e.name for e in spec.exercises}
    out, number = [], 0
    for index, cell in enumerate(sub.cells):
        if cell.kind != "code":
            continue
        number += 1
        if not cell.source.strip() or any(t.startswith("check:") for t in cell.tags):
            continue
        if not out and number == 1 and cell.source.strip() == spec.setup.strip():
            continue
        tags = [t.split(":", 1)[1] for t in cell.tags if t.startswith("exercise:")]
        exercise = next((t for t in tags if t in names), tags[0] if tags else None)
        out.append(StudentCell(index, number, exercise, cell.source))
    return out


def forbidden_names(exercise: checks.Exercise) -> list[str]:
    """The dotted names of the callables an exercise forbids (``Exercise.forbidden``, if declared), for the
    sandbox, which cannot import the exercise modules."""
    names = []
    for item in getattr(exercise, "forbidden", ()) or ():
        if isinstance(item, str):
            names.append(item)
        else:
            module, qualname = getattr(item, "__module__", None), getattr(item, "__qualname__", None)
            if module and qualname:
                names.append(f"{module}.{qualname}")
    return names


def _forbidden_call(outcomes: list[checks.Outcome]) -> str | None:
    for o in outcomes:
        if o.error and o.error.startswith("ForbiddenCall"):
            return o.error.split(":", 1)[1].strip()[:300] if ":" in o.error else "a forbidden call"
    return None


# --------------------------------------------------------------------------- one submission
def grade(zygote_factory: Callable[[], Zygote], zygote: Zygote, sub: submissions.Submission,
          spec: NotebookSpec, settings: Settings, slot: int = 0) -> tuple[SubmissionResult, Zygote]:
    """Grade one readable submission; returns the result and the (possibly restarted) zygote.

    Each attempt is a fresh sandboxed child (``slot``: which parallel slot, hence which uid) that runs
    the pristine setup cell, then every code cell of the student's notebook in order (:func:`cells_to_run`),
    then the hidden cases. A cell that raises is reported and the next one runs. A cell that hangs past
    the per-cell timeout, or crashes the process, is skipped in the next attempt (and reported; if it is
    an exercise's cell, that exercise is charged when its function is then missing). An attempt killed
    by a signal the grader did not send (another process, the kernel) is re-run once, uncharged.
    """
    result = SubmissionResult(sub, spec, notes=list(sub.notes))
    start = time.perf_counter()
    flags = {}
    for exercise in spec.exercises:
        _, notes = submissions.exercise_cells(sub.cells, exercise.name, exercise.function)
        result.notes.extend(n for n in notes if "all run in order" in n)
        flags[exercise.name] = ["modified"] if submissions.check_modified(sub.cells, spec.cells, exercise.name) else []
    cells = cells_to_run(sub, spec)
    by_index = {c.index: c for c in cells}
    cases = {e.name: checks.cases_for(e, hidden=True, seed=settings.seed) for e in spec.exercises}
    speed_cases = {e.name: e.speed.make(torch.Generator().manual_seed(settings.seed))
                   for e in spec.exercises if getattr(e, "speed", None) is not None}
    todo = list(spec.exercises)
    outcome_of: dict[str, ExerciseResult] = {}
    skipped: dict[int, str] = {}  # cell index -> why it was skipped
    cell_errors: dict[int, str] = {}
    retried: set[str] = set()
    deadline = time.monotonic() + settings.notebook_timeout
    worker_seconds = 0.0
    while todo:
        if time.monotonic() >= deadline:
            for e in todo:
                outcome_of[e.name] = _timeout(e, settings.notebook_timeout, notebook=True)
            break
        attempt = _Attempt(sub, spec.setup, todo, cases, speed_cases, [c for c in cells if c.index not in skipped],
                           settings, slot)
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
        for index, text in attempt.cell_errors.items():
            cell_errors.setdefault(index, text)
        progressed = False
        for e in list(todo):
            kind, payload = attempt.results.get(e.name, ("absent", None))
            if kind == "absent":
                continue
            progressed = True
            todo.remove(e)
            if kind == "missing":
                outcome_of[e.name] = _missing(e, cells, cell_errors, skipped)
            elif kind == "unreadable":
                outcome_of[e.name] = ExerciseResult(e.name, 0.0, e.points, "error",
                                                    f"error: unreadable results ({payload}).")
            else:
                outcomes, speed = payload
                t0 = time.perf_counter()
                outcome_of[e.name] = _verdict(e, spec, cases[e.name], outcomes, speed_cases.get(e.name), speed,
                                              attempt.speed_cpu.get(e.name))
                result.timing["judge"] = result.timing.get("judge", 0.0) + time.perf_counter() - t0
        if not todo:
            break
        kind, why = ending
        culprit_name, phase = attempt.culprit()
        if attempt.signalled and f"{phase} {culprit_name}" not in retried:
            retried.add(f"{phase} {culprit_name}")  # killed from outside the grader: once more, uncharged
            continue
        if phase == "cell" and culprit_name is not None and culprit_name.isdigit() \
                and int(culprit_name) in by_index:
            # The cell hung or crashed the process: skip it from now on, report it, go on.
            skipped[int(culprit_name)] = "timeout" if kind in ("timeout", "deadline") else why
            continue
        if culprit_name is not None and all(e.name != culprit_name for e in todo) and progressed:
            continue  # its result was written (or forged) before the process died
        culprit = next((e for e in todo if e.name == culprit_name), todo[0])
        todo.remove(culprit)
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
    for cell in cells:
        if cell.index in skipped:
            why = skipped[cell.index]
            text = (f"did not finish within the time limit ({settings.exercise_timeout:g} s per cell)"
                    if why == "timeout" else f"stopped the process ({why})")
            result.notes.append(f"{cell.label()} {text}: it was skipped, the other cells ran")
        elif cell.index in cell_errors:
            result.notes.append(f"{cell.label()} raised {cell_errors[cell.index]}")
    result.timing["worker"] = worker_seconds
    result.timing["total"] = time.perf_counter() - start
    return result, zygote


def _missing(e: checks.Exercise, cells: list[StudentCell], cell_errors: dict[int, str],
             skipped: dict[int, str]) -> ExerciseResult:
    """The function is not defined after running the notebook: say why, from its own cells."""
    own = [c for c in cells if c.exercise == e.name]
    for c in own:
        if skipped.get(c.index) == "timeout":
            return ExerciseResult(e.name, 0.0, e.points, "timeout",
                                  f"{c.label()} did not finish within the time limit, so `{e.function}` was "
                                  "never defined: an infinite loop or a long sleep?")
        if c.index in skipped:
            return ExerciseResult(e.name, 0.0, e.points, "error",
                                  f"error: {c.label()} {skipped[c.index]}, so `{e.function}` was never defined.")
        if c.index in cell_errors:
            return ExerciseResult(e.name, 0.0, e.points, "error",
                                  f"no function `{e.function}` after running your notebook "
                                  f"(the cell raised {redact(cell_errors[c.index])}).")
    return ExerciseResult(e.name, 0.0, e.points, "missing",
                          f"no function `{e.function}` after running your notebook: write it in the cell "
                          f"tagged exercise:{e.name}.")


def _verdict(e: checks.Exercise, spec: NotebookSpec, cases: list, outcomes: list[checks.Outcome],
             speed_case, speed: checks.Outcome | None, speed_cpu: float | None) -> ExerciseResult:
    """Judge one exercise here (trusted): the hidden cases, a forbidden call, then the speed case."""
    reference = spec.references[e.name]
    if speed_case is not None:  # the child's own timer is not evidence: the speed case decides
        outcomes = [checks.Outcome(o.value, o.grads, o.error, 0.0) for o in outcomes]
    report = checks.judge(e, cases, outcomes, reference=reference)
    forbidden = _forbidden_call(outcomes)
    if forbidden is not None:
        return ExerciseResult(e.name, 0.0, e.points, "forbidden",
                              f"0 points: your function calls something this exercise asks you to write "
                              f"yourself — {forbidden}")
    if speed_case is None or report.status != "pass":
        return ExerciseResult(e.name, report.score, e.points, report.status, feedback_for(report, outcomes))
    budget = e.speed.max_cpu_seconds
    if speed is None or speed_cpu is None:
        return ExerciseResult(e.name, 0.0, e.points, "fail",
                              "correct on the hidden cases, but the large case could not be timed "
                              "(did your code stop or replace the grader's process?).")
    expected = checks.run_cases(e, reference, [speed_case])[0]
    if not checks._agrees(e, speed, expected):
        return ExerciseResult(e.name, 0.0, e.points, "fail",
                              "correct on the small hidden cases but wrong on the large one "
                              f"({redact(speed.error) if speed.error else 'the value differs'}).")
    if speed_cpu > budget:
        return ExerciseResult(e.name, 0.0, e.points, "fail",
                              f"correct, but too slow: the large case took {speed_cpu:.2f} s of CPU time "
                              f"(budget {budget:g} s, measured by the grader outside your process) — "
                              "vectorise it: tensor operations over the whole batch instead of a Python loop.")
    return ExerciseResult(e.name, report.score, e.points, "pass",
                          f"{feedback_for(report, outcomes)} The large case took {speed_cpu:.2f} s of CPU time "
                          f"(budget {budget:g} s).")


def _timeout(exercise: checks.Exercise, seconds: float, notebook: bool = False) -> ExerciseResult:
    what = "the notebook's time limit" if notebook else "the time limit"
    return ExerciseResult(exercise.name, 0.0, exercise.points, "timeout",
                          f"did not finish within {what} ({seconds:g} s): an infinite loop, a long sleep, "
                          "or a very slow implementation?")


class _Attempt:
    """One child process grading the exercises still to do."""

    def __init__(self, sub, setup: str, todo, cases, speed_cases, cells: list[StudentCell], settings: Settings,
                 slot: int):
        self.settings, self.todo, self.cases, self.slot = settings, todo, cases, slot
        base = settings.scratch or Path(tempfile.gettempdir())
        self.workdir = Path(tempfile.mkdtemp(prefix="grade-", dir=base))
        self.results: dict[str, tuple[str, object]] = {}
        self.cell_errors: dict[int, str] = {}
        self.ending: tuple[str, str] | None = None
        self.signalled = False  # killed by a signal the grader did not send
        self.last_marker = ""
        self.speed_start: dict[str, float] = {}
        self.speed_cpu: dict[str, float] = {}
        self.stops: dict[str, list[str]] = {}  # exercise -> the markers seen at each self-stop
        job = {"setup": setup,
               "cells": [{"index": c.index, "exercise": c.exercise, "source": c.source} for c in cells],
               "exercises": [{"name": e.name, "function": e.function, "grad_inputs": list(e.grad_inputs),
                              "forbidden": forbidden_names(e), "speed": e.name in speed_cases}
                             for e in todo]}
        (self.workdir / "job.json").write_text(json.dumps(job))
        for i, e in enumerate(todo):
            torch.save(cases[e.name], self.workdir / f"cases_{i}.pt")
            if e.name in speed_cases:
                torch.save(speed_cases[e.name], self.workdir / f"speed_{i}.pt")
        shutil.copyfile(sub.path, self.workdir / sub.path.name)
        uid, gid = settings.isolation.slot_ids(slot)
        if uid is not None:
            for p in [self.workdir, *self.workdir.iterdir()]:
                os.chown(p, uid, gid)
        os.chmod(self.workdir, 0o700)

    def marker(self) -> str:
        data = read_untrusted(self.workdir / "progress", 4096, tail=True)
        if not data:
            return ""
        lines = data.decode("utf-8", errors="replace").strip().split("\n")
        return lines[-1] if lines else ""

    def culprit(self) -> tuple[str | None, str]:
        """(what, phase) from the last progress line: ("3", "cell"), ("hinge_loss", "run"), (None, "setup")."""
        parts = self.last_marker.split(" ", 1)
        if parts[0] in ("cell", "run", "speed", "spent", "done") and len(parts) == 2:
            return parts[1], parts[0]
        return None, "setup"

    def _stopped(self, pid: int) -> None:
        """The child stopped itself around its speed case: read its CPU time from outside, resume it."""
        stat = proc_stat(pid)
        if stat is None or stat[0] not in "Tt":
            return
        marker = self.marker()
        kind, _, name = marker.partition(" ")
        seen = self.stops.setdefault(name, [])
        seen.append(kind)
        if seen == ["speed"]:
            self.speed_start[name] = stat[1]
        elif seen == ["speed", "spent"]:
            self.speed_cpu[name] = stat[1] - self.speed_start[name]
        else:  # a stop the runner did not make (forged progress lines): the case is unmeasured
            self.speed_cpu.pop(name, None)
        try:
            os.kill(pid, signal.SIGCONT)
        except ProcessLookupError:
            pass

    def run(self, zygote: Zygote, deadline: float) -> tuple[str, str]:
        s, iso, lim = self.settings, self.settings.isolation, self.settings.limits
        uid, gid = iso.slot_ids(self.slot)
        request = {"workdir": str(self.workdir), "uid": uid, "gid": gid, "reap": bool(iso.uids),
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
                if killed is None and marker.startswith(("speed ", "spent ")):
                    self._stopped(pid)
                if killed is None and (now >= deadline or now - phase_start > s.exercise_timeout):
                    killed = "deadline" if now >= deadline else "timeout"
                    kill_group(pid)
        except ZygoteDied:
            died = True
        finally:
            kill_group(pid)  # anything the child left behind in its session
        self.last_marker = self.marker() or self.last_marker
        self.cell_errors = load_cell_errors(self.workdir / "cells.pt")
        for i, e in enumerate(self.todo):
            self.results[e.name] = load_result(self.workdir / f"result_{i}.pt", len(self.cases[e.name]))
        if died:
            self.ending = ("crash", "the sandbox process died")
            raise ZygoteDied(self.ending[1])
        if killed:
            self.ending = (killed, "time limit")
        elif message.get("signal"):
            name = _signal_name(message["signal"])
            self.signalled = True
            hint = {"SIGSEGV": "a segmentation fault", "SIGXFSZ": "a file above the size limit",
                    "SIGXCPU": "the CPU time limit", "SIGKILL": "killed (out of memory?)"}.get(name, name)
            self.ending = ("crash", f"the process crashed ({name}: {hint})")
        else:
            self.ending = ("crash", f"the process exited early (exit code {message.get('code')})")
        return self.ending

    def cleanup(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)

