"""The hand-written answers of tests/answers.py, graded: each gets at grading the verdict it gets at the
check (issue 13). A correct answer written differently scores full marks, a wrong one loses points, a
shortcut scores 0 with feedback naming the call.

Each answer becomes one submission: the pristine exercise notebook, an extra cell with the answers' imports
(``answers.SETUP``, as a student would add one), the answer's helper cells just above the exercise's
cell and its last cell in that cell. The other exercises of the notebook stay unsolved.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import nbformat
import pytest

from utils import checks, grade
from utils.grading.runner import Settings

answers = pytest.importorskip("answers", reason="tests/answers.py (the hand-written answers) is not there yet")

ROOT = Path(__file__).resolve().parent.parent


def submission(answer) -> nbformat.NotebookNode:
    exercise = checks.get(answer.exercise)
    nb = nbformat.read(ROOT / "exercises" / f"{exercise.notebook}.ipynb", as_version=4)
    first = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    nb.cells.insert(first + 1, nbformat.v4.new_code_cell(answers.SETUP))
    i = next(i for i, c in enumerate(nb.cells) if f"exercise:{answer.exercise}" in c.metadata.get("tags", []))
    nb.cells[i].source = answer.cells[-1]
    for helper in reversed(answer.cells[:-1]):
        nb.cells.insert(i, nbformat.v4.new_code_cell(helper))
    return nb


def student_id(answer) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", answer.id).strip("-")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("answers")
    subs = base / "subs"
    subs.mkdir()
    for answer in answers.ANSWERS:
        notebook = checks.get(answer.exercise).notebook
        nbformat.write(submission(answer), subs / f"{student_id(answer)}__{notebook}.ipynb")
    out = base / "grades.csv"
    settings = Settings(seed=99, exercise_timeout=10.0, notebook_timeout=120.0)
    grade.run([subs], out=out, feedback=base / "feedback", jobs=2, settings=settings, progress=False, quiet=True)
    with open(out, newline="") as f:
        rows = {r["id"]: r for r in csv.DictReader(f)}
    return rows, base / "feedback"


@pytest.mark.slow
@pytest.mark.parametrize("answer", answers.ANSWERS, ids=lambda a: a.id)
def test_each_answer_gets_its_verdict_at_grading(graded, answer):
    rows, feedback = graded
    row = rows[student_id(answer)]
    points, full = float(row[answer.exercise]), checks.get(answer.exercise).points
    text = (feedback / f"{student_id(answer)}.md").read_text()
    line = next(line for line in text.splitlines() if line.startswith(f"- **{answer.exercise}**"))
    if answer.verdict == "pass":
        assert points == full, line
    elif answer.verdict == "forbidden":
        assert points == 0 and answer.hint in line, line
    else:
        assert points < full, line
