"""Every exercise: its check fails on the stub, passes on the solution (public and hidden cases), and each
catalogued mistake is diagnosed with its own hint. Hand-written student mutants live in
tests/test_mutants_*.py; here the catalogue itself is proven consistent."""

import subprocess
import sys
from pathlib import Path

import jupytext
import pytest

from utils import checks

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = checks.registry()
NAMES = sorted(EXERCISES)


def load_function(notebook: Path, exercise: checks.Exercise):
    """Execute the notebook's first code cell (imports) and the cell tagged ``exercise:<name>``."""
    nb = jupytext.read(notebook, fmt="py:percent")
    code = [c for c in nb.cells if c.cell_type == "code"]
    tagged = [c for c in code if f"exercise:{exercise.name}" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{notebook.name}: expected one cell tagged exercise:{exercise.name}, found {len(tagged)}"
    namespace: dict = {}
    exec(compile(code[0].source, f"{notebook.name}:setup", "exec"), namespace)
    exec(compile(tagged[0].source, f"{notebook.name}:{exercise.name}", "exec"), namespace)
    assert exercise.function in namespace, f"the cell does not define {exercise.function}"
    return namespace[exercise.function]


def test_there_are_at_least_24_graded_exercises():
    assert len(EXERCISES) >= 24, f"only {len(EXERCISES)} exercises: {NAMES}"


@pytest.mark.parametrize("name", NAMES)
def test_solution_passes_public_and_hidden_cases(name):
    exercise = EXERCISES[name]
    solution = load_function(ROOT / "solutions" / f"{exercise.notebook}.py", exercise)
    for hidden in (False, True):
        report = checks.evaluate(name, solution, hidden=hidden, seed=0 if not hidden else 12345)
        assert report.status == "pass", report.message
        assert report.score == exercise.points


@pytest.mark.parametrize("name", NAMES)
def test_stub_is_reported_as_not_implemented(name):
    exercise = EXERCISES[name]
    stub = load_function(ROOT / "exercises" / f"{exercise.notebook}.py", exercise)
    report = checks.evaluate(name, stub)
    assert report.status == "not implemented" and report.score == 0, report.message
    with pytest.raises(AssertionError, match="not implemented yet"):
        checks.check(name, stub)


@pytest.mark.parametrize("name", NAMES)
def test_each_catalogued_mistake_gets_its_own_hint(name):
    exercise = EXERCISES[name]
    assert len(exercise.mistakes) >= 3, f"{name} catalogues only {len(exercise.mistakes)} mistakes"
    assert len({m.hint for m in exercise.mistakes}) == len(exercise.mistakes), "hints must differ"
    for mistake in exercise.mistakes:
        if mistake.mimic is None:
            continue  # diagnosed from an error message; covered by the hand-written mutants
        report = checks.evaluate(name, mistake.mimic)
        assert report.status != "pass", f"{name}: the mistake '{mistake.name}' passes the check"
        assert f"Likely mistake — {mistake.name}:" in report.message, report.message


@pytest.mark.parametrize("name", NAMES)
def test_exercise_cells_are_tagged_and_checked_in_both_notebooks(name):
    exercise = EXERCISES[name]
    for folder in ("solutions", "exercises"):
        nb = jupytext.read(ROOT / folder / f"{exercise.notebook}.py", fmt="py:percent")
        tags = [t for c in nb.cells for t in c.metadata.get("tags", [])]
        assert tags.count(f"exercise:{name}") == 1 and tags.count(f"check:{name}") == 1, (folder, tags)
        stubbed = "\n".join(c.source for c in nb.cells)
        if folder == "exercises":
            assert "### BEGIN SOLUTION" not in stubbed


def test_messages_never_show_the_reference_code():
    import inspect

    for name, exercise in EXERCISES.items():
        body = inspect.getsource(exercise.reference).splitlines()[1:]
        for mistake in exercise.mistakes:
            report = checks.evaluate(name, mistake.mimic) if mistake.mimic else None
            if report:
                assert not any(line.strip() and line.strip() in report.message for line in body), name


def test_check_rejects_a_non_function():
    with pytest.raises(TypeError, match="expects your function"):
        checks.check(NAMES[0], 42)
    with pytest.raises(KeyError, match="no exercise named"):
        checks.check("no_such_exercise", print)


@pytest.mark.slow
def test_student_self_check_fails_unsolved_and_passes_solved(tmp_path):
    """The README's self-check, `pytest --nbval-lax exercises/NN.ipynb`, on a stub and on a solved copy."""
    import nbformat

    from utils import book

    exercise_nb = ROOT / "exercises" / "ex02_hinge_loss.ipynb"
    solved = book.canonical(jupytext.read(ROOT / "solutions" / "ex02_hinge_loss.py", fmt="py:percent"))

    def self_check(path: Path) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=", "--nbval-lax",
             "--nbval-current-env", "--rootdir", str(path.parent), str(path)],
            cwd=path.parent, capture_output=True, text=True, timeout=300,
        )

    unsolved = tmp_path / "unsolved" / exercise_nb.name
    unsolved.parent.mkdir()
    unsolved.write_bytes(exercise_nb.read_bytes())
    result = self_check(unsolved)
    assert result.returncode == 1 and "not implemented yet" in result.stdout, result.stdout[-2000:]

    done = tmp_path / "solved" / exercise_nb.name
    done.parent.mkdir()
    nbformat.write(solved, done)
    result = self_check(done)
    assert result.returncode == 0, result.stdout[-2000:]


def test_notebook_names_old_and_new_resolve_to_the_exercise_notebook():
    """Exercise notebooks are exNN_slug (issue 12); the names used before the rename still resolve."""
    for exercise in EXERCISES.values():
        assert exercise.notebook.startswith("ex") and (ROOT / "exercises" / f"{exercise.notebook}.ipynb").exists()
        old = exercise.notebook[2:]
        assert checks.canonical_notebook(old) == exercise.notebook
        assert checks.canonical_notebook(exercise.notebook) == exercise.notebook
        assert checks.canonical_notebook(f"exercises/{old}.ipynb") == exercise.notebook
    assert checks.canonical_notebook("99_no_such") == "ex99_no_such"  # unknown stays unknown to the registry
    assert checks.canonical_notebook("readme") == "readme"


def test_exercise_notebooks_start_with_a_link_to_their_chapter():
    for py in sorted((ROOT / "solutions").glob("ex[0-9][0-9]_*.py")):
        for folder in ("solutions", "exercises"):
            first = jupytext.read(ROOT / folder / py.name, fmt="py:percent").cells[0]
            chapter = py.stem[2:]
            assert first.cell_type == "markdown", py.name
            assert first.source.startswith(f"[Chapter {chapter[:2]} — "), first.source[:80]
            assert f"](../chapters/{chapter}.ipynb)" in first.source.splitlines()[0]
            assert (ROOT / "chapters" / f"{chapter}.ipynb").exists()
