"""The grader: submitted exercise notebooks in, a gradebook and personal feedback out.

Usage (from the repository root)::

    python -m utils.grade SUBMISSIONS... --out grades.csv [--feedback feedback/] [--jobs 2]
           [--seed S] [--exercise-timeout 20] [--notebook-timeout 120] [--shard K/N]
    python -m utils.grade merge shard1.csv shard2.csv ... --out grades.csv
    python -m utils.grade bench --n 40 --jobs 2      # throughput on honest submissions

Design (issue 7) — the grader runs code it cannot trust, so nothing the student's process says is a
verdict:

* Names: ``ID__NN_slug.ipynb`` (``utils/grading/submissions.py``). Every input file gives exactly one
  row: "invalid name", "unknown notebook", "unreadable: ..." (0 bytes, bad JSON, a .py, too large)
  rows have 0 points; nothing is ever dropped, and a bug in the grader itself becomes a
  "grader error" row, not a crash.
* What runs (issue 13): the notebook the student ran. The pristine setup cell of
  ``exercises/exNN_slug.ipynb`` first, then every code cell of the submission in notebook order —
  the first cell, the cells tagged ``exercise:<name>``, and any helper, import or test cell the student
  added — each under the per-cell timeout (``--exercise-timeout``). A cell that raises is named in the
  feedback and the next one runs; a cell that hangs or kills the process is skipped in a fresh child
  and named too. Check cells (``check:<name>``) are never run, the student's edits to them are only
  compared with the pristine ones (edited or deleted -> flag "modified", still graded), and ``check``
  does nothing at grading. IPython magics are skipped. The student's functions are called only
  through :func:`utils.checks._call`, with the exercise's forbidden callables (dotted names in the job
  file: the child cannot import the exercise modules); a forbidden call scores 0, with feedback naming it.
* Where: one fresh process per submission, forked from a warm "zygote" that imported torch once
  (a cold start costs seconds here; ``utils/grading/zygote.py``). The child gets its own session,
  /dev/null for stdin/stdout/stderr, no inherited descriptors, RLIMIT_AS (memory), RLIMIT_FSIZE,
  RLIMIT_NPROC, RLIMIT_CPU, RLIMIT_CORE=0, a fresh temporary working directory holding a copy of the
  notebook; as root it also gets a private mount namespace (solutions/, the check references in
  utils/checks/, the submissions' folders become empty read-only mounts; /tmp, /var/tmp and
  /dev/shm private) and then runs as an unused uid reserved for its parallel slot (one uid per slot,
  locked for the run), so it can write only in its own working directory and cannot signal, trace or
  read a child of another slot; when a child ends, every process left with its uid is killed before
  the next child of that slot starts.
* How it is graded: the child calls the student's function on hidden cases
  (``cases_for(exercise, hidden=True, seed=--seed)``) sent as ``torch.save`` data, and writes the
  outcomes (tensors, numbers, strings only) with ``torch.save`` per exercise. The grader reads them
  with ``torch.load(weights_only=True)`` (no pickle code runs; a symlink, FIFO or oversized file is
  refused), validates their structure, and calls :func:`utils.checks.judge` in its own process
  against the reference loaded from ``solutions/NN_slug.ipynb`` (pristine setup cell + solution cell,
  executed here — trusted code). A forged result file can only contain values; values that match
  the reference are a correct answer.
* Timeouts: the child writes a progress line before each cell and each exercise. No change within
  ``--exercise-timeout`` s, or ``--notebook-timeout`` s in all, and its process group is killed; the
  exercise in progress is "timeout", a crash (segfault, ``os._exit``, out of memory) is "error", and
  a fresh child grades the remaining exercises (skipping a cell that hung). A child killed by a signal
  the grader did not send (a segfault, the kernel, another process) is re-run once in a fresh child
  before anything is charged. Progress lines only steer the timers; the notebook timeout is a hard
  bound no child can extend.
* "Vectorise" exercises (``Exercise.speed``): one large case, on which a loop over the batch is
  hundreds of times slower than the reference, is called once; the child stops itself (SIGSTOP) before
  and after the call and the grader reads its CPU time from ``/proc/<pid>/stat`` in between, so no
  timer the student's code can patch is involved. Over the budget: 0 points, "vectorise it".
* Feedback never shows hidden inputs or reference code: the catalogued mistake's hint, or a
  description without the case; numbers in the student's own error messages are masked.

Known limits: a student who reads the grader's source could forge its progress protocol (write
progress lines, stop their own process at the right moment, write the result file and exit) to
shorten the measured CPU time of the speed case, or compute in a separate process whose CPU time is
not counted; a repeated or unmatched stop makes the case unmeasured (0 points), but this is a rule
enforced at run time, not a proof.
Forbidden callables are enforced at run time; copied source code is not detected. Without root,
there is no namespace and no uid drop (a child could signal the grader itself): run the grader in a
container (README).
"""

from __future__ import annotations

import argparse
import os
import queue
import shutil
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

from utils import checks
from utils.grading import exports, gradebook, layouts, submissions, written
from utils.grading.runner import NotebookSpec, Settings, SubmissionResult, grade, load_spec
from utils.grading.sandbox import Isolation, Limits, Zygote

ROOT = Path(__file__).resolve().parent.parent


def shard_of(subs: list[submissions.Submission], shard: tuple[int, int] | None) -> list[submissions.Submission]:
    """Shard K of N: students (not files) dealt round-robin in sorted order, so one student's feedback
    file is written by one shard only, and every machine computes the same split from the same inputs."""
    if shard is None:
        return subs
    k, n = shard
    ids = sorted({s.id for s in subs})
    mine = {student for i, student in enumerate(ids) if i % n == k - 1}
    return [s for s in subs if s.id in mine]


def _hide_list(paths: list[Path], solutions_dir: Path, extra: list[Path]) -> list[Path]:
    """Folders the child must not see: solutions, check references, the submissions' own folders
    (other students' notebooks) — unless a folder holds what the child needs (Python, the repository)."""
    needed = [Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), ROOT, Path("/")]
    hide = [solutions_dir.resolve(), (ROOT / "utils" / "checks").resolve()] + [p.resolve() for p in extra]
    for p in paths:
        folder = p.resolve() if p.is_dir() else p.resolve().parent
        if not any(folder == n or folder in n.parents for n in needed):
            hide.append(folder)
    return list(dict.fromkeys(hide))


def run(paths: list[Path], *, out: Path, feedback: Path | None = None, jobs: int = 1,
        settings: Settings | None = None, shard: tuple[int, int] | None = None,
        exercises_dir: Path = ROOT / "exercises", solutions_dir: Path = ROOT / "solutions",
        progress: bool = True, quiet: bool = False, layout: str = "auto", written_dir: Path | None = None,
        anonymise: bool = False, exports_wanted: dict[str, Path] | None = None, export_options: dict | None = None,
        ) -> tuple[list[dict[str, str]], list[SubmissionResult]]:
    """Grade every submission under ``paths`` (files, folders, zip archives, in ``layout``); write ``out``
    (and ``feedback``); return rows and results."""
    settings = settings or Settings()
    exercises = checks.registry()
    known = sorted({e.notebook for e in exercises.values()
                    if (exercises_dir / f"{e.notebook}.ipynb").exists()})
    scratch = Path(tempfile.mkdtemp(prefix="grade-archives-"))
    try:
        return _run(paths, known, exercises, scratch, out=out, feedback=feedback, jobs=jobs, settings=settings,
                    shard=shard, exercises_dir=exercises_dir, solutions_dir=solutions_dir, progress=progress,
                    quiet=quiet, layout=layout, written_dir=written_dir, anonymise=anonymise,
                    exports_wanted=exports_wanted, export_options=export_options)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _run(paths, known, exercises, scratch, *, out, feedback, jobs, settings, shard, exercises_dir, solutions_dir,
         progress, quiet, layout, written_dir, anonymise, exports_wanted, export_options):
    files = discover_and_shard(paths, known, shard, layout, scratch)
    specs: dict[str, NotebookSpec | Exception] = {}
    for sub in files:
        if sub.notebook in known and sub.notebook not in specs:
            try:
                specs[sub.notebook] = load_spec(sub.notebook, exercises_dir, solutions_dir)
            except Exception as exc:  # the course's own files are broken: every row says so
                specs[sub.notebook] = exc
    results: list[SubmissionResult] = []
    todo: list[submissions.Submission] = []
    for sub in files:
        spec = specs.get(sub.notebook) if sub.notebook else None
        if isinstance(spec, Exception):
            sub.status = f"grader error: {type(spec).__name__}: {spec}"
            spec = None
        if sub.status == "ok" and spec is not None:
            todo.append(sub)
        else:
            results.append(_ungraded(sub, spec))
    detected = None
    if settings.isolation.uid is None and not settings.isolation.namespaces and os.geteuid() == 0:
        slots = max(1, min(jobs, len(todo)))
        detected = settings.isolation = Isolation.detect(
            _hide_list(paths, solutions_dir, [out.parent.resolve()] if out.parent.resolve() != ROOT else []), slots)
    bar = _bar(len(files), progress)
    bar.update(len(results))
    lock = threading.Lock()
    if todo:
        work: queue.Queue = queue.Queue()
        for sub in todo:
            work.put(sub)
        threads = [threading.Thread(target=_slot, args=(work, specs, settings, results, lock, bar, k), daemon=True)
                   for k in range(max(1, min(jobs, len(todo))))]
        try:
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            if detected is not None:
                detected.release()
                settings.isolation = Isolation()
    bar.close()
    columns = [e.name for slug in known for e in _ordered(specs.get(slug), exercises, slug)]
    rows = [gradebook.row_for(r, settings.seed) for r in results]
    gradebook.write_csv(rows, columns, out)
    if feedback is not None:
        gradebook.write_feedback(results, feedback)
    if written_dir is not None:
        pristine = {slug: spec.cells for slug, spec in specs.items() if isinstance(spec, NotebookSpec)}
        counts = written.collect(files, pristine, written_dir, anonymise=anonymise, seed=settings.seed)
        if not quiet:
            print(f"written answers: {counts['questions']} question(s), {counts['answered']} answered, "
                  f"marking sheet {written_dir / 'manual.csv'}")
    for fmt_name, target in (exports_wanted or {}).items():
        message = export(fmt_name, rows, columns, target, **(export_options or {}))
        if not quiet:
            print(message)
    if not quiet:
        print(gradebook.summary(rows, columns))
    return rows, results


def discover_and_shard(paths, known, shard, layout="auto", scratch=None):
    """Every submitted file under ``paths`` as a Submission (one per file, nothing dropped), the older copies of
    a student's notebook marked ``superseded`` (utils.grading.layouts), then this shard's students."""
    entries = layouts.collect(paths, layout, scratch)
    replaced = layouts.mark_superseded(entries, set(known))
    files = []
    for i, entry in enumerate(entries):
        try:
            sub = submissions.load(entry.path, set(known), entry)
        except Exception as exc:  # never lose a file, even to a bug here
            sub = submissions.Submission(entry.path, entry.student, entry.notebook, status=f"grader error: {exc!r}")
        if i in replaced and sub.status == "ok":
            sub.status = "superseded"
            sub.notes.append(f"a later submission counts: {replaced[i].kept_name}")
        files.append(sub)
    return shard_of(files, shard)


def _ordered(spec, exercises, slug):
    if isinstance(spec, NotebookSpec):
        return spec.exercises
    return [e for e in exercises.values() if e.notebook == slug]


def _ungraded(sub: submissions.Submission, spec: NotebookSpec | None) -> SubmissionResult:
    from utils.grading.runner import ExerciseResult

    result = SubmissionResult(sub, spec, notes=list(sub.notes))
    if spec is not None:
        result.exercises = [ExerciseResult(e.name, 0.0, e.points, "not graded", sub.status) for e in spec.exercises]
    return result


def _slot(work, specs, settings, results, lock, bar, slot: int = 0) -> None:
    """One parallel slot: its own zygote (restarted if it dies) and, as root, its own uid."""
    zygote = None

    def fresh() -> Zygote:
        z = Zygote()
        z.wait_ready()
        return z

    try:
        while True:
            try:
                sub = work.get_nowait()
            except queue.Empty:
                return
            spec = specs[sub.notebook]
            try:
                if zygote is None:
                    zygote = fresh()
                result, zygote = grade(fresh, zygote, sub, spec, settings, slot)
            except Exception as exc:  # a grader bug: the row says so, the others go on
                sub.status = f"grader error: {type(exc).__name__}: {exc}"
                result = _ungraded(sub, spec)
                result.notes.append(traceback.format_exc(limit=3).replace("\n", " | "))
                if zygote is not None:
                    zygote.close()
                zygote = None
            with lock:
                results.append(result)
                bar.update(1)
    finally:
        if zygote is not None:
            zygote.close()


def _bar(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc="grading", unit="nb", file=sys.stderr, disable=not enabled)


# --------------------------------------------------------------------------- bench
def bench(n: int, jobs: int, seed: int = 0) -> dict[str, float]:
    """Grade ``n`` honest submissions (the solution notebooks, renamed) and report where time goes."""
    import shutil
    import subprocess
    import tempfile

    slugs = sorted({e.notebook for e in checks.registry().values()
                    if (ROOT / "solutions" / f"{e.notebook}.ipynb").exists()})
    with tempfile.TemporaryDirectory(prefix="grade-bench-") as tmp:
        folder = Path(tmp) / "subs"
        folder.mkdir()
        for i in range(n):
            slug = slugs[i % len(slugs)]
            shutil.copyfile(ROOT / "solutions" / f"{slug}.ipynb", folder / f"student{i:03d}__{slug}.ipynb")
        start = time.perf_counter()
        rows, results = run([folder], out=Path(tmp) / "grades.csv", jobs=jobs, settings=Settings(seed=seed),
                            progress=False, quiet=True)
        wall = time.perf_counter() - start
    cold = time.perf_counter()
    subprocess.run([sys.executable, "-I", "-c", "import torch"], check=True)
    cold = time.perf_counter() - cold
    graded = [r for r in results if r.sub.status == "ok"]
    mean = lambda key: sum(r.timing.get(key, 0.0) for r in graded) / max(1, len(graded))  # noqa: E731
    full = sum(1 for r in graded if r.total == r.max_points)
    stats = {"submissions": n, "seconds": wall, "per_minute": 60 * n / wall, "full_marks": full,
             "cold_import_torch_s": cold, "per_submission_s": mean("total"), "worker_s": mean("worker"),
             "judge_s": mean("judge")}
    print(f"{n} submissions, --jobs {jobs}: {wall:.1f} s, {stats['per_minute']:.1f} per minute "
          f"({full}/{len(graded)} full marks)")
    print(f"  a cold `python -c 'import torch'` here: {cold:.2f} s (paid once per slot by the zygote)")
    print(f"  per submission (mean): {stats['per_submission_s']:.3f} s in all = child {stats['worker_s']:.3f} s "
          f"(fork, setup cell, student cells, hidden cases, result files) + judging {stats['judge_s']:.3f} s "
          "+ case generation and bookkeeping")
    return stats


# --------------------------------------------------------------------------- command line
def export(kind: str, rows, columns, target: Path, *, canvas_gradebook: Path | None = None,
           canvas_assignment: str | None = None) -> str:
    """Write one export of ``rows`` (utils.grading.exports) and return a one-line report."""
    if kind == "canvas":
        if canvas_gradebook is None:
            raise exports.ExportError("--export canvas needs --canvas-gradebook FILE: the gradebook CSV exported "
                                      "from Canvas (Grades > Export > Export Entire Gradebook)")
        info = exports.canvas(rows, canvas_gradebook, target, canvas_assignment)
        unknown = f"; not in the gradebook: {', '.join(info['unknown'])}" if info["unknown"] else ""
        return (f"canvas: {target} ({info['column']}: {info['filled']} filled, {info['unchanged']} without a "
                f"submission left empty{unknown})")
    if kind == "moodle":
        return f"moodle: {target} ({exports.moodle(rows, target)['rows']} students)"
    if kind == "long":
        return f"long: {target} ({exports.long(rows, columns, target)['rows']} rows)"
    raise exports.ExportError(f"unknown export {kind!r}; expected one of {', '.join(exports.EXPORTS)}")


def _export_targets(kinds: list[str], out: Path) -> dict[str, Path]:
    return {k: out.with_name(f"{out.stem}_{k}.csv") for k in dict.fromkeys(kinds)}


def _shard(text: str) -> tuple[int, int]:
    try:
        k, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shard expects K/N like 2/8, got {text!r}") from None
    if not 1 <= k <= n:
        raise argparse.ArgumentTypeError(f"--shard K/N needs 1 <= K <= N, got {text!r}")
    return k, n


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["merge"]:
        p = argparse.ArgumentParser(prog="python -m utils.grade merge",
                                    description="merge shard CSVs, and add hand marks of written answers")
        p.add_argument("inputs", nargs="+", type=Path)
        p.add_argument("--out", type=Path, required=True)
        p.add_argument("--manual", type=Path, default=None,
                       help="a filled manual.csv (from --written); its points are added to the totals")
        p.add_argument("--manual-key", type=Path, default=None, help="manual_key.csv (default: beside manual.csv)")
        args = p.parse_args(argv[1:])
        try:
            rows = gradebook.merge(args.inputs, args.out)
            if args.manual is not None:
                rows = written.add_manual(args.out, args.manual, args.out, args.manual_key)
        except (ValueError, OSError) as exc:
            p.error(str(exc))
        _, columns = gradebook.read_csv(args.out)
        print(gradebook.summary(rows, columns))
        return 0
    if argv[:1] == ["export"]:
        p = argparse.ArgumentParser(prog="python -m utils.grade export",
                                    description="write platform exports from a grades.csv")
        p.add_argument("grades", type=Path)
        p.add_argument("--export", action="append", choices=exports.EXPORTS, required=True)
        p.add_argument("--out", type=Path, default=None, help="file name stem (default: beside grades.csv)")
        p.add_argument("--canvas-gradebook", type=Path, default=None)
        p.add_argument("--canvas-assignment", default=None)
        args = p.parse_args(argv[1:])
        try:
            rows, columns = gradebook.read_csv(args.grades)
            for kind, target in _export_targets(args.export, args.out or args.grades).items():
                print(export(kind, rows, columns, target, canvas_gradebook=args.canvas_gradebook,
                             canvas_assignment=args.canvas_assignment))
        except (ValueError, OSError) as exc:
            p.error(str(exc))
        return 0
    if argv[:1] == ["gradescope"]:
        from utils.grading import gradescope

        p = argparse.ArgumentParser(prog="python -m utils.grade gradescope",
                                    description="build the Gradescope autograder zip")
        p.add_argument("--out", type=Path, default=Path("autograder.zip"))
        p.add_argument("--notebooks", default=None, help="comma-separated exercise notebooks (default: all)")
        args = p.parse_args(argv[1:])
        try:
            path = gradescope.build_zip(args.out, args.notebooks.split(",") if args.notebooks else None)
        except ValueError as exc:
            p.error(str(exc))
        print(f"wrote {path}: upload it as the autograder of a Gradescope programming assignment")
        return 0
    if argv[:1] == ["gradescope-run"]:
        from utils.grading import gradescope

        p = argparse.ArgumentParser(prog="python -m utils.grade gradescope-run")
        p.add_argument("--root", type=Path, default=Path(os.environ.get("GRADESCOPE_ROOT", gradescope.DEFAULT_ROOT)))
        args = p.parse_args(argv[1:])
        gradescope.run(args.root)
        return 0
    if argv[:1] == ["bench"]:
        p = argparse.ArgumentParser(prog="python -m utils.grade bench")
        p.add_argument("--n", type=int, default=40)
        p.add_argument("--jobs", type=int, default=2)
        args = p.parse_args(argv[1:])
        bench(args.n, args.jobs)
        return 0
    p = argparse.ArgumentParser(prog="python -m utils.grade", description=__doc__.split("\n")[0])
    p.add_argument("paths", nargs="+", type=Path,
                   help="submission files, folders or .zip archives, as the platform exported them")
    p.add_argument("--layout", choices=layouts.LAYOUTS, default="auto",
                   help="how the files are named: canvas, moodle, gradescope, nbgrader, flat (ID__exNN_slug.ipynb); "
                        "auto (default) recognises each")
    p.add_argument("--export", action="append", choices=exports.EXPORTS, default=[],
                   help="also write OUT_canvas.csv / OUT_moodle.csv / OUT_long.csv (repeatable)")
    p.add_argument("--canvas-gradebook", type=Path, default=None, help="the gradebook CSV exported from Canvas")
    p.add_argument("--canvas-assignment", default=None, help="its assignment column (name or id)")
    p.add_argument("--written", type=Path, default=None,
                   help="folder for the written answers, one Markdown file per question, and manual.csv")
    p.add_argument("--anonymise", action="store_true", help="written answers under codes, not student ids")
    p.add_argument("--out", type=Path, default=Path("grades.csv"))
    p.add_argument("--feedback", type=Path, default=None, help="folder for feedback/ID.md")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    p.add_argument("--seed", type=int, default=Settings.seed, help="seed of the hidden cases (keep it secret)")
    p.add_argument("--exercise-timeout", type=float, default=Settings.exercise_timeout)
    p.add_argument("--notebook-timeout", type=float, default=Settings.notebook_timeout)
    p.add_argument("--memory-mb", type=int, default=Limits.memory_mb)
    p.add_argument("--shard", type=_shard, default=None, help="grade only shard K of N (1-based)")
    p.add_argument("--exercises", type=Path, default=ROOT / "exercises")
    p.add_argument("--solutions", type=Path, default=ROOT / "solutions")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    settings = Settings(seed=args.seed, exercise_timeout=args.exercise_timeout,
                        notebook_timeout=args.notebook_timeout, limits=Limits(memory_mb=args.memory_mb))
    if "canvas" in args.export and args.canvas_gradebook is None:
        p.error("--export canvas needs --canvas-gradebook FILE (Canvas: Grades > Export > Export Entire Gradebook)")
    if "canvas" in args.export:
        try:  # before grading: a wrong gradebook or an ambiguous column must not waste a grading run
            exports.canvas_column(args.canvas_gradebook, args.canvas_assignment)
        except exports.ExportError as exc:
            p.error(str(exc))
    try:
        run(args.paths, out=args.out, feedback=args.feedback, jobs=args.jobs, settings=settings, shard=args.shard,
            exercises_dir=args.exercises, solutions_dir=args.solutions, progress=not args.no_progress,
            layout=args.layout, written_dir=args.written, anonymise=args.anonymise,
            exports_wanted=_export_targets(args.export, args.out),
            export_options={"canvas_gradebook": args.canvas_gradebook, "canvas_assignment": args.canvas_assignment})
    except (layouts.LayoutError, exports.ExportError) as exc:
        p.error(str(exc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
