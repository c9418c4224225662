"""Written answers, graded by hand: collected per question into one Markdown file, marked in ``manual.csv``,
added to the totals by ``python -m utils.grade merge --manual``.

Introduced with the LMS integration (issue 15). A written question is a Markdown cell tagged
``written:<question>`` in the exercise notebook; its text says the points, "(N points, graded by hand)". The
student writes the answer in that cell (replacing ``YOUR ANSWER HERE``). ``collect`` writes:

- ``<folder>/<notebook>__<question>.md``: the question, then every student's answer under a heading with the
  student's id (or an anonymous code ``A001``… with ``anonymise=True``; the key stays in ``manual_key.csv``);
- ``<folder>/manual.csv``: one row per (answer, question) with an EMPTY ``points`` column to fill in, and
  ``max_points``; a points value above the maximum or below 0 is refused at merge time;
- ``<folder>/manual_key.csv``: answer code → student id (keep it away from the markers when anonymising).
"""

from __future__ import annotations

import csv
import random
import re
from pathlib import Path

from utils.grading.gradebook import fmt, read_csv, write_csv

TAG = "written:"
POINTS = re.compile(r"\((\d+(?:\.\d+)?)\s+points?\b[^)]*graded by hand", re.IGNORECASE)
PLACEHOLDER = "YOUR ANSWER HERE"
MANUAL_COLUMNS = ["answer", "notebook", "question", "max_points", "points", "comment"]


def questions(pristine_cells) -> dict[str, tuple[float, str]]:
    """{question: (max points, statement)} from the pristine exercise notebook's tagged Markdown cells."""
    found = {}
    for cell in pristine_cells:
        for tag in cell.tags:
            if tag.startswith(TAG) and cell.kind == "markdown":
                match = POINTS.search(cell.source)
                if not match:
                    raise ValueError(f"written question {tag[len(TAG):]!r} does not state its points: write "
                                     f"'(N points, graded by hand)' in its cell")
                found[tag[len(TAG):]] = (float(match[1]), cell.source)
    return found


def _answer(cells, question: str) -> str | None:
    texts = [c.source for c in cells if c.kind == "markdown" and f"{TAG}{question}" in c.tags]
    if not texts:
        return None
    return "\n\n".join(texts)  # the whole cell: the prompt line stays, the student's text follows it


def collect(subs, pristine: dict[str, list], folder: Path, *, anonymise: bool = False, seed: int = 0) -> dict:
    """Write the answers of every counted submission (status ``ok``) per question; returns counts.

    ``subs``: :class:`utils.grading.submissions.Submission` objects (cells already read); ``pristine``:
    {notebook: cells of its pristine exercise notebook}.
    """
    folder.mkdir(parents=True, exist_ok=True)
    counted = [s for s in subs if s.status == "ok" and s.notebook in pristine]
    students = sorted({s.id for s in counted})
    codes = list(range(1, len(students) + 1))
    if anonymise:
        random.Random(seed).shuffle(codes)
    code_of = {st: (f"A{c:03d}" if anonymise else st) for st, c in zip(students, codes)}
    manual_rows, n_answers = [], 0
    for notebook in sorted({s.notebook for s in counted}):
        for question, (points, statement) in questions(pristine[notebook]).items():
            lines = [f"# {notebook} · {question} ({fmt(points)} points, graded by hand)", "",
                     "## The question", "", statement.strip(), ""]
            for sub in sorted((s for s in counted if s.notebook == notebook), key=lambda s: code_of[s.id]):
                answer = _answer(sub.cells, question)
                if answer is None:
                    body = "*(no answer cell: the tagged cell was deleted)*"
                elif answer.strip() == statement.strip() or PLACEHOLDER in answer:
                    body = "*(not answered)*"
                else:
                    body = answer.strip()
                    n_answers += 1
                lines += [f"## {code_of[sub.id]}", "", body, ""]
                manual_rows.append([code_of[sub.id], notebook, question, fmt(points), "", ""])
            (folder / f"{notebook}__{question}.md").write_text("\n".join(lines), encoding="utf-8")
    with open(folder / "manual.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(MANUAL_COLUMNS)
        w.writerows(manual_rows)
    with open(folder / "manual_key.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["answer", "id"])
        w.writerows(sorted((code_of[s], s) for s in students))
    return {"questions": len({(r[1], r[2]) for r in manual_rows}), "rows": len(manual_rows), "answered": n_answers}


def read_manual(manual: Path, key: Path | None = None) -> list[dict]:
    """Rows of a filled ``manual.csv`` with the student id resolved through ``manual_key.csv`` (found beside
    it when ``key`` is None). Raises ValueError on a points value that is not a number in [0, max_points]."""
    key = key or manual.with_name("manual_key.csv")
    with open(manual, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    ids = {}
    if key.exists():
        with open(key, newline="", encoding="utf-8") as f:
            ids = {r["answer"]: r["id"] for r in csv.DictReader(f)}
    out = []
    for i, r in enumerate(rows, start=2):
        missing = [c for c in ("answer", "notebook", "question", "max_points", "points") if c not in r]
        if missing:
            raise ValueError(f"{manual}: not a manual.csv written by the grader (missing columns {missing})")
        text = (r["points"] or "").strip().replace(",", ".")
        if text == "":
            continue  # not marked yet: adds nothing, and says so in the totals' notes
        try:
            points = float(text)
        except ValueError:
            raise ValueError(f"{manual}, line {i}: points {r['points']!r} is not a number") from None
        maximum = float(r["max_points"])
        if not 0 <= points <= maximum:
            raise ValueError(f"{manual}, line {i}: points {points} outside [0, {fmt(maximum)}] for {r['question']}")
        out.append({"id": ids.get(r["answer"], r["answer"]), "notebook": r["notebook"], "question": r["question"],
                    "points": points, "max": maximum})
    return out


def add_manual(grades: Path, manual: Path, out: Path, key: Path | None = None) -> list[dict[str, str]]:
    """``grades.csv`` + the hand marks of ``manual.csv`` → ``out``: one column ``written:<question>`` per question,
    added to ``total`` and ``max`` of the row of that student and notebook that counts."""
    rows, columns = read_csv(grades)
    marks = read_manual(manual, key)
    for m in marks:
        target = [r for r in rows if r["id"] == m["id"] and r["notebook"] == m["notebook"]
                  and r["status"] != "superseded"]
        if not target:
            raise ValueError(f"manual.csv marks {m['id']} / {m['notebook']}, which has no graded row in {grades}")
        r = target[0]
        col = f"written:{m['question']}"
        if col not in columns:
            columns.append(col)
        previous = float(r.get(col) or 0)
        r[col] = fmt(m["points"])
        r["total"] = fmt(float(r["total"] or 0) - previous + m["points"])
        if f" {col}=" not in f" {r.get('detail', '')}":
            r["max"] = fmt(float(r["max"] or 0) + m["max"])
            r["detail"] = (r.get("detail", "") + f" {col}=marked:{fmt(m['max'])}").strip()
    write_csv(rows, columns, out)
    return rows

