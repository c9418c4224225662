"""Submissions: which files, whose, for which notebook, and the cells the grader takes from them.

Naming rule: a submission is a file ``ID__NN_slug.ipynb`` — the student's id, two underscores, then
the name of the exercise notebook it answers (``alice__02_hinge_loss.ipynb``). Directories given on
the command line are searched recursively; every regular file found (hidden files and
``.ipynb_checkpoints`` aside) is a submission and gets exactly one row, whatever it contains.
Introduced with the grader (issue 7).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from utils.grading.sandbox import read_untrusted

NAME = re.compile(r"^(?P<id>[A-Za-z0-9][A-Za-z0-9._@+-]*?)__(?P<notebook>(?:ex)?\d{2}_[A-Za-z0-9_]+)$")
MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024


class Unreadable(Exception):
    """The file cannot be read as a notebook (the reason is shown to the student)."""


@dataclass
class Cell:
    kind: str
    source: str
    tags: list[str]


@dataclass
class Submission:
    path: Path
    id: str
    notebook: str | None  # None when the name does not parse
    status: str = "ok"  # "ok" | "invalid name" | "unreadable: ..." | "unknown notebook" | "superseded"
    cells: list[Cell] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Where the platform's export says it (utils.grading.layouts, issue 15):
    name: str = ""  # the student's display name
    late: bool = False  # the platform marked it late (Canvas's LATE_)
    layout: str = "flat"  # canvas | moodle | gradescope | nbgrader | flat | none
    source: str = ""  # what grades.csv shows as the file: "archive.zip:member" for a file from an archive


def discover(paths: list[Path]) -> list[Path]:
    """Every submission file under the given files and folders, once, sorted."""
    found: dict[str, Path] = {}
    for path in paths:
        path = Path(path)
        if path.is_dir():
            candidates = [p for p in path.rglob("*") if p.is_file()
                          and not any(part.startswith(".") for part in p.relative_to(path).parts)]
        else:
            candidates = [path]
        for p in candidates:
            found.setdefault(str(p.resolve()), p)
    return sorted(found.values(), key=lambda p: (p.name, str(p)))


def parse_name(path: Path) -> tuple[str, str | None]:
    """(id, notebook) from ``ID__NN_slug.ext``; (file stem, None) when the name does not follow the rule."""
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    match = NAME.match(stem)
    if not match:
        return path.name, None
    from utils.checks import canonical_notebook  # exNN_slug; NN_slug is the name before the rename

    return match["id"], canonical_notebook(match["notebook"])


def read_cells(data: bytes, notes: list[str] | None = None) -> list[Cell]:
    """Parse notebook bytes (nbformat 3 or 4) into cells; raises :class:`Unreadable`."""
    import nbformat

    if not data.strip():
        raise Unreadable("empty file (0 bytes)" if not data else "empty file (only whitespace)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
        if notes is not None:
            notes.append("non-UTF-8 bytes replaced")
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise Unreadable(f"not valid JSON ({type(exc).__name__})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("nbformat"), int):
        raise Unreadable("JSON, but not a notebook (no nbformat field)")
    try:
        if raw["nbformat"] != 4:
            raw = nbformat.convert(nbformat.from_dict(raw), 4)
    except Exception as exc:  # nbformat 1-2, or a broken old notebook
        raise Unreadable(f"nbformat {raw.get('nbformat')} cannot be converted ({type(exc).__name__})") from None
    cells_raw = raw.get("cells")
    if not isinstance(cells_raw, list):
        raise Unreadable("a notebook without a list of cells")
    cells = []
    for cell in cells_raw:
        if not isinstance(cell, dict):
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(s for s in source if isinstance(s, str))
        if not isinstance(source, str):
            continue
        metadata = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
        tags = metadata.get("tags") if isinstance(metadata.get("tags"), list) else []
        cells.append(Cell(str(cell.get("cell_type", "")), source, [t for t in tags if isinstance(t, str)]))
    return cells


def load(path: Path, known_notebooks: set[str], entry=None) -> Submission:
    """The submission at ``path``, with its status; never raises.

    ``entry`` (a :class:`utils.grading.layouts.Entry`) gives the student and notebook as the platform's export
    names them; without it, the file name must follow ``ID__exNN_slug.ipynb``."""
    if entry is not None:
        student, notebook = entry.student, entry.notebook
    else:
        student, notebook = parse_name(path)
    sub = Submission(path=path, id=student, notebook=notebook)
    if entry is not None:
        sub.name, sub.late, sub.layout, sub.source = entry.name, entry.late, entry.layout, entry.source
        sub.notes += entry.notes
        if entry.late:
            sub.notes.append("marked late by the platform")
    if notebook is None:
        sub.status = "invalid name"
        return sub
    if notebook not in known_notebooks:
        sub.status = "unknown notebook"
        return sub
    if path.suffix != ".ipynb":
        sub.status = f"unreadable: expected a .ipynb notebook, got {path.suffix or 'no extension'}"
        return sub
    data = read_untrusted(path, MAX_NOTEBOOK_BYTES)
    if data is None:
        sub.status = f"unreadable: not a regular file, or larger than {MAX_NOTEBOOK_BYTES >> 20} MB"
        return sub
    try:
        sub.cells = read_cells(data, sub.notes)
    except Unreadable as exc:
        sub.status = f"unreadable: {exc}"
    return sub


def tagged(cells: list[Cell], tag: str) -> list[Cell]:
    return [c for c in cells if c.kind == "code" and tag in c.tags]


def exercise_cells(cells: list[Cell], name: str, function: str) -> tuple[list[Cell], list[str]]:
    """The student's cells for one exercise, in notebook order, and notes about them.

    Cells tagged ``exercise:<name>``; if none, the last untagged code cell defining the function
    (tags are sometimes lost when a cell is copied).
    """
    found = tagged(cells, f"exercise:{name}")
    notes = []
    if len(found) > 1:
        notes.append(f"{len(found)} cells tagged exercise:{name} (all run in order; the last definition wins)")
    if not found:
        pattern = re.compile(rf"^\s*def\s+{re.escape(function)}\s*\(", re.MULTILINE)
        untagged = [c for c in cells if c.kind == "code" and not any(
            t.startswith(("exercise:", "check:")) for t in c.tags) and pattern.search(c.source)]
        if untagged:
            found = untagged[-1:]
            notes.append(f"no cell tagged exercise:{name}; graded the untagged cell defining {function}")
    return found, notes


def check_modified(cells: list[Cell], pristine: list[Cell], name: str) -> str | None:
    """Why the check cell of ``name`` counts as modified (None when it is intact)."""
    want = [c.source.strip() for c in tagged(pristine, f"check:{name}")]
    got = [c.source.strip() for c in tagged(cells, f"check:{name}")]
    if want and not got:
        return "check cell deleted"
    if any(g not in want for g in got):
        return "check cell edited"
    return None


def setup_cell(cells: list[Cell]) -> Cell | None:
    """The first code cell without an exercise/check tag (the imports cell)."""
    for cell in cells:
        if cell.kind == "code" and cell.source.strip() and not any(
                t.startswith(("exercise:", "check:")) for t in cell.tags):
            return cell
    return None
