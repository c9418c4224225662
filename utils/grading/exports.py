"""Grades out, as learning platforms import them: Canvas, Moodle, and a long CSV for spreadsheets and pandas.

Introduced with the LMS integration (issue 15). Every export is computed from ``grades.csv`` rows (so it works
on a merged, shard-graded or hand-marked gradebook too):

- a student's grade is the sum of the ``total`` of their rows that count (not ``superseded``, ``invalid name`` or
  ``unknown notebook``), over every notebook graded; hand-marked written answers are in those totals once ``merge --manual`` added them;
- a student with no submission keeps an EMPTY cell (Canvas) or no row (Moodle): never a 0 nobody decided;
- numbers are plain decimals with a dot (``7.5``), as both platforms parse them.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from collections import OrderedDict
from pathlib import Path

from utils.grading.gradebook import fmt

EXPORTS = ("canvas", "moodle", "long")
CANVAS_ID_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
CANVAS_ASSIGNMENT = re.compile(r"^.+\(\d+\)$")  # "Margin losses 02 (123456)"


class ExportError(ValueError):
    """The export cannot be written as asked (what is wrong and how to fix it is in the message)."""


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".export-", suffix=".csv", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    os.replace(tmp, path)


#: Rows that give no grade: an older copy, a file no student or notebook can be read from. (An unreadable
#: notebook of a known student does count: it was graded, with 0 points.)
NOT_COUNTED = ("superseded", "invalid name", "unknown notebook")


def counted(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [r for r in rows if r.get("status") not in NOT_COUNTED]


def student_totals(rows: list[dict[str, str]]) -> "OrderedDict[str, tuple[float, float]]":
    """{student id: (points, maximum)} over the rows that count, in id order."""
    totals: dict[str, list[float]] = {}
    for r in counted(rows):
        t = totals.setdefault(r["id"], [0.0, 0.0])
        t[0] += float(r.get("total") or 0)
        t[1] += float(r.get("max") or 0)
    return OrderedDict((k, (v[0], v[1])) for k, v in sorted(totals.items()))


# --------------------------------------------------------------------------- canvas
def canvas_column(gradebook: Path, assignment: str | None = None) -> tuple[list[list[str]], str]:
    """The gradebook's rows and the one assignment column to fill; raises :class:`ExportError` (called before
    grading too, so a wrong gradebook or an ambiguous column is reported before any work is done)."""
    try:
        text = gradebook.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ExportError(f"cannot read the Canvas gradebook {gradebook}: {exc}") from None
    table = [row for row in csv.reader(io.StringIO(text))]
    if not table or any(c not in table[0] for c in ("Student", "ID")):
        raise ExportError(f"{gradebook}: not a Canvas gradebook export (expected columns Student, ID, ...). "
                          "Fix: in Canvas, Grades > Export > Export Entire Gradebook.")
    header = table[0]
    candidates = [h for h in header if CANVAS_ASSIGNMENT.match(h) and h not in CANVAS_ID_COLUMNS]
    if assignment:
        chosen = [h for h in candidates if h == assignment] or [h for h in candidates if assignment in h]
    else:
        chosen = candidates
    if len(chosen) != 1:
        listing = "; ".join(candidates) or "none"
        raise ExportError(f"cannot tell which assignment column to fill ({len(chosen)} match"
                          f"{'es' if len(chosen) != 1 else ''}); the gradebook's assignment columns: {listing}. "
                          "Fix: pass --canvas-assignment with the column's name or its id.")
    return table, chosen[0]


def canvas(rows: list[dict[str, str]], gradebook: Path, out: Path, assignment: str | None = None) -> dict:
    """Fill the instructor's exported Canvas gradebook (``gradebook``) and write an importable copy to ``out``.

    The copy keeps Canvas's identifying columns (Student, ID, SIS User ID, SIS Login ID, Section), the
    "Points Possible" row if present, and the one assignment column, matched by ``assignment`` (its full header,
    or a unique part of it such as the numeric id); without ``assignment`` the gradebook must hold exactly one
    assignment column. Students are matched on Canvas's ``ID`` (the user id in the download's file names).
    Returns counts: filled, unchanged (no submission), unknown (graded but not in the gradebook).
    """
    table, column = canvas_column(gradebook, assignment)
    header = table[0]
    keep = [h for h in CANVAS_ID_COLUMNS if h in header] + [column]
    index = {h: header.index(h) for h in keep}
    totals = student_totals(rows)
    filled = unchanged = 0
    seen = set()
    out_rows = [keep]
    for row in table[1:]:
        row = row + [""] * (len(header) - len(row))
        new = [row[index[h]] for h in keep]
        student_id = row[index["ID"]].strip()
        if row[index["Student"]].strip() in ("Points Possible",) or not student_id:
            out_rows.append(new)  # Canvas's own rows (Points Possible, Muted...) stay as they are
            continue
        if student_id in totals:
            new[-1] = fmt(totals[student_id][0])
            filled += 1
            seen.add(student_id)
        else:
            unchanged += 1  # no submission: the cell keeps whatever Canvas had (empty), never a made-up 0
        out_rows.append(new)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(out_rows)
    _write(out, buf.getvalue())
    return {"column": column, "filled": filled, "unchanged": unchanged,
            "unknown": sorted(set(totals) - seen)}


# --------------------------------------------------------------------------- moodle
def moodle(rows: list[dict[str, str]], out: Path) -> dict:
    """Moodle's offline grading worksheet format: ``Identifier`` ("Participant 123456"), ``Full name``,
    ``Grade``, ``Maximum Grade``; one row per student with a submission (students without one are absent, so
    Moodle leaves their grade alone). Upload it in the assignment: Grading action > Upload grading worksheet."""
    totals = student_totals(rows)
    names = {r["id"]: r.get("name", "") for r in counted(rows)}
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["Identifier", "Full name", "Grade", "Maximum Grade"])
    for student, (points, maximum) in totals.items():
        ident = f"Participant {student}" if student.isdigit() else student
        w.writerow([ident, names.get(student, ""), fmt(points), fmt(maximum)])
    _write(out, buf.getvalue())
    return {"rows": len(totals)}


# --------------------------------------------------------------------------- long format
LONG_COLUMNS = ["student", "name", "notebook", "exercise", "points", "max_points", "status", "file", "layout"]


def long(rows: list[dict[str, str]], exercise_columns: list[str], out: Path, maximum=None) -> dict:
    """One row per (submission, exercise): student, name, notebook, exercise, points, max_points, status, file,
    layout. Superseded submissions are included with status ``superseded`` (filter them out in pandas with
    ``df[df.status != "superseded"]``); written questions marked by hand appear as exercises ``written:<q>``."""
    from utils.grading.gradebook import _max_of

    maximum = maximum or _max_of
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(LONG_COLUMNS)
    n = 0
    for r in sorted(rows, key=lambda r: (r["id"], r.get("notebook", ""), r.get("file", ""))):
        labels = dict(part.partition("=")[::2] for part in r.get("detail", "").split())
        for name in exercise_columns:
            if name not in labels and r.get(name, "") == "":
                continue
            label, _, max_text = labels.get(name, "").partition(":")  # "marked:2" for a hand-marked question
            status = "superseded" if r.get("status") == "superseded" else label.split("+")[0]
            top = float(max_text) if max_text else maximum(name)
            w.writerow([r["id"], r.get("name", ""), r.get("notebook", ""), name, r.get(name, "") or "0",
                        fmt(top), status or "marked", r.get("file", ""), r.get("layout", "")])
            n += 1
    _write(out, buf.getvalue())
    return {"rows": n}
