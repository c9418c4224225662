"""The grader runs the notebook the student ran, and times "vectorise" exercises from outside (issue 13).

One grading run (module fixture) over notebooks built from the solutions: answers that rely on a helper
or an import in another cell, cells that raise or hang, check cells that would define the function, and
loops in the vectorise exercise (one of them patching ``time``). Each test asserts one row.
"""

from __future__ import annotations

import copy
import csv
from pathlib import Path

import nbformat
import pytest

from utils import checks, grade
from utils.grading.runner import Settings

ROOT = Path(__file__).resolve().parent.parent
NB10 = checks.get("batch_hard_triplets").notebook
NB05 = checks.get("multiclass_hinge_vectorised").notebook
NB02 = checks.get("hinge_loss").notebook

HELPER = ("def pairwise(x):\n"
          "    return torch.cdist(x, x)\n")
USES_HELPER = ("def batch_hard_triplets(embeddings, labels):\n"
               "    d = pairwise(embeddings)\n"
               "    same = labels[:, None] == labels[None, :]\n"
               "    positive = same & ~torch.eye(len(labels), dtype=torch.bool)\n"
               "    keep = positive.any(dim=1) & (~same).any(dim=1)\n"
               "    hp = torch.where(positive, d, -torch.inf).argmax(dim=1)\n"
               "    hn = torch.where(~same, d, torch.inf).argmin(dim=1)\n"
               "    return torch.arange(len(labels))[keep], hp[keep], hn[keep]\n")
USES_IMPORT = USES_HELPER.replace("d = pairwise(embeddings)", "d = cdist(embeddings, embeddings)")

ROW_LOOP = ("def multiclass_hinge_vectorised(scores, targets, margin=1.0):\n"
            "    out = torch.zeros(scores.shape[0], dtype=scores.dtype)\n"
            "    for i in range(scores.shape[0]):\n"
            "        t = (scores[i] - scores[i, targets[i]] + margin).clamp(min=0)\n"
            "        t[targets[i]] = 0\n"
            "        out[i] = t.sum()\n"
            "    return out\n")
LIST_LOOP = ("def multiclass_hinge_vectorised(scores, targets, margin=1.0):\n"
             "    return torch.stack([torch.clamp(s - s[t] + margin, min=0).sum() - margin\n"
             "                        for s, t in zip(scores, targets)])\n")
PATCHED_CLOCKS = ("import time\n"
                  "time.perf_counter = time.process_time = time.monotonic = time.time = lambda: 0.0\n"
                  "time.perf_counter_ns = time.process_time_ns = lambda: 0\n" + ROW_LOOP)
SUBTRACT_MARGIN = ("def multiclass_hinge_vectorised(scores, targets, margin=1.0):\n"
                   "    correct = scores.gather(1, targets[:, None])\n"
                   "    return torch.relu(scores - correct + margin).sum(dim=1) - margin\n")
SCATTER = ("def multiclass_hinge_vectorised(scores, targets, margin=1.0):\n"
           "    correct = scores.gather(1, targets.view(-1, 1))\n"
           "    terms = torch.clamp(scores - correct + margin, min=0.0)\n"
           "    return terms.scatter(1, targets.view(-1, 1), 0.0).sum(dim=1)\n")
CLASS_LOOP = ("def multiclass_hinge_vectorised(scores, targets, margin=1.0):\n"  # C iterations, each over the batch
              "    correct = scores.gather(1, targets[:, None]).squeeze(1)\n"
              "    out = torch.zeros(scores.shape[0], dtype=scores.dtype)\n"
              "    for j in range(scores.shape[1]):\n"
              "        out += torch.where(targets == j, 0.0, (scores[:, j] - correct + margin).clamp(min=0))\n"
              "    return out\n")


def solution(slug: str):
    return nbformat.read(ROOT / "solutions" / f"{slug}.ipynb", as_version=4)


def cell_index(nb, tag: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if tag in c.metadata.get("tags", []))


def answer(slug: str, name: str, source: str, *, before: str | None = None, after: str | None = None):
    """The solution notebook with ``name``'s cell replaced by ``source``; optional untagged cells."""
    nb = solution(slug)
    i = cell_index(nb, f"exercise:{name}")
    nb.cells[i].source = source
    if after is not None:
        nb.cells.insert(i + 1, nbformat.v4.new_code_cell(after))
    if before is not None:
        nb.cells.insert(i, nbformat.v4.new_code_cell(before))
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("notebooks")
    subs = base / "subs"
    subs.mkdir()

    def put(student: str, slug: str, nb) -> None:
        nbformat.write(nb, subs / f"{student}__{slug}.ipynb")

    put("helper", NB10, answer(NB10, "batch_hard_triplets", USES_HELPER, before=HELPER))
    put("helperbelow", NB10, answer(NB10, "batch_hard_triplets", USES_HELPER, after=HELPER))  # "Run All" order
    put("importcell", NB10, answer(NB10, "batch_hard_triplets", USES_IMPORT,
                                   before="from torch import cdist\n"))
    put("nohelper", NB10, answer(NB10, "batch_hard_triplets", USES_HELPER))  # NameError at every call
    raising = solution(NB02)
    raising.cells.insert(cell_index(raising, "exercise:hinge_gradient"),
                         nbformat.v4.new_code_cell("my_scratch = 1 / 0\n"))
    put("raisingcell", NB02, raising)
    hanging = solution(NB02)
    hanging.cells.insert(cell_index(hanging, "exercise:hinge_gradient"),
                         nbformat.v4.new_code_cell("while True:\n    pass\n"))
    put("hangingcell", NB02, hanging)
    in_check = solution(NB02)  # the answer written in the check cell instead: check cells never run
    loss_cell = cell_index(in_check, "exercise:hinge_loss")
    source = in_check.cells[loss_cell].source
    in_check.cells[loss_cell].source = "def hinge_loss(scores, targets, margin=1.0):\n    raise NotImplementedError()\n"
    check_cell = cell_index(in_check, "check:hinge_loss")
    in_check.cells[check_cell].source = source
    put("incheck", NB02, in_check)
    for student, source in [("rowloop", ROW_LOOP), ("listloop", LIST_LOOP), ("patchedclocks", PATCHED_CLOCKS),
                            ("subtract", SUBTRACT_MARGIN), ("scatter", SCATTER), ("classloop", CLASS_LOOP)]:
        put(student, NB05, answer(NB05, "multiclass_hinge_vectorised", source))
    put("solution05", NB05, solution(NB05))

    out = base / "grades.csv"
    settings = Settings(seed=4321, exercise_timeout=6.0, notebook_timeout=90.0)
    grade.run([subs], out=out, feedback=base / "feedback", jobs=2, settings=settings, progress=False, quiet=True)
    with open(out, newline="") as f:
        rows = {r["id"]: r for r in csv.DictReader(f)}
    feedback = {p.stem: p.read_text() for p in (base / "feedback").iterdir()}
    return rows, feedback


def label(row, name):
    return dict(part.split("=", 1) for part in row["detail"].split())[name]


@pytest.mark.slow
@pytest.mark.parametrize("student", ["helper", "helperbelow", "importcell"])
def test_a_helper_or_import_in_another_cell_scores_full_marks(graded, student):
    rows, _ = graded
    row = rows[student]
    assert (label(row, "batch_hard_triplets"), row["batch_hard_triplets"]) == ("pass", "3"), row


@pytest.mark.slow
def test_without_the_helper_the_answer_fails_with_the_name_error(graded):
    rows, feedback = graded
    assert rows["nohelper"]["batch_hard_triplets"] == "0", rows["nohelper"]
    assert "NameError" in feedback["nohelper"]


@pytest.mark.slow
def test_a_cell_that_raises_is_reported_and_grading_goes_on(graded):
    rows, feedback = graded
    row = rows["raisingcell"]
    assert row["total"] == row["max"] == "4", row
    assert "`my_scratch = 1 / 0`" in feedback["raisingcell"] and "ZeroDivisionError" in feedback["raisingcell"]


@pytest.mark.slow
def test_a_cell_that_hangs_is_skipped_and_reported(graded):
    rows, feedback = graded
    row = rows["hangingcell"]
    assert row["total"] == row["max"] == "4", row
    assert "did not finish within the time limit" in feedback["hangingcell"]


@pytest.mark.slow
def test_check_cells_never_run(graded):
    rows, _ = graded
    row = rows["incheck"]
    assert label(row, "hinge_loss") == "not-implemented+modified" and row["hinge_loss"] == "0", row


@pytest.mark.slow
@pytest.mark.parametrize("student", ["rowloop", "listloop", "patchedclocks"])
def test_a_loop_over_the_batch_is_rejected(graded, student):
    rows, feedback = graded
    row = rows[student]
    assert (label(row, "multiclass_hinge_vectorised"), row["multiclass_hinge_vectorised"]) == ("fail", "0"), row
    assert "too slow" in feedback[student] and "measured by the grader" in feedback[student]


@pytest.mark.slow
@pytest.mark.parametrize("student", ["solution05", "subtract", "scatter", "classloop"])
def test_vectorised_answers_pass_the_speed_case(graded, student):
    rows, _ = graded
    row = rows[student]
    assert row["total"] == row["max"] == "7", row


def test_student_check_rejects_the_loop_and_accepts_the_solution():
    exercise = checks.get("multiclass_hinge_vectorised")
    namespace: dict = {}
    exec("import torch\nimport torch.nn.functional as F\n" + ROW_LOOP, namespace)
    assert "vectorise it" in checks.speed_message(exercise, namespace["multiclass_hinge_vectorised"])
    exec(SCATTER, namespace)
    assert checks.speed_message(exercise, namespace["multiclass_hinge_vectorised"]) is None
