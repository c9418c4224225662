"""Learning platforms in and out (issue 15): Canvas, Moodle, Gradescope and nbgrader exports of submissions,
zip archives as downloaded, the latest submission counting, gradebook exports the platforms import, written
answers marked by hand, and the Gradescope autograder run against a simulated /autograder folder."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from utils import grade
from utils.grading import exports, gradescope, layouts, submissions, written

ROOT = Path(__file__).resolve().parent.parent
SOLVED = ROOT / "solutions" / "ex02_hinge_loss.ipynb"
STUB = ROOT / "exercises" / "ex02_hinge_loss.ipynb"
KNOWN = {"ex02_hinge_loss", "ex03_gradient_behaviour"}


def put(path: Path, source: Path | bytes | str = SOLVED, mtime: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(source, Path):
        shutil.copyfile(source, path)
    else:
        path.write_bytes(source.encode() if isinstance(source, str) else source)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


# --------------------------------------------------------------------------- layouts, one by one
def test_canvas_names_late_and_resubmission_suffixes(tmp_path):
    put(tmp_path / "doejane_12345_900001_ex02_hinge_loss.ipynb")
    put(tmp_path / "smithjohn_LATE_12346_900002_ex02_hinge_loss.ipynb")
    put(tmp_path / "leeann_12347_900003_ex02_hinge_loss.ipynb")
    put(tmp_path / "leeann_12347_900010_ex02_hinge_loss-1.ipynb")  # a resubmission, later submission id
    put(tmp_path / "leeann_12347_900010_02_hinge_loss-2.ipynb")  # old name, same submission, later copy
    entries = layouts.collect([tmp_path])
    by_file = {e.path.name: e for e in entries}
    jane = by_file["doejane_12345_900001_ex02_hinge_loss.ipynb"]
    assert (jane.layout, jane.student, jane.notebook, jane.name, jane.late) == (
        "canvas", "12345", "ex02_hinge_loss", "doejane", False)
    assert by_file["smithjohn_LATE_12346_900002_ex02_hinge_loss.ipynb"].late
    replaced = layouts.mark_superseded(entries, KNOWN)
    superseded = sorted(entries[i].path.name for i in replaced)
    assert superseded == ["leeann_12347_900003_ex02_hinge_loss.ipynb", "leeann_12347_900010_ex02_hinge_loss-1.ipynb"]


def test_moodle_folders_with_spaces_and_accents(tmp_path):
    put(tmp_path / "José Núñez_123456_assignsubmission_file_" / "ex02_hinge_loss.ipynb")
    put(tmp_path / "Anna Smith-Jones_123457_assignsubmission_file_" / "02_hinge_loss (1).ipynb")
    put(tmp_path / "Anna Smith-Jones_123457_assignsubmission_file_" / "notes.txt", "my notes")
    entries = {e.path.name: e for e in layouts.collect([tmp_path], "moodle")}
    jose = entries["ex02_hinge_loss.ipynb"]
    assert (jose.layout, jose.student, jose.name, jose.notebook) == ("moodle", "123456", "José Núñez", "ex02_hinge_loss")
    anna = entries["02_hinge_loss (1).ipynb"]
    assert (anna.student, anna.notebook) == ("123457", "ex02_hinge_loss")
    assert entries["notes.txt"].notebook == "notes"  # kept as a row, unknown notebook downstream


def test_gradescope_export_with_metadata_and_a_group(tmp_path):
    put(tmp_path / "submission_111" / "ex02_hinge_loss.ipynb")
    put(tmp_path / "submission_222" / "hinge (1).ipynb")
    put(tmp_path / "submission_333" / "ex02_hinge_loss.ipynb")
    (tmp_path / "submission_metadata.yml").write_text(
        "submission_111:\n  :submitters:\n  - :name: Ada Lovelace\n    :sid: 'S001'\n    :email: ada@example.edu\n"
        "  :created_at: 2026-11-01 10:00:00.000000000 -04:00\n"
        "submission_222:\n  :submitters:\n  - :name: Bob\n    :sid: ''\n    :email: bob@example.edu\n"
        "  :created_at: 2026-11-01 11:00:00.000000000 -04:00\n"
        "submission_333:\n  :submitters:\n  - :name: Cy\n    :sid: S003\n    :email: cy@example.edu\n"
        "  - :name: Di\n    :sid: S004\n    :email: di@example.edu\n"
        "  :created_at: 2026-11-01 12:00:00.000000000 -04:00\n")
    entries = layouts.collect([tmp_path])
    got = sorted((e.layout, e.student, e.notebook, e.name) for e in entries)
    assert got == [("gradescope", "S001", "ex02_hinge_loss", "Ada Lovelace"),
                   ("gradescope", "S003", "ex02_hinge_loss", "Cy"),
                   ("gradescope", "S004", "ex02_hinge_loss", "Di"),
                   ("gradescope", "bob@example.edu", "hinge", "Bob")]
    assert all("group submission" in " ".join(e.notes) for e in entries if e.student in ("S003", "S004"))


def test_nbgrader_exchange_layout_orders_by_timestamp(tmp_path):
    put(tmp_path / "submitted" / "alice" / "ps1" / "ex02_hinge_loss.ipynb")
    (tmp_path / "submitted" / "alice" / "ps1" / "timestamp.txt").write_text("2026-11-02 09:00:00.000000 UTC")
    put(tmp_path / "submitted" / "bob" / "ps1" / "ex03_gradient_behaviour.ipynb")
    entries = layouts.collect([tmp_path], "auto")
    assert sorted((e.layout, e.student, e.notebook) for e in entries) == [
        ("nbgrader", "alice", "ex02_hinge_loss"), ("nbgrader", "bob", "ex03_gradient_behaviour")]


def test_flat_names_old_and_new_and_files_that_fit_nothing(tmp_path):
    put(tmp_path / "alice__ex02_hinge_loss.ipynb")
    put(tmp_path / "bob__02_hinge_loss.ipynb")
    put(tmp_path / "random name.ipynb")
    entries = {e.path.name: e for e in layouts.collect([tmp_path])}
    assert (entries["alice__ex02_hinge_loss.ipynb"].student, entries["alice__ex02_hinge_loss.ipynb"].notebook) == (
        "alice", "ex02_hinge_loss")
    assert entries["bob__02_hinge_loss.ipynb"].notebook == "ex02_hinge_loss"
    stray = entries["random name.ipynb"]
    assert (stray.layout, stray.notebook) == ("none", None)


def test_zip_as_downloaded_with_a_nested_folder(tmp_path):
    archive = tmp_path / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(SOLVED, "Margin losses 02/doejane_12345_900001_ex02_hinge_loss.ipynb")
        zf.write(SOLVED, "Margin losses 02/leeann_LATE_12347_900003_ex02_hinge_loss-1.ipynb")
    entries = layouts.collect([archive], scratch=tmp_path / "scratch")
    assert sorted((e.student, e.late) for e in entries) == [("12345", False), ("12347", True)]


@pytest.mark.parametrize("member", ["../evil.ipynb", "/etc/evil.ipynb", "a/../../evil.ipynb"])
def test_unsafe_zip_members_are_refused(tmp_path, member):
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(member, "{}")
    with pytest.raises(layouts.LayoutError, match="unsafe member path"):
        layouts.collect([archive], scratch=tmp_path / "scratch")
    assert not (tmp_path / "evil.ipynb").exists()


def test_unknown_layout_is_refused():
    with pytest.raises(layouts.LayoutError, match="--layout must be one of"):
        layouts.collect([ROOT], "blackboard")


# --------------------------------------------------------------------------- exports
ROWS = [
    {"id": "12345", "file": "a", "notebook": "ex02_hinge_loss", "status": "ok", "total": "4", "max": "4",
     "detail": "hinge_loss=pass hinge_gradient=pass", "hinge_loss": "2", "hinge_gradient": "2", "name": "doejane",
     "late": "", "layout": "canvas"},
    {"id": "12346", "file": "b", "notebook": "ex02_hinge_loss", "status": "ok", "total": "2.5", "max": "4",
     "detail": "hinge_loss=pass hinge_gradient=fail", "hinge_loss": "2", "hinge_gradient": "0.5",
     "name": "smithjohn", "late": "yes", "layout": "canvas"},
    {"id": "12346", "file": "c", "notebook": "ex02_hinge_loss", "status": "superseded", "total": "0", "max": "4",
     "detail": "", "name": "smithjohn", "late": "", "layout": "canvas"},
    {"id": "12347", "file": "d", "notebook": "ex03_gradient_behaviour", "status": "unreadable: not valid JSON",
     "total": "0", "max": "0", "detail": "", "name": "leeann", "late": "", "layout": "canvas"},
]

CANVAS_GRADEBOOK = (
    "\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,Margin losses 02 (5551),Quiz 1 (5552),Current Score\n"
    "    Points Possible,,,,,4,10,(read only)\n"
    '"Doe, Jane",12345,S1,jdoe,Sec A,,9,90\n'
    '"Smith, John",12346,S2,jsmith,Sec A,,8,80\n'
    '"Lee, Ann",12347,S3,alee,Sec B,,7,70\n'
    '"Absent, Al",12348,S4,aabs,Sec B,,6,60\n'
)


def test_canvas_export_fills_only_the_assignment_and_leaves_absent_students_empty(tmp_path):
    gradebook = tmp_path / "canvas.csv"
    gradebook.write_text(CANVAS_GRADEBOOK, encoding="utf-8")
    info = exports.canvas(ROWS, gradebook, tmp_path / "import.csv", "5551")
    rows = list(csv.reader(io.StringIO((tmp_path / "import.csv").read_text(encoding="utf-8"))))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Margin losses 02 (5551)"]
    assert rows[1][0].strip() == "Points Possible" and rows[1][-1] == "4"
    grades = {r[1]: r[-1] for r in rows[2:]}
    assert grades == {"12345": "4", "12346": "2.5", "12347": "0", "12348": ""}  # absent: empty, never 0
    assert float(grades["12346"]) == 2.5  # the superseded row adds nothing
    assert info["filled"] == 3 and info["unchanged"] == 1


def test_canvas_export_asks_which_column_when_ambiguous(tmp_path):
    gradebook = tmp_path / "canvas.csv"
    gradebook.write_text(CANVAS_GRADEBOOK, encoding="utf-8")
    with pytest.raises(exports.ExportError, match="Margin losses 02 \\(5551\\); Quiz 1 \\(5552\\)"):
        exports.canvas(ROWS, gradebook, tmp_path / "import.csv")
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    with pytest.raises(exports.ExportError, match="not a Canvas gradebook"):
        exports.canvas(ROWS, tmp_path / "x.csv", tmp_path / "import.csv", "5551")


def test_moodle_export_identifies_participants(tmp_path):
    exports.moodle(ROWS, tmp_path / "moodle.csv")
    rows = list(csv.DictReader(open(tmp_path / "moodle.csv", encoding="utf-8")))
    assert [r["Identifier"] for r in rows] == ["Participant 12345", "Participant 12346", "Participant 12347"]
    assert [float(r["Grade"]) for r in rows] == [4.0, 2.5, 0.0]
    assert rows[1]["Full name"] == "smithjohn" and rows[0]["Maximum Grade"] == "4"


def test_long_export_one_row_per_exercise(tmp_path):
    exports.long(ROWS, ["hinge_loss", "hinge_gradient"], tmp_path / "long.csv", maximum=lambda name: 2)
    rows = list(csv.DictReader(open(tmp_path / "long.csv", encoding="utf-8")))
    assert [(r["student"], r["exercise"], r["points"], r["status"]) for r in rows] == [
        ("12345", "hinge_loss", "2", "pass"), ("12345", "hinge_gradient", "2", "pass"),
        ("12346", "hinge_loss", "2", "pass"), ("12346", "hinge_gradient", "0.5", "fail")]
    assert set(rows[0]) == set(exports.LONG_COLUMNS)


# --------------------------------------------------------------------------- written answers
def _cell(kind, source, tags=()):
    return submissions.Cell(kind, source, list(tags))


def test_written_answers_collected_anonymised_and_merged(tmp_path):
    question = "*Your derivation (2 points, graded by hand):*\n\nYOUR ANSWER HERE"
    pristine = {"ex02_hinge_loss": [_cell("markdown", question, ["written:hinge_gradient"])]}
    subs = []
    for student, answer in (("12345", "*Your derivation:* d/ds max(0, 1 - ys) = -y inside"), ("12346", question)):
        sub = submissions.Submission(Path(f"{student}.ipynb"), student, "ex02_hinge_loss")
        sub.cells = [_cell("markdown", answer, ["written:hinge_gradient"])]
        subs.append(sub)
    counts = written.collect(subs, pristine, tmp_path / "written", anonymise=True, seed=3)
    assert counts == {"questions": 1, "rows": 2, "answered": 1}
    text = (tmp_path / "written" / "ex02_hinge_loss__hinge_gradient.md").read_text()
    assert "12345" not in text and "-y inside" in text and "*(not answered)*" in text
    manual = list(csv.DictReader(open(tmp_path / "written" / "manual.csv")))
    assert all(r["points"] == "" and r["max_points"] == "2" for r in manual)
    # the marker fills in points; merge adds them to the row that counts
    key = {r["answer"]: r["id"] for r in csv.DictReader(open(tmp_path / "written" / "manual_key.csv"))}
    for r in manual:
        r["points"] = "1.5" if key[r["answer"]] == "12345" else "0"
    with open(tmp_path / "written" / "manual.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=written.MANUAL_COLUMNS)
        w.writeheader()
        w.writerows(manual)
    from utils.grading import gradebook

    gradebook.write_csv(ROWS, ["hinge_loss", "hinge_gradient"], tmp_path / "grades.csv")
    rows = written.add_manual(tmp_path / "grades.csv", tmp_path / "written" / "manual.csv", tmp_path / "final.csv")
    final = {r["id"]: r for r in rows if r["status"] == "ok"}
    assert (final["12345"]["total"], final["12345"]["max"], final["12345"]["written:hinge_gradient"]) == ("5.5", "6", "1.5")
    assert final["12346"]["total"] == "2.5" and final["12346"]["max"] == "6"
    exports.long(rows, ["hinge_loss", "hinge_gradient", "written:hinge_gradient"], tmp_path / "long.csv",
                 maximum=lambda name: 2)
    longrows = [r for r in csv.DictReader(open(tmp_path / "long.csv")) if r["exercise"] == "written:hinge_gradient"]
    assert [(r["student"], r["points"], r["max_points"], r["status"]) for r in longrows] == [
        ("12345", "1.5", "2", "marked"), ("12346", "0", "2", "marked")]


def test_manual_points_outside_the_range_are_refused(tmp_path):
    (tmp_path / "manual.csv").write_text("answer,notebook,question,max_points,points,comment\n"
                                         "12345,ex02_hinge_loss,q,2,3,\n")
    with pytest.raises(ValueError, match="outside \\[0, 2\\]"):
        written.read_manual(tmp_path / "manual.csv")


def test_a_written_question_must_state_its_points():
    with pytest.raises(ValueError, match="does not state its points"):
        written.questions([_cell("markdown", "*Your derivation:*", ["written:q"])])


# --------------------------------------------------------------------------- end to end
@pytest.mark.slow
def test_canvas_download_graded_end_to_end_with_exports(tmp_path):
    """A realistic Canvas zip: late, resubmitted, unreadable, a stub, a file that fits nothing."""
    archive = tmp_path / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(SOLVED, "subs/doejane_12345_900001_ex02_hinge_loss.ipynb")
        zf.write(STUB, "subs/smithjohn_LATE_12346_900002_ex02_hinge_loss.ipynb")
        zf.write(STUB, "subs/leeann_12347_900003_ex02_hinge_loss.ipynb")
        zf.write(SOLVED, "subs/leeann_12347_900009_ex02_hinge_loss-1.ipynb")
        zf.writestr("subs/brokenbob_12349_900004_ex02_hinge_loss.ipynb", b"")
        zf.writestr("subs/readme.txt", "from the LMS")
    gradebook = tmp_path / "canvas.csv"
    gradebook.write_text(CANVAS_GRADEBOOK.replace("12348", "12349"), encoding="utf-8")
    out = tmp_path / "out" / "grades.csv"
    code = grade.main([str(archive), "--out", str(out), "--jobs", "2", "--no-progress", "--export", "canvas",
                       "--export", "moodle", "--export", "long", "--canvas-gradebook", str(gradebook),
                       "--canvas-assignment", "Margin losses 02"])
    assert code == 0
    rows = list(csv.DictReader(open(out, encoding="utf-8")))
    assert len(rows) == 6  # one row per file, nothing dropped
    by_file = {Path(r["file"]).name: r for r in rows}
    assert by_file["leeann_12347_900003_ex02_hinge_loss.ipynb"]["status"] == "superseded"
    assert by_file["leeann_12347_900009_ex02_hinge_loss-1.ipynb"]["total"] == by_file[
        "doejane_12345_900001_ex02_hinge_loss.ipynb"]["total"] == by_file[
        "doejane_12345_900001_ex02_hinge_loss.ipynb"]["max"]
    assert by_file["smithjohn_LATE_12346_900002_ex02_hinge_loss.ipynb"]["late"] == "yes"
    assert by_file["brokenbob_12349_900004_ex02_hinge_loss.ipynb"]["status"].startswith("unreadable")
    assert by_file["readme.txt"]["status"] == "invalid name"
    # the file column says where the instructor finds it: the archive and its member, not a deleted scratch copy
    assert by_file["readme.txt"]["file"] == f"{archive}:subs/readme.txt"
    canvas_rows = {r["ID"]: r for r in csv.DictReader(open(out.with_name("grades_canvas.csv"), encoding="utf-8"))}
    full = by_file["doejane_12345_900001_ex02_hinge_loss.ipynb"]["max"]
    assert canvas_rows["12345"]["Margin losses 02 (5551)"] == full
    assert canvas_rows["12347"]["Margin losses 02 (5551)"] == full  # the resubmission counts
    assert canvas_rows["12346"]["Margin losses 02 (5551)"] == "0"  # the stub: graded, 0 points
    assert canvas_rows["12349"]["Margin losses 02 (5551)"] == "0"  # unreadable file: graded as 0
    moodle = list(csv.DictReader(open(out.with_name("grades_moodle.csv"), encoding="utf-8")))
    assert {r["Identifier"] for r in moodle} == {"Participant 12345", "Participant 12346", "Participant 12347",
                                                  "Participant 12349"}  # readme.txt: no student
    assert out.with_name("grades_long.csv").exists()


@pytest.mark.slow
def test_gradescope_autograder_zip_runs_a_submission(tmp_path):
    archive = gradescope.build_zip(tmp_path / "autograder.zip", ["ex02_hinge_loss", "03_gradient_behaviour"])
    with zipfile.ZipFile(archive) as zf:
        names = set(zf.namelist())
        assert {"setup.sh", "run_autograder", "autograder.json", "book/requirements.txt",
                "book/utils/grade.py", "book/exercises/ex02_hinge_loss.ipynb"} <= names
        assert (zf.getinfo("run_autograder").external_attr >> 16) & 0o111
        zf.extractall(tmp_path / "autograder" / "source")
    root = tmp_path / "autograder"
    # a hostile file next to the honest notebook: it exits the process and tries to read the solutions
    hostile = json.loads(SOLVED.read_text())
    for cell in hostile["cells"]:
        if cell["cell_type"] == "code" and "exercise:hinge_loss" in cell["metadata"].get("tags", []):
            cell["source"] = "import os\nopen('/autograder/source/book/solutions/ex02_hinge_loss.py')\nos._exit(3)\n"
    put(root / "submission" / "ex02_hinge_loss.ipynb", json.dumps(hostile))
    put(root / "submission" / "notes.md", "hello")
    env = {**os.environ, "GRADESCOPE_ROOT": str(root), "PYTHON": sys.executable}
    proc = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads((root / "results" / "results.json").read_text())
    tests = {t["name"]: t for t in results["tests"]}
    assert set(tests) >= {"ex02_hinge_loss · hinge_loss", "ex03_gradient_behaviour · active_examples"}
    assert all({"name", "score", "max_score", "output", "visibility"} <= set(t) for t in results["tests"])
    assert tests["ex02_hinge_loss · hinge_loss"]["score"] == 0
    assert tests["ex02_hinge_loss · hinge_loss"]["output"].startswith(("error", "missing"))
    missing = [t for n, t in tests.items() if n.startswith("ex03_")]
    assert missing and all(t["score"] == 0 and t["output"].startswith("not submitted") for t in missing)
    assert "notes.md" in results["output"]


def test_the_exercise_notebooks_written_questions_state_their_points():
    """Every Markdown cell that asks for a written answer is tagged and says its points; the solutions answer it."""
    found = {}
    for nb in sorted((ROOT / "exercises").glob("ex*.ipynb")):
        cells = submissions.read_cells(nb.read_bytes())
        asks = [c for c in cells if c.kind == "markdown" and written.PLACEHOLDER in c.source]
        qs = written.questions(cells)
        assert len(asks) == len(qs), f"{nb.name}: a written-answer cell without a written:<question> tag"
        solved = submissions.read_cells((ROOT / "solutions" / nb.name).read_bytes())
        for q in qs:
            answer = written._answer(solved, q)
            assert answer and written.PLACEHOLDER not in answer, (nb.name, q)
        found.update({(nb.stem, q): p for q, (p, _) in qs.items()})
    assert found == {("ex02_hinge_loss", "hinge_gradient_derivation"): 1.0,
                     ("ex04_squared_hinge", "squared_hinge_gradient_derivation"): 1.0}


def test_an_ambiguous_canvas_gradebook_is_refused_before_any_grading(tmp_path, capsys):
    gradebook = tmp_path / "canvas.csv"
    gradebook.write_text(CANVAS_GRADEBOOK, encoding="utf-8")
    put(tmp_path / "subs" / "doejane_12345_900001_ex02_hinge_loss.ipynb")
    with pytest.raises(SystemExit) as exit_info:
        grade.main([str(tmp_path / "subs"), "--out", str(tmp_path / "grades.csv"), "--export", "canvas",
                    "--canvas-gradebook", str(gradebook), "--no-progress"])
    assert exit_info.value.code == 2
    assert "--canvas-assignment" in capsys.readouterr().err
    assert not (tmp_path / "grades.csv").exists()  # nothing was graded
