"""Grader: one sandbox cannot reach another (issue 13).

A hostile notebook whose first cell sends SIGKILL to every process it may signal
(``os.kill(-1, SIGKILL)``, in a loop) is graded in parallel with honest copies of the solution. Before
each slot had a uid of its own, every sandbox ran as ``nobody`` and the signal reached the neighbours:
an honest student lost points in about 1 run of 4. Root only (without root there is no uid to drop to:
the signal would reach the grader itself, which is why the README asks for a container).
"""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import pytest

from utils import checks, grade
from utils.grading.runner import Settings

ROOT = Path(__file__).resolve().parent.parent
SLUG = checks.get("hinge_loss").notebook
ATTACK = ("import os, signal\n"
          "while True:\n"
          "    try:\n"
          "        os.kill(-1, signal.SIGKILL)\n"
          "    except Exception:\n"
          "        pass\n")
# The same loop in a daemon that leaves the sandbox's session (so killing the session misses it) and
# outlives the notebook: only killing every process of the slot's uid stops it.
DAEMON = ("import os, signal\n"
          "if os.fork() == 0:\n"
          "    os.setsid()\n"
          "    if os.fork() == 0:\n"
          "        while True:\n"
          "            try:\n"
          "                os.kill(-1, signal.SIGKILL)\n"
          "            except Exception:\n"
          "                pass\n"
          "    os._exit(0)\n")

root_only = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                               reason="needs root: the sandbox drops to a uid per slot only when the grader "
                                      "runs as root (otherwise kill(-1) would reach the grader itself)")


def attacker(path: Path, source: str = ATTACK) -> None:
    import nbformat

    nb = nbformat.read(ROOT / "solutions" / f"{SLUG}.ipynb", as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    nb.cells.insert(nb.cells.index(first), nbformat.v4.new_code_cell(source))
    nbformat.write(nb, path)


def grade_class(folder: Path, out: Path) -> dict[str, dict[str, str]]:
    settings = Settings(seed=7, exercise_timeout=3.0, notebook_timeout=40.0)
    grade.run([folder], out=out, jobs=2, settings=settings, progress=False, quiet=True)
    with open(out, newline="") as f:
        return {r["id"]: r for r in csv.DictReader(f)}


@root_only
@pytest.mark.slow
@pytest.mark.parametrize("run", range(3))
def test_kill_minus_one_never_costs_an_honest_student_a_point(tmp_path, run):
    folder = tmp_path / "subs"
    folder.mkdir()
    for i in range(8):
        shutil.copyfile(ROOT / "solutions" / f"{SLUG}.ipynb", folder / f"honest{i}__{SLUG}.ipynb")
    for i in range(3):  # sorted between the honest ones, so they run alongside them
        attacker(folder / f"honest{i}x__{SLUG}.ipynb")
    attacker(folder / f"honest4d__{SLUG}.ipynb", DAEMON)  # honest5.. run after it in the same slot
    rows = grade_class(folder, tmp_path / "grades.csv")
    assert len(rows) == 12
    for i in range(8):
        row = rows[f"honest{i}"]
        assert row["total"] == row["max"] == "4", row
    for i in range(3):
        # The attacker's own answers are correct: its looping cell is skipped after the per-cell timeout.
        row = rows[f"honest{i}x"]
        assert row["total"] == "4" and "did not finish" in row["notes"], row


@root_only
def test_each_slot_gets_its_own_unused_uid():
    from utils.grading.sandbox import Isolation, _uids_in_use

    first, second = Isolation.detect([], slots=2), Isolation.detect([], slots=2)
    try:
        uids = first.uids + second.uids
        assert len(uids) == len(set(uids)) == 4, uids  # two runs at once never share a uid
        assert not set(uids) & _uids_in_use()
        assert first.slot_ids(0) != first.slot_ids(1)
    finally:
        first.release()
        second.release()
    again = Isolation.detect([], slots=1)
    again.release()
    assert again.uids == first.uids[:1]  # released uids are free again


@pytest.mark.slow
def test_without_root_the_grader_still_grades(tmp_path, monkeypatch):
    """The path a laptop takes (no uid to drop to, no namespace): honest work keeps its marks, a crash is
    charged to its exercise. As root, this test pretends not to be."""
    import nbformat

    from utils.grading import sandbox

    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert sandbox.Isolation.detect([], slots=2).uids == []
    folder = tmp_path / "subs"
    folder.mkdir()
    shutil.copyfile(ROOT / "solutions" / f"{SLUG}.ipynb", folder / f"honest__{SLUG}.ipynb")
    nb = nbformat.read(ROOT / "solutions" / f"{SLUG}.ipynb", as_version=4)
    cell = next(c for c in nb.cells if "exercise:hinge_gradient" in c.metadata.get("tags", []))
    cell.source = "import ctypes\nctypes.string_at(0)\n" + cell.source
    nbformat.write(nb, folder / f"segfault__{SLUG}.ipynb")
    rows = grade_class(folder, tmp_path / "grades.csv")
    assert rows["honest"]["total"] == "4", rows["honest"]
    assert (rows["segfault"]["hinge_loss"], rows["segfault"]["hinge_gradient"]) == ("2", "0"), rows["segfault"]
    assert "SIGSEGV" in rows["segfault"]["notes"] or "segmentation" in rows["segfault"]["notes"], rows["segfault"]
