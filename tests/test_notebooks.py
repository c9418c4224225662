"""Structure of the book's notebooks: pairing, order, conventions. (Their stored outputs are checked
by nbval in strict mode, collected from chapters/ and solutions/ by the pytest configuration.)"""

import re
from pathlib import Path

import jupytext
import nbformat
import pytest

from utils import book

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.py"))
ALL_SOURCES = sorted([*CHAPTERS, *(p for d in ("solutions", "exercises") for p in (ROOT / d).glob("ex[0-9][0-9]_*.py"))])


def _ids(paths):
    return [str(p.relative_to(ROOT)) for p in paths]


@pytest.mark.parametrize("py", ALL_SOURCES, ids=_ids(ALL_SOURCES))
def test_py_and_ipynb_hold_the_same_cells(py):
    ipynb = py.with_suffix(".ipynb")
    assert ipynb.exists(), f"{ipynb.name} is missing: run `python -m utils.book build`"
    from_py = jupytext.read(py, fmt="py:percent")
    stored = nbformat.read(ipynb, as_version=4)
    assert book.cell_signature(stored) == book.cell_signature(from_py)


@pytest.mark.parametrize("py", ALL_SOURCES, ids=_ids(ALL_SOURCES))
def test_metadata_is_minimal_and_names_a_kernel(py):
    stored = nbformat.read(py.with_suffix(".ipynb"), as_version=4)
    assert stored.metadata == book.METADATA
    assert all(set(c.metadata) <= {"tags"} for c in stored.cells)


def test_chapters_follow_the_sections_in_order():
    numbers = [int(p.name[:2]) for p in CHAPTERS]
    assert numbers == list(range(len(numbers))), f"chapter numbers must be 00, 01, ... without gaps: {numbers}"


@pytest.mark.parametrize("py", CHAPTERS[1:], ids=_ids(CHAPTERS[1:]))
def test_first_code_cell_seeds_and_fixes_threads(py):
    nb = jupytext.read(py, fmt="py:percent")
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert "seed_everything(" in first.source, "the first code cell must call utils.seed_everything(...)"


@pytest.mark.parametrize("py", CHAPTERS[1:], ids=_ids(CHAPTERS[1:]))
def test_index_and_readme_link_every_chapter(py):
    index = (ROOT / "chapters" / "00_index.py").read_text()
    readme = (ROOT / "README.md").read_text()
    assert f"{py.stem}.ipynb" in index, f"chapters/00_index.py does not link {py.stem}.ipynb"
    assert f"chapters/{py.stem}.ipynb" in readme, f"the README's map does not list chapters/{py.stem}.ipynb"


def test_every_notebook_title_names_its_number():
    for py in CHAPTERS:
        first = jupytext.read(py, fmt="py:percent").cells[0]
        assert first.cell_type == "markdown" and re.match(rf"# {py.name[:2]} ", first.source), py.name


@pytest.mark.parametrize("py", CHAPTERS[1:], ids=_ids(CHAPTERS[1:]))
def test_chapter_reads_in_one_sitting_and_links_its_exercises(py):
    """Issue 14: at most 450 source lines (the jupytext header included); issue 12: a real link to its exercises."""
    text = py.read_text()
    assert len(text.splitlines()) <= 450, f"{py.name}: {len(text.splitlines())} lines, more than 450"
    assert f"](../exercises/ex{py.stem}.ipynb)" in text, f"{py.name} does not link ../exercises/ex{py.stem}.ipynb"
