"""The outputs: grades.csv (one row per submission file), feedback/ID.md, the summary, and shard merging.

Introduced with the grader (issue 7).
"""

from __future__ import annotations

import csv
import os
import re
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

from utils.grading.runner import SubmissionResult

FIXED_HEAD = ["id", "file", "notebook", "status"]
FIXED_TAIL = ["total", "max", "detail", "notes", "seed"]
#: Written after FIXED_TAIL when known (issue 15); optional when a grades.csv is read back.
PLATFORM = ["name", "late", "layout"]


def fmt(points: float) -> str:
    return f"{points:.2f}".rstrip("0").rstrip(".") if points else "0"


def row_for(result: SubmissionResult, seed: int) -> dict[str, str]:
    sub = result.sub
    row = {"id": sub.id, "file": sub.source or str(sub.path), "notebook": sub.notebook or "", "status": sub.status,
           "total": fmt(result.total), "max": str(result.max_points), "seed": str(seed),
           "detail": " ".join(f"{e.name}={e.label}" for e in result.exercises),
           "notes": "; ".join(result.notes),
           "name": sub.name, "late": "yes" if sub.late else "", "layout": sub.layout}
    for e in result.exercises:
        row[e.name] = fmt(e.points)
    return row


def _safe_cell(value: str) -> str:
    """No spreadsheet formulas from student-controlled text (file names, ids)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def write_csv(rows: list[dict[str, str]], exercise_columns: list[str], path: Path) -> None:
    """Atomically (write then rename), sorted by id and file."""
    columns = FIXED_HEAD + exercise_columns + FIXED_TAIL + PLATFORM
    rows = sorted(rows, key=lambda r: (r["id"], r["notebook"], r["file"]))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".grades-", suffix=".csv", dir=path.parent)
    with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _safe_cell(row.get(k, "")) if k in ("id", "file", "name") else row.get(k, "")
                             for k in columns})
    os.replace(tmp, path)


def read_csv(path: Path) -> tuple[list[dict[str, str]], list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        columns = list(reader.fieldnames or [])
        rows = list(reader)
    missing = [c for c in FIXED_HEAD + FIXED_TAIL if c not in columns]
    if missing:
        raise ValueError(f"{path}: not a grades.csv written by the grader (missing columns {missing})")
    return rows, [c for c in columns if c not in FIXED_HEAD + FIXED_TAIL + PLATFORM]


def merge(inputs: list[Path], out: Path) -> list[dict[str, str]]:
    """Concatenate shard CSVs; refuses shards graded with different seeds or the same file twice."""
    rows, columns, seeds, seen = [], [], set(), {}
    for path in inputs:
        shard_rows, shard_columns = read_csv(path)
        columns += [c for c in shard_columns if c not in columns]
        for row in shard_rows:
            if row["file"] in seen:
                raise ValueError(f"{row['file']} is graded in both {seen[row['file']]} and {path}")
            seen[row["file"]] = path
            if row["seed"]:
                seeds.add(row["seed"])
            rows.append(row)
    if len(seeds) > 1:
        raise ValueError(f"the shards were graded with different seeds: {sorted(seeds)}")
    write_csv(rows, columns, out)
    return rows


def feedback_name(student: str) -> str:
    return re.sub(r"[^A-Za-z0-9._@+-]", "_", student)[:120] or "_"


def write_feedback(results: list[SubmissionResult], folder: Path) -> None:
    """feedback/ID.md per student: per notebook and exercise, the status and the hint."""
    folder.mkdir(parents=True, exist_ok=True)
    by_student: dict[str, list[SubmissionResult]] = defaultdict(list)
    for r in results:
        by_student[r.sub.id].append(r)
    for student, items in by_student.items():
        lines = [f"# Feedback for {student}", ""]
        for r in sorted(items, key=lambda r: (r.sub.notebook or "", r.sub.path.name)):
            title = r.sub.notebook or r.sub.path.name
            lines.append(f"## {title} — {fmt(r.total)} / {r.max_points} points")
            lines.append("")
            lines.append(f"File: `{r.sub.path.name}`")
            lines.append("")
            if r.sub.status != "ok":
                lines.append(f"**Not graded: {r.sub.status}.** " + {
                    "invalid name": "Name the file `ID__NN_slug.ipynb` (e.g. `alice__02_hinge_loss.ipynb`).",
                    "unknown notebook": "The part after `__` must be the name of an exercise notebook.",
                    "superseded": "A later submission of this notebook was graded instead.",
                }.get(r.sub.status, "Submit the .ipynb file saved by Jupyter."))
                lines.append("")
                continue
            for e in r.exercises:
                extra = ""
                if "modified" in e.flags:
                    extra = " *(Your check cell was edited or deleted; the original checks were used.)*"
                lines.append(f"- **{e.name}** — {e.status}, {fmt(e.points)} / {e.max_points}: {e.feedback}{extra}")
            for note in r.notes:
                lines.append(f"- note: {note}")
            lines.append("")
        (folder / f"{feedback_name(student)}.md").write_text("\n".join(lines), encoding="utf-8")


def summary(rows: list[dict[str, str]], exercise_columns: list[str]) -> str:
    """Mean and distribution of the points, and the statuses, per exercise; then per file status."""
    out = [f"{len(rows)} submission(s)"]
    statuses = Counter(r["status"].split(":")[0] for r in rows)
    out.append("  files: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
    labels: dict[str, Counter] = defaultdict(Counter)
    for r in rows:
        for part in r.get("detail", "").split():
            name, _, label = part.partition("=")
            labels[name][label.split("+")[0]] += 1
    for name in exercise_columns:
        values = [float(r[name]) for r in rows if r.get(name, "") != ""]
        if not values:
            continue
        full = _max_of(name) or max(values) or 1.0
        buckets = Counter("0" if v == 0 else "full" if v >= full else ">=half" if v >= full / 2 else "<half"
                          for v in values)
        dist = ", ".join(f"{k} {buckets[k]}" for k in ("0", "<half", ">=half", "full") if buckets[k])
        stat = ", ".join(f"{k} {v}" for k, v in labels[name].most_common())
        out.append(f"  {name} (max {fmt(full)}): n={len(values)} mean {sum(values) / len(values):.2f} | "
                   f"points {dist} | {stat}")
    totals = [float(r["total"]) for r in rows if r["status"] == "ok"]
    if totals:
        out.append(f"  total (graded files): mean {sum(totals) / len(totals):.2f}")
    return "\n".join(out)


def _max_of(name: str) -> float:
    from utils import checks

    exercise = checks.registry().get(name)
    return float(exercise.points) if exercise else 0.0
