"""The Gradescope autograder: a zip Gradescope builds its image from, and the run that grades one submission.

Introduced with the LMS integration (issue 15).

``python -m utils.grade gradescope --out autograder.zip [--notebooks ex02_hinge_loss,ex03_gradient_behaviour]``
writes a zip holding:

- ``setup.sh``: installs the book's pinned requirements (Gradescope runs it once, when it builds the image);
- ``run_autograder``: grades the notebooks found in the submission folder and writes ``results/results.json``;
- ``autograder.json``: the notebooks this assignment expects;
- ``book/``: the book's library, exercise and solution notebooks, requirements (the zip is private to the
  instructor on Gradescope; inside the sandbox the solutions are hidden from the student's code, as always).

At grading time Gradescope puts the student's files in ``/autograder/submission`` (any names: the notebook is
recognised from the file name the student kept, ``ex02_hinge_loss.ipynb``, ``02_hinge_loss (1).ipynb``...).
``results.json`` holds one test per exercise of every expected notebook: ``name``, ``score``, ``max_score``,
``output`` (the same feedback text as ``feedback/ID.md``) and ``visibility``; an expected notebook that was not
submitted gives its exercises 0 with "not submitted". ``GRADESCOPE_ROOT`` replaces ``/autograder`` (tests).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_ROOT = "/autograder"

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder image (Ubuntu, as root).
set -euo pipefail
apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv python3-pip
python3 -m venv /autograder/venv
cd /autograder/source/book
/autograder/venv/bin/pip install -q -r requirements.txt
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission; it writes $ROOT/results/results.json.
set -uo pipefail
ROOT="${GRADESCOPE_ROOT:-/autograder}"
PYTHON="${PYTHON:-$ROOT/venv/bin/python}"
cd "$ROOT/source/book"
exec "$PYTHON" -m utils.grade gradescope-run --root "$ROOT"
"""

BOOK_FILES = ["requirements.txt", "pyproject.toml", "README.md"]
BOOK_DIRS = ["utils", "exercises", "solutions"]


def build_zip(out: Path, notebooks: list[str] | None = None, root: Path = ROOT) -> Path:
    """Write the autograder zip for ``notebooks`` (canonical ``exNN_slug`` names; default: every exercise
    notebook). Raises ValueError for a notebook the book does not have."""
    from utils.checks import canonical_notebook

    available = sorted(p.stem for p in (root / "exercises").glob("ex*.ipynb"))
    wanted = [canonical_notebook(n) for n in (notebooks or available)]
    unknown = [n for n in wanted if n not in available]
    if unknown:
        raise ValueError(f"unknown notebook(s) {unknown}; the book's exercise notebooks: {', '.join(available)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        def add_text(name, text, mode=0o644):
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, text)

        add_text("setup.sh", SETUP_SH, 0o755)
        add_text("run_autograder", RUN_AUTOGRADER, 0o755)
        add_text("autograder.json", json.dumps({"notebooks": wanted}, indent=2) + "\n")
        for name in BOOK_FILES:
            zf.write(root / name, f"book/{name}")
        for folder in BOOK_DIRS:
            for path in sorted((root / folder).rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                    zf.write(path, f"book/{path.relative_to(root)}")
    return out


def _config(root: Path) -> list[str]:
    for candidate in (root / "source" / "autograder.json", ROOT.parent / "autograder.json"):
        if candidate.is_file():
            return list(json.loads(candidate.read_text())["notebooks"])
    return sorted(p.stem for p in (ROOT / "exercises").glob("ex*.ipynb"))


def run(root: Path, jobs: int = 1) -> dict:
    """Grade ``root/submission`` and write ``root/results/results.json``; returns the results dict."""
    from utils import checks, grade
    from utils.grading import layouts

    expected = _config(root)
    submission = root / "submission"
    results_dir = root / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    tests: list[dict] = []
    notes: list[str] = []
    found: dict[str, Path] = {}
    files = sorted(p for p in submission.rglob("*") if p.is_file()) if submission.is_dir() else []
    for path in files:
        notebook = layouts.notebook_from_name(path.name)
        if notebook in expected and path.suffix == ".ipynb":
            if notebook in found:
                notes.append(f"{path.name}: another copy of {notebook} ({found[notebook].name}) was graded")
                continue
            found[notebook] = path
        else:
            notes.append(f"{path.name}: not one of the expected notebooks ({', '.join(expected)}); not graded")
    registry = checks.registry()
    graded: dict[str, object] = {}
    if found:
        with tempfile.TemporaryDirectory(prefix="gradescope-") as tmp:
            folder = Path(tmp) / "subs"
            folder.mkdir()
            for notebook, path in found.items():
                shutil.copyfile(path, folder / f"student__{notebook}.ipynb")
            _, results = grade.run([folder], out=Path(tmp) / "grades.csv", jobs=jobs, progress=False, quiet=True,
                                   layout="flat")
            graded = {r.sub.notebook: r for r in results}
    for notebook in expected:
        exercises = [e for e in registry.values() if e.notebook == notebook]
        result = graded.get(notebook)
        if result is None or not getattr(result, "exercises", None):
            why = ("not submitted: upload " + f"{notebook}.ipynb" if result is None
                   else f"not graded: {result.sub.status}")
            for e in exercises:
                tests.append({"name": f"{notebook} · {e.name}", "score": 0.0, "max_score": float(e.points),
                              "output": why, "visibility": "visible"})
            continue
        for e in result.exercises:
            tests.append({"name": f"{notebook} · {e.name}", "score": float(e.points), "max_score": float(e.max_points),
                          "output": f"{e.status}: {e.feedback}".strip(), "visibility": "visible"})
    payload = {"tests": tests, "visibility": "visible",
               "output": "\n".join(notes) if notes else "Graded by the book's grader (hidden cases, sandboxed)."}
    tmp_file = results_dir / "results.json.tmp"
    tmp_file.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    os.replace(tmp_file, results_dir / "results.json")
    return payload
