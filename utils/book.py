"""The authoring tool: one command rebuilds every generated file, the same command checks them.

Usage (from the repository root)::

    python -m utils.book build            # rebuild what is stale: .ipynb from .py, run them, exercises
    python -m utils.book build --force    # re-execute every chapter and solution
    python -m utils.book build chapters/03_gradient_behaviour.py   # just these sources
    python -m utils.book check            # rewrite nothing; exit 1 naming every stale file
    python -m utils.book release --out DIR   # the student bundle: no solutions, no hidden cases
    python -m utils.book mutants [EXERCISE ...]   # mutation testing of the checks (utils/checks/mutants.py)

Sources of truth: the py:percent files in ``chapters/`` and ``solutions/``. Generated:

* ``chapters/NN_slug.ipynb`` and ``solutions/exNN_slug.ipynb``: the same cells, executed, outputs stored;
* ``exercises/exNN_slug.py`` and ``exercises/exNN_slug.ipynb``: the solutions with every block between
  ``### BEGIN SOLUTION`` and ``### END SOLUTION`` replaced by a stub, cells tagged
  ``solution-only`` dropped, no outputs.

Staleness is decided by content, never by file timestamps (they are arbitrary after a checkout).
Introduced with the foundation of the book (issue 2).
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXECUTED_DIRS = ("chapters", "solutions")
# Chapters are ``NN_slug``; exercise notebooks (solutions/ and the generated exercises/) are ``exNN_slug``,
# so that a JupyterLab tab never shows two files of the same name (issue 12).
SOURCE_GLOBS = {"chapters": "[0-9][0-9]_*.py", "solutions": "ex[0-9][0-9]_*.py"}
# What build may have generated, under today's names or the names used before the rename (orphans).
GENERATED_GLOBS = {"chapters": ("[0-9]*.ipynb",), "solutions": ("ex[0-9]*.ipynb", "[0-9]*.ipynb"),
                   "exercises": ("ex[0-9]*.*", "[0-9]*.*")}
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
# The notebook metadata JupyterLab itself would write, so that a stored notebook opens clean (no "modified"
# dot) and saving it unchanged rewrites nothing (issue 12):
# - ``language_info``: JupyterLab copies the kernel's language_info into the notebook when the kernel starts
#   and marks the notebook modified unless it is already there, equal. ipykernel reports the Python version,
#   so this is the reference Python of the book's build machine; on another Python version JupyterLab still
#   updates the field (and shows the notebook modified) when the kernel starts.
# - the jupytext filters of jupytext.toml: jupytext's contents manager copies them into the notebook's
#   metadata when it serves a notebook, and writes them back into both files of the pair on save.
REFERENCE_PYTHON = "3.11.7"
LANGUAGE_INFO = {
    "codemirror_mode": {"name": "ipython", "version": 3},
    "file_extension": ".py",
    "mimetype": "text/x-python",
    "name": "python",
    "nbconvert_exporter": "python",
    "pygments_lexer": "ipython3",
    "version": REFERENCE_PYTHON,
}
JUPYTEXT = {
    "cell_metadata_filter": "tags,-all",
    "formats": "ipynb,py:percent",
    "notebook_metadata_filter": "kernelspec,jupytext,-all",
}
METADATA = {"jupytext": JUPYTEXT, "kernelspec": KERNELSPEC, "language_info": LANGUAGE_INFO}
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
# Grader-only code in utils/checks (hidden cases) sits between these markers; release removes it.
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN", "### END HIDDEN"
SOLUTION_ONLY_TAG = "solution-only"
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
MARKDOWN_STUB = "YOUR ANSWER HERE"
CELL_TIMEOUT = 300  # seconds; a chapter should take seconds, this only stops a hang


# --------------------------------------------------------------------------- reading and writing
def read_py(path: Path):
    """Read a py:percent source as a notebook with canonical metadata and stable cell ids."""
    import jupytext

    nb = jupytext.read(path, fmt="py:percent")
    return canonical(nb)


def canonical(nb):
    """Minimal metadata (kernelspec, jupytext pairing), cell metadata reduced to tags, stable ids, and
    consecutive text of one stream in one output."""
    import copy

    nb.metadata = copy.deepcopy(METADATA)
    nb.nbformat, nb.nbformat_minor = 4, 5
    seen: dict[str, int] = {}
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags")
        cell.metadata = {"tags": list(tags)} if tags else {}
        if cell.cell_type == "code":
            # A kernel splits printed text into messages where its flush timer happens to fire, so the same
            # run stored twice would differ; nbval compares the joined text.
            merged = []
            for output in cell.get("outputs", []):
                previous = merged[-1] if merged else None
                if (output.output_type == "stream" and previous is not None
                        and previous.output_type == "stream" and previous.name == output.name):
                    previous.text += output.text
                else:
                    merged.append(output)
            cell.outputs = merged
        # Ids from content, so inserting a cell does not renumber every later one.
        digest = hashlib.sha1((cell.cell_type + cell.source).encode()).hexdigest()[:8]
        seen[digest] = seen.get(digest, 0) + 1
        cell.id = digest if seen[digest] == 1 else f"{digest}-{seen[digest]}"
    return nb


def py_text(nb) -> str:
    import jupytext

    return jupytext.writes(nb, fmt="py:percent")


def ipynb_text(nb) -> str:
    import nbformat

    return nbformat.writes(nb) + "\n"


def cell_signature(nb) -> list[tuple]:
    """What a .py and its .ipynb must agree on: cell types, sources and tags, in order."""
    return [
        (c.cell_type, c.source, tuple(c.get("metadata", {}).get("tags", ())))
        for c in nb.cells
    ]


# --------------------------------------------------------------------------- exercises
def make_exercise(solution_nb):
    """Student version of a solutions notebook: solution blocks stubbed, solution-only cells dropped."""
    import copy

    nb = copy.deepcopy(solution_nb)
    cells = []
    for cell in nb.cells:
        if SOLUTION_ONLY_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        cell.source = strip_solutions(cell.source, markdown=cell.cell_type == "markdown")
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    nb.cells = cells
    return canonical(nb)


def strip_solutions(source: str, *, markdown: bool = False) -> str:
    """Replace every BEGIN/END SOLUTION block by a stub at the indentation of its BEGIN line.

    Raises ``ValueError`` on a BEGIN without END (or the reverse), so a half-marked solution
    never leaks into the student's notebook.
    """
    return strip_blocks(source, BEGIN, END, MARKDOWN_STUB if markdown else STUB)


def strip_blocks(source: str, begin: str, end: str, stub: str = "") -> str:
    """Replace each block from a ``begin`` line to an ``end`` line (inclusive) by ``stub``."""
    out: list[str] = []
    inside = False
    for number, line in enumerate(source.split("\n"), start=1):
        stripped = line.strip()
        if stripped.startswith(begin):
            if inside:
                raise ValueError(f"line {number}: nested '{begin}' (close the previous block first)")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(indent + s for s in stub.split("\n")) if stub else None
        elif stripped.startswith(end):
            if not inside:
                raise ValueError(f"line {number}: '{end}' without a matching '{begin}'")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"'{begin}' without a matching '{end}'")
    return "\n".join(out)


# --------------------------------------------------------------------------- execution
def execute(nb, cwd: Path):
    """Run every cell in a kernel of the current environment; outputs stored, stderr dropped."""
    from jupyter_client import KernelManager
    from nbclient import NotebookClient
    from nbval.kernel import CURRENT_ENV_KERNEL_NAME, NbvalKernelspecManager

    km = KernelManager(kernel_name=CURRENT_ENV_KERNEL_NAME, kernel_spec_manager=NbvalKernelspecManager())
    client = NotebookClient(
        nb, km=km, timeout=CELL_TIMEOUT, record_timing=False, resources={"metadata": {"path": str(cwd)}}
    )
    try:
        client.execute()
    finally:
        # nbclient shuts down only the kernels it started itself: this one was passed in (km=), so without
        # this line every executed notebook's kernel stays alive (torch loaded) until build exits.
        if km.has_kernel:
            km.shutdown_kernel(now=True)
    for cell in nb.cells:
        if cell.cell_type == "code":
            # stderr is not compared by the tests (warnings, progress bars), so it is not stored either.
            cell.outputs = [o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")]
            for o in cell.outputs:
                # a widget's view holds a random model id: storing it would change the file on every build
                # (utils.interactive gives each explorer a fixed plain-text fallback instead).
                if "data" in o:
                    o.data.pop("application/vnd.jupyter.widget-view+json", None)
    return canonical(nb)


# --------------------------------------------------------------------------- what is stale
def sources(root: Path = ROOT) -> list[Path]:
    return sorted(p for d in EXECUTED_DIRS for p in (root / d).glob(SOURCE_GLOBS[d]))


def stale_reasons(root: Path = ROOT) -> dict[str, str]:
    """Every generated file that differs from what build would write, with the reason."""
    import nbformat

    reasons: dict[str, str] = {}
    for py in sources(root):
        rel = py.relative_to(root)
        try:
            nb = read_py(py)
        except Exception as exc:  # a broken source is reported, not a crash of the check
            reasons[str(rel)] = f"cannot be read as py:percent: {exc}"
            continue
        if py.read_text() != py_text(nb):
            reasons[str(rel)] = "not in canonical jupytext form (run build to normalise its header)"
        ipynb = py.with_suffix(".ipynb")
        if not ipynb.exists():
            reasons[str(ipynb.relative_to(root))] = "missing"
        else:
            stored = nbformat.read(ipynb, as_version=4)
            if cell_signature(stored) != cell_signature(nb):
                reasons[str(ipynb.relative_to(root))] = f"cells differ from {rel}"
            elif any(c.cell_type == "code" and c.source.strip() and c.execution_count is None for c in stored.cells):
                reasons[str(ipynb.relative_to(root))] = "not executed (outputs missing)"
            elif ipynb.read_text() != ipynb_text(canonical(stored)):
                reasons[str(ipynb.relative_to(root))] = "not in canonical form: metadata, ids or split output text (build rewrites it, keeping outputs)"
        if py.parent.name == "solutions":
            exercise = make_exercise(nb)
            for path, text in exercise_files(root, py, exercise).items():
                if not path.exists() or path.read_text() != text:
                    reasons[str(path.relative_to(root))] = f"differs from a fresh generation from {rel}"
    # Orphans: generated files whose source is gone.
    expected = set()
    for py in sources(root):
        expected.add(py.with_suffix(".ipynb"))
        if py.parent.name == "solutions":
            expected |= {root / "exercises" / (py.stem + ext) for ext in (".py", ".ipynb")}
    generated = [p for d, globs in GENERATED_GLOBS.items() for g in globs for p in (root / d).glob(g)
                 if p.suffix == ".ipynb" or (d == "exercises" and p.suffix == ".py")]
    # a solutions/NN_slug.py left from before the rename is not a source any more
    generated += [p for p in (root / "solutions").glob("[0-9]*.py")]
    for p in sorted(set(generated) - expected):
        reasons[str(p.relative_to(root))] = "has no source (delete it, or add its source)"
    return reasons


def exercise_files(root: Path, solution_py: Path, exercise_nb) -> dict[Path, str]:
    base = root / "exercises" / solution_py.stem
    return {base.with_suffix(".py"): py_text(exercise_nb), base.with_suffix(".ipynb"): ipynb_text(exercise_nb)}


# --------------------------------------------------------------------------- commands
def _build_one(py: str, force: bool) -> tuple[str, float, str]:
    """Build the generated files of one source; returns (source, seconds, what was done)."""
    import nbformat

    path = Path(py)
    nb = read_py(path)
    done = []
    if path.read_text() != py_text(nb):
        path.write_text(py_text(nb))
        done.append("normalised .py")
    ipynb = path.with_suffix(".ipynb")
    seconds = 0.0
    fresh = False
    if ipynb.exists() and not force:
        stored = nbformat.read(ipynb, as_version=4)
        fresh = cell_signature(stored) == cell_signature(nb) and all(
            c.execution_count is not None for c in stored.cells if c.cell_type == "code" and c.source.strip()
        )
    if not fresh:
        start = time.perf_counter()
        executed = execute(read_py(path), cwd=path.parent)
        seconds = time.perf_counter() - start
        ipynb.write_text(ipynb_text(executed))
        done.append(f"executed in {seconds:.1f} s")
    elif ipynb.read_text() != ipynb_text(canonical(stored)):
        # Same cells, executed: only the metadata, ids or split stream outputs changed. Outputs are kept.
        ipynb.write_text(ipynb_text(canonical(stored)))
        done.append("rewrote to canonical form")
    if path.parent.name == "solutions":
        for target, text in exercise_files(path.parent.parent, path, make_exercise(nb)).items():
            if not target.exists() or target.read_text() != text:
                target.write_text(text)
                done.append(f"wrote {target.parent.name}/{target.name}")
    return py, seconds, ", ".join(done) or "up to date"


def build(paths: list[Path], *, force: bool = False, jobs: int = 1, root: Path = ROOT) -> int:
    todo = [str(p) for p in paths]
    failures = 0
    print(f"building {len(todo)} source(s) with {jobs} job(s)", flush=True)
    # "spawn", not fork: a forked child inherits jupyter_core's event-loop thread as a dead object, and its
    # first kernel start then waits forever (seen when the calling process had already run a kernel).
    with ProcessPoolExecutor(max_workers=max(1, jobs), mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(_build_one, p, force): p for p in todo}
        for i, future in enumerate(futures, start=1):
            rel = Path(futures[future]).resolve().relative_to(root)
            try:
                _, _, done = future.result()
                print(f"[{i}/{len(todo)}] {rel}: {done}", flush=True)
            except Exception as exc:  # report every failing notebook, keep building the others
                failures += 1
                message = str(exc).strip().splitlines()
                print(f"[{i}/{len(todo)}] {rel}: FAILED: {' | '.join(message[-5:])}", flush=True)
    for rel, why in stale_reasons(root).items():
        if "has no source" in why:
            print(f"warning: {rel} {why}")
    return 1 if failures else 0


def check(root: Path = ROOT) -> int:
    reasons = stale_reasons(root)
    if not reasons:
        print(f"all generated files are up to date ({len(sources(root))} sources)")
        return 0
    print(f"{len(reasons)} stale file(s); rebuild with `python -m utils.book build`:")
    for rel, why in sorted(reasons.items()):
        print(f"  {rel}: {why}")
    return 1


# --------------------------------------------------------------------------- the student bundle
# Copied as they are. REFERENCES.md: the chapters link to it. jupyter-config/: installed by `pip install -e .`
# (pyproject.toml's shared-data), so that `jupyter lab` opens the landing notebook in the bundle too.
RELEASE_FILES = ("jupytext.toml", "conftest.py", "tests/nbval_sanitize.cfg", "tests/offline/sitecustomize.py",
                 "tests/no_iri_grammar.py", "REFERENCES.md")
RELEASE_DIRS = ("chapters", "exercises", "utils", "jupyter-config")
NOT_RELEASED = ("utils/grade.py", "utils/grading")  # the grader stays with the instructor
# Written by release itself: the students' README (STUDENTS.md), requirements without the CI-only browser
# test, pyproject.toml without solutions/, and the exercise checks' public outcomes.
RELEASE_GENERATED = ("README.md", "requirements.txt", "pyproject.toml", "utils/checks/public.pt")
CI_ONLY_REQUIREMENTS = ("playwright",)  # the browser test is not part of the bundle
# The lines of pyproject.toml that differ in the bundle (exercises/ have no outputs: tests/ checks them).
BUNDLE_PYPROJECT = {
    "# `pytest` runs the unit tests and reproduces every stored notebook output in chapters/ and solutions/\n":
        "# `pytest` reproduces every stored notebook output in chapters/ (nbval, strict)\n",
    'testpaths = ["tests", "chapters", "solutions"]': 'testpaths = ["chapters"]',
}


def _copied(root: Path) -> list[tuple[str, Path]]:
    """(path in the bundle, source) of every file release copies from the repository."""
    copied = [(rel, root / rel) for rel in RELEASE_FILES]  # release fails on a missing one
    for d in RELEASE_DIRS:
        for path in sorted((root / d).rglob("*")):
            rel = path.relative_to(root).as_posix()
            if not path.is_file() or "__pycache__" in rel or ".ipynb_checkpoints" in rel:
                continue
            if any(rel == n or rel.startswith(n + "/") for n in NOT_RELEASED):
                continue
            if rel.startswith("utils/checks/ex"):
                continue  # references, hidden cases and mimics: replaced by public.pt
            copied.append((rel, path))
    return copied


def bundle_paths(root: Path = ROOT) -> list[str]:
    """Every file of the student bundle (relative POSIX paths), without writing it: what release writes."""
    return sorted({rel for rel, _ in _copied(root)} | set(RELEASE_GENERATED))


def bundle_pyproject(text: str) -> str:
    """The repository's pyproject.toml for the bundle: nbval runs the chapters only; no word of solutions/."""
    for line, bundled in BUNDLE_PYPROJECT.items():
        if line not in text:
            raise SystemExit(f"pyproject.toml no longer has the line {line!r}; update utils.book.BUNDLE_PYPROJECT")
        text = text.replace(line, bundled)
    if "solutions" in text:
        raise SystemExit("the bundle's pyproject.toml would still mention solutions/; update bundle_pyproject()")
    return text


def release(out: Path, root: Path = ROOT) -> list[Path]:
    """Write the student bundle to ``out``: chapters, exercises, ``utils`` (hidden cases removed; the
    exercise checks as precomputed public outcomes, see utils/checks/public.py), requirements and a
    student README; nothing of ``solutions/``. Returns the files written (exactly ``bundle_paths(root)``)."""
    stale = stale_reasons(root)
    if stale:
        raise SystemExit(f"refusing to release a stale book ({len(stale)} stale files); run build first")
    out = out.resolve()
    if out.exists() and any(out.iterdir()):
        raise SystemExit(f"{out} exists and is not empty; choose a new folder")
    written = []

    def put(rel: str, text: str | bytes) -> None:
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text) if isinstance(text, bytes) else target.write_text(text)
        written.append(target)

    for rel, path in _copied(root):
        if path.suffix == ".py" and rel.startswith("utils/"):
            text = strip_blocks(path.read_text(), BEGIN_HIDDEN, END_HIDDEN)
            compile(text, rel, "exec")  # a badly placed marker must fail here, not on a student's laptop
            put(rel, text)
        else:
            put(rel, path.read_bytes())
    requirements = (root / "requirements.txt").read_text().splitlines(keepends=True)
    put("requirements.txt", "".join(
        line for line in requirements
        if not line.startswith(CI_ONLY_REQUIREMENTS) and "the real-browser test" not in line))
    put("pyproject.toml", bundle_pyproject((root / "pyproject.toml").read_text()))
    put("README.md", (root / "STUDENTS.md").read_text())
    from utils import checks
    from utils.checks import public

    public.save(checks.registry(), out / "utils" / "checks" / "public.pt")
    written.append(out / "utils" / "checks" / "public.pt")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.book", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="regenerate stale notebooks and exercises")
    b.add_argument("paths", nargs="*", type=Path, help="sources to build (default: all)")
    b.add_argument("--force", action="store_true", help="re-execute even notebooks that look up to date")
    b.add_argument("--jobs", type=int, default=1, help="notebooks executed in parallel (default 1)")
    sub.add_parser("check", help="exit 1 naming every generated file that is stale")
    r = sub.add_parser("release", help="write the student bundle (no solutions, no hidden cases)")
    r.add_argument("--out", type=Path, required=True, help="a new, empty folder")
    m = sub.add_parser("mutants", help="mutants of each solution: killed / survived by the checks' cases")
    m.add_argument("exercises", nargs="*", help="exercise names (default: all)")
    args = parser.parse_args(argv)
    if args.command == "mutants":
        from utils.checks import mutants

        return mutants.main(args.exercises or None)
    if args.command == "check":
        return check()
    if args.command == "release":
        files = release(args.out)
        print(f"wrote {len(files)} files to {args.out}")
        return 0
    paths = [p.resolve() for p in args.paths] or sources()
    bad = [str(p) for p in paths if p.suffix != ".py" or p.parent.name not in EXECUTED_DIRS or not p.exists()
           or not p.match(SOURCE_GLOBS[p.parent.name])]
    if bad:
        parser.error("expected existing .py sources, chapters/NN_slug.py or solutions/exNN_slug.py, "
                     f"got: {', '.join(bad)}")
    return build(paths, force=args.force, jobs=args.jobs)


if __name__ == "__main__":
    sys.exit(main())
