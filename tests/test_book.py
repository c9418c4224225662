"""The authoring tool (utils/book.py): generation rules, staleness detection, and what the suite catches."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from utils import book

ROOT = Path(__file__).resolve().parent.parent
HEADER = (ROOT / "chapters" / "00_index.py").read_text().split("# ---\n\n", 1)[0] + "# ---\n\n"


# --------------------------------------------------------------------------- exercise generation
def test_solution_block_becomes_a_stub_at_its_indentation():
    source = "def f(x):\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\n\nprint(f)"
    assert book.strip_solutions(source) == (
        "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n\nprint(f)"
    )


def test_markdown_solution_becomes_answer_placeholder():
    source = "Why?\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION"
    assert book.strip_solutions(source, markdown=True) == "Why?\nYOUR ANSWER HERE"


@pytest.mark.parametrize(
    "source, message",
    [
        ("### BEGIN SOLUTION\nx = 1", "without a matching"),
        ("x = 1\n### END SOLUTION", "without a matching"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "nested"),
    ],
)
def test_unbalanced_markers_are_refused(source, message):
    with pytest.raises(ValueError, match=message):
        book.strip_solutions(source)


def test_exercise_drops_solution_only_cells_and_outputs():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"),
        nbformat.v4.new_code_cell("assert f() == 1", metadata={"tags": ["solution-only"]}),
        nbformat.v4.new_code_cell("check(f)", metadata={"tags": ["check"]}),
    ]
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", text="1\n")]
    nb.cells[0].execution_count = 3
    exercise = book.make_exercise(nb)
    assert [c.source for c in exercise.cells] == [
        "def f():\n    # YOUR CODE HERE\n    raise NotImplementedError()",
        "check(f)",
    ]
    assert exercise.cells[0].outputs == [] and exercise.cells[0].execution_count is None
    assert exercise.cells[1].metadata == {"tags": ["check"]}  # tags survive: graders read them
    assert "return 1" not in book.py_text(exercise) + book.ipynb_text(exercise)


def test_text_a_kernel_split_into_several_messages_is_stored_as_one_output():
    """Where a kernel's flush timer splits printed text depends on timing: stored split, the same run would
    give a different file each build. Consecutive text of one stream is joined; nothing else moves."""
    out = nbformat.v4.new_output
    cell = nbformat.v4.new_code_cell("print(1); print(2)")
    cell.outputs = [out("stream", name="stdout", text="1\n"), out("stream", name="stdout", text="2\n"),
                    out("stream", name="stderr", text="w\n"), out("stream", name="stdout", text="3\n"),
                    out("display_data", data={"text/plain": "fig"}), out("stream", name="stdout", text="4\n"),
                    out("stream", name="stdout", text="5\n")]
    nb = book.canonical(nbformat.v4.new_notebook(cells=[cell]))
    assert [(o.output_type, o.get("name"), o.get("text")) for o in nb.cells[0].outputs] == [
        ("stream", "stdout", "1\n2\n"), ("stream", "stderr", "w\n"), ("stream", "stdout", "3\n"),
        ("display_data", None, None), ("stream", "stdout", "4\n5\n")]


def test_cell_ids_are_stable_and_unique():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("x = 1")]
    first = [c.id for c in book.canonical(nb).cells]
    nb.cells.insert(0, nbformat.v4.new_markdown_cell("# new"))
    second = [c.id for c in book.canonical(nb).cells]
    assert len(set(first)) == 2 and second[1:] == first


def _live_children() -> set[int]:
    """Pids of this process's children that are still running (from /proc; zombies excluded)."""
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, ppid = stat.read_text().rsplit(")", 1)[1].split()[:2]
        except (OSError, IndexError):
            continue  # exited while we looked
        if int(ppid) == os.getpid() and state != "Z":
            children.add(int(stat.parent.name))
    return children


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc")
def test_execute_shuts_its_kernel_down(tmp_path):
    """Building 29 notebooks must not leave 29 kernels (each with torch loaded) running until build exits."""
    before = _live_children()
    nb = book.execute(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6)")]), cwd=tmp_path)
    assert nb.cells[0].outputs[0].text == "6\n"
    assert _live_children() - before == set()


# --------------------------------------------------------------------------- staleness on a scratch book
@pytest.fixture(scope="module")
def built_book(tmp_path_factory):
    """A tiny book (one chapter, one solution) built once with the real tool in a temporary folder."""
    root = tmp_path_factory.mktemp("built_book")
    for d in ("chapters", "solutions", "exercises"):
        (root / d).mkdir()
    (root / "chapters" / "01_demo.py").write_text(HEADER + "# %%\nx = 3\nprint(x * 2)\n")
    (root / "solutions" / "ex01_demo.py").write_text(
        HEADER + "# %%\ndef f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n"
    )
    assert book.build(book.sources(root), root=root) == 0
    return root


@pytest.fixture
def scratch_book(built_book, tmp_path):
    """A copy of the built tiny book for one test to edit (building takes seconds: it starts kernels)."""
    copy = tmp_path / "book"
    shutil.copytree(built_book, copy)
    assert book.stale_reasons(copy) == {}
    return copy


@pytest.mark.slow
def test_build_executes_and_stores_outputs(scratch_book):
    nb = nbformat.read(scratch_book / "chapters" / "01_demo.ipynb", as_version=4)
    assert nb.cells[0].outputs[0].text == "6\n"
    assert nb.metadata == book.METADATA
    exercise = (scratch_book / "exercises" / "ex01_demo.py").read_text()
    assert "raise NotImplementedError()" in exercise and "2 * x" not in exercise


@pytest.mark.slow
def test_editing_a_py_without_rebuilding_is_stale(scratch_book):
    py = scratch_book / "chapters" / "01_demo.py"
    py.write_text(py.read_text().replace("x = 3", "x = 4"))
    assert book.stale_reasons(scratch_book) == {"chapters/01_demo.ipynb": "cells differ from chapters/01_demo.py"}
    assert book.check(scratch_book) == 1


@pytest.mark.slow
def test_editing_a_solution_without_regenerating_exercises_is_stale(scratch_book):
    py = scratch_book / "solutions" / "ex01_demo.py"
    py.write_text(py.read_text().replace("def f(x):", "def f(x, y=0):"))
    stale = book.stale_reasons(scratch_book)
    assert set(stale) == {"solutions/ex01_demo.ipynb", "exercises/ex01_demo.py", "exercises/ex01_demo.ipynb"}


@pytest.mark.slow
def test_hand_edited_exercise_and_orphans_are_stale(scratch_book):
    (scratch_book / "exercises" / "ex01_demo.py").write_text("# edited by hand\n")
    (scratch_book / "exercises" / "ex02_gone.ipynb").write_text("{}")
    (scratch_book / "exercises" / "01_demo.ipynb").write_text("{}")  # the name used before the rename
    (scratch_book / "solutions" / "01_demo.py").write_text("# %%\n")
    stale = book.stale_reasons(scratch_book)
    assert stale["exercises/ex01_demo.py"].startswith("differs from a fresh generation")
    assert stale["exercises/ex02_gone.ipynb"].startswith("has no source")
    assert stale["exercises/01_demo.ipynb"].startswith("has no source")
    assert stale["solutions/01_demo.py"].startswith("has no source")


@pytest.mark.slow
def test_unexecuted_notebook_is_stale(scratch_book):
    ipynb = scratch_book / "chapters" / "01_demo.ipynb"
    nb = nbformat.read(ipynb, as_version=4)
    nb.cells[0].execution_count, nb.cells[0].outputs = None, []
    nbformat.write(nb, ipynb)
    assert book.stale_reasons(scratch_book) == {"chapters/01_demo.ipynb": "not executed (outputs missing)"}


# --------------------------------------------------------------------------- the real book
def test_the_book_is_up_to_date(capsys):
    """What CI runs first (`python -m utils.book check`, here in-process: the command is book.main):
    every generated file equals what `python -m utils.book build` would write."""
    assert book.main(["check"]) == 0, capsys.readouterr().out


def _nbval(notebook: Path) -> subprocess.CompletedProcess:
    """Run nbval strict on one notebook, configured like the project (conftest and sanitize file)."""
    folder = notebook.parent
    shutil.copy(ROOT / "conftest.py", folder / "conftest.py")
    shutil.copy(ROOT / "tests" / "nbval_sanitize.cfg", folder / "sanitize.cfg")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=", "--nbval",
         "--nbval-current-env", "--nbval-sanitize-with", str(folder / "sanitize.cfg"), "--rootdir", str(folder),
         str(notebook)],
        cwd=folder, capture_output=True, text=True, timeout=300,
    )


@pytest.mark.slow
def test_changing_a_number_in_a_chapter_without_rebuilding_fails_the_suite(tmp_path):
    """The chapter's own hinge example, with one score changed in the .ipynb: its stored output no
    longer reproduces, so nbval (strict) fails on exactly that cell."""
    original = ROOT / "chapters" / "02_hinge_loss.ipynb"
    nb = nbformat.read(original, as_version=4)
    snippet = "torch.tensor([2.0, 0.3, -0.5, -2.0])"
    cells = [c for c in nb.cells if c.cell_type == "code" and snippet in c.source]
    assert cells, f"chapter 02 no longer holds the chapter's example {snippet}"
    cells[0].source = cells[0].source.replace(snippet, "torch.tensor([2.0, 0.4, -0.5, -2.0])")
    mutated = tmp_path / original.name
    nbformat.write(nb, mutated)
    result = _nbval(mutated)
    assert result.returncode == 1, result.stdout[-3000:]
    # The mutated cell fails (and any later cell that prints the same scores): nothing else.
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAILED")]
    assert failed and all("02_hinge_loss.ipynb::Cell" in line for line in failed), result.stdout[-3000:]
    first_changed = [c.source for c in nb.cells if c.cell_type == "code"].index(cells[0].source)
    assert any(f"::Cell {first_changed}" in line for line in failed), (first_changed, failed)
