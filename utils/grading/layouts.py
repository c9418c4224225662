"""Submissions as learning platforms export them: whose file, which notebook, which one is the latest.

Introduced with the LMS integration (issue 15). ``collect(paths, layout="auto")`` walks the given files, folders
and ``.zip`` archives (extracted safely into a scratch folder, as downloaded) and returns one :class:`Entry` per
file. Layouts (``--layout``):

``canvas``      Canvas "Download Submissions": ``sortablename_[LATE_]userid_submissionid_original.ipynb``; the
                original name may carry Canvas's ``-1``, ``-2`` resubmission suffixes. Student id: the Canvas
                user id (the ``ID`` column of a Canvas gradebook export).
``moodle``      Moodle "Download all submissions": one folder per student,
                ``Full Name_123456_assignsubmission_file_/…``. Student id: the participant number (Moodle's
                grading worksheet identifies rows as ``Participant 123456``).
``gradescope``  a Gradescope "Export Submissions" folder: ``submission_<id>/…`` folders and
                ``submission_metadata.yml`` mapping each to its submitters (``:sid:``, ``:email:``, ``:name:``)
                and ``:created_at:``. Student id: the sid, else the email. A group submission gives one entry per
                submitter.
``nbgrader``    nbgrader's exchange: ``submitted/<student>/<assignment>/<notebook>.ipynb`` (``timestamp.txt``
                beside it orders resubmissions).
``flat``        the book's own rule: ``ID__exNN_slug.ipynb`` (the old ``ID__NN_slug.ipynb`` too).
``auto``        (default) each file is matched against the structures above, in this order: gradescope (a
                metadata file governs the folder), nbgrader, moodle, canvas, flat.

The notebook always comes from the file name the student kept, normalised: Canvas's ``-1`` and a browser's
`` (1)`` copies are dropped, then :func:`utils.checks.canonical_notebook` (``02_hinge_loss`` → ``ex02_hinge_loss``).
A file that fits no layout is still an entry (``student`` = its file name, ``notebook`` None): nothing is dropped.
Several entries of one student and notebook: :func:`mark_superseded` keeps the latest by the platform's own order
(submission id, resubmission suffix, timestamp), then the file's modification time.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

LAYOUTS = ("auto", "canvas", "moodle", "gradescope", "nbgrader", "flat")

CANVAS = re.compile(r"^(?P<sortable>[^_]+)_(?:(?P<late>LATE)_)?(?P<userid>\d+)_(?P<subid>\d+)_(?P<original>.+)$")
MOODLE_FOLDER = re.compile(r"^(?P<name>.+?)_(?P<pid>\d+)_assignsubmission_[a-z]+_?$")
FLAT = re.compile(r"^(?P<id>[A-Za-z0-9][A-Za-z0-9._@+-]*?)__(?P<notebook>(?:ex)?\d{2}_[A-Za-z0-9_]+)$")
COPY_SUFFIX = re.compile(r"(?:-(?P<canvas>\d+)| \((?P<browser>\d+)\))$")

#: Limits on an uploaded archive (a zip bomb must not fill the disk).
MAX_ZIP_MEMBERS = 20_000
MAX_ZIP_BYTES = 2 * 1024**3


class LayoutError(ValueError):
    """A layout was asked for explicitly and the files do not follow it, or an archive is unsafe."""


@dataclass
class Entry:
    """One submitted file: where it is, whose it is, which notebook it answers."""

    path: Path
    student: str
    notebook: str | None  # canonical exNN_slug, or None when no notebook name could be read
    kept_name: str  # the file's name as the student kept it (the platform's prefix removed)
    layout: str
    name: str = ""  # the student's display name, when the platform gives one
    email: str = ""
    late: bool = False
    order: tuple = ()  # the platform's own order of submissions; larger is later
    notes: list[str] = field(default_factory=list)
    source: str = ""  # where the instructor finds it: "archive.zip:member/path" for a file from an archive


# --------------------------------------------------------------------------- names
def notebook_from_name(filename: str) -> str:
    """The exercise notebook a kept file name answers: ``ex02_hinge_loss-1.ipynb`` → ``ex02_hinge_loss``.

    Drops the extension, Canvas's ``-N`` and a browser's `` (N)`` copy suffixes and an ``ID__`` prefix, then
    maps the old spelling ``02_hinge_loss`` to ``ex02_hinge_loss``. Unknown names come back normalised but
    otherwise unchanged (the caller decides they are unknown).
    """
    from utils.checks import canonical_notebook

    stem = filename.rsplit("/", 1)[-1]
    if "." in stem:
        stem = stem[: stem.rindex(".")]
    stem = COPY_SUFFIX.sub("", stem).strip()
    match = FLAT.match(stem)
    if match:
        stem = match["notebook"]
    return canonical_notebook(stem)


def _copy_number(filename: str) -> int:
    stem = filename[: filename.rindex(".")] if "." in filename else filename
    match = COPY_SUFFIX.search(stem)
    return int(match["canvas"] or match["browser"]) if match else 0


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


# --------------------------------------------------------------------------- archives
def extract_zip(archive: Path, into: Path) -> Path:
    """Extract ``archive`` under ``into`` safely; returns the folder. Raises :class:`LayoutError` when a member
    would land outside it (absolute path, ``..``, a symlink), or the archive is too large."""
    target = into / (archive.stem or "archive")
    target.mkdir(parents=True, exist_ok=True)
    root = target.resolve()
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            if len(members) > MAX_ZIP_MEMBERS:
                raise LayoutError(f"{archive.name}: {len(members)} files, more than {MAX_ZIP_MEMBERS}")
            if sum(m.file_size for m in members) > MAX_ZIP_BYTES:
                raise LayoutError(f"{archive.name}: more than {MAX_ZIP_BYTES >> 30} GB uncompressed")
            for m in members:
                name = m.filename.replace("\\", "/")
                if name.startswith("/") or ".." in name.split("/") or re.match(r"^[A-Za-z]:", name):
                    raise LayoutError(f"{archive.name}: unsafe member path {m.filename!r}")
                if (m.external_attr >> 16) & 0o170000 == 0o120000:
                    raise LayoutError(f"{archive.name}: symbolic link {m.filename!r} refused")
                dest = (root / name).resolve()
                if root not in dest.parents and dest != root:
                    raise LayoutError(f"{archive.name}: unsafe member path {m.filename!r}")
                if m.is_dir():
                    dest.mkdir(parents=True, exist_ok=True)
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(m) as src, open(dest, "wb") as out:
                    shutil.copyfileobj(src, out)
                stamp = datetime(*m.date_time).timestamp()
                os.utime(dest, (stamp, stamp))  # keep the archive's times: they order resubmissions
    except zipfile.BadZipFile:
        raise LayoutError(f"{archive.name}: not a readable zip archive") from None
    return target


# --------------------------------------------------------------------------- gradescope metadata
def read_gradescope_metadata(path: Path) -> dict[str, dict]:
    """``submission_metadata.yml`` → {folder: {"submitters": [{sid, email, name}], "created_at": str}}.

    Gradescope writes Ruby-flavoured YAML (``:submitters:``, ``:sid:``); keys lose their leading colon here.
    """
    import yaml

    def clean(value):
        if isinstance(value, dict):
            return {str(k).lstrip(":"): clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8", errors="replace"))
    except yaml.YAMLError as exc:
        raise LayoutError(f"{path}: not readable YAML ({type(exc).__name__})") from None
    if not isinstance(raw, dict):
        raise LayoutError(f"{path}: expected a mapping of submission folders")
    return {str(k).lstrip(":"): clean(v) for k, v in raw.items() if isinstance(v, dict)}


# --------------------------------------------------------------------------- classification
def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()
                  and not any(part.startswith(".") or part == "__MACOSX" for part in p.relative_to(folder).parts))


def _gradescope_entries(meta_file: Path) -> list[Entry]:
    meta = read_gradescope_metadata(meta_file)
    base = meta_file.parent
    entries = []
    for folder, info in meta.items():
        sub_dir = base / folder
        if not sub_dir.is_dir():
            continue
        submitters = [s for s in info.get("submitters") or [] if isinstance(s, dict)] or [{}]
        created = str(info.get("created_at") or "")
        for path in _files(sub_dir):
            if path.suffix != ".ipynb":
                continue
            for s in submitters:
                student = str(s.get("sid") or s.get("email") or folder)
                e = Entry(path, student, notebook_from_name(path.name), path.name, "gradescope",
                          name=str(s.get("name") or ""), email=str(s.get("email") or ""),
                          order=(created, _mtime(path)))
                if len(submitters) > 1:
                    e.notes.append(f"group submission {folder} ({len(submitters)} submitters)")
                entries.append(e)
    return entries


def _nbgrader_entry(path: Path) -> Entry | None:
    parts = path.parts
    if "submitted" not in parts[:-3] or path.suffix != ".ipynb":
        return None
    i = len(parts) - 1 - parts[::-1].index("submitted")
    if len(parts) - i != 4:  # submitted/<student>/<assignment>/<notebook>.ipynb
        return None
    student, _assignment = parts[i + 1], parts[i + 2]
    stamp_file = path.parent / "timestamp.txt"
    stamp = stamp_file.read_text(errors="replace").strip() if stamp_file.is_file() else ""
    return Entry(path, student, notebook_from_name(path.name), path.name, "nbgrader", order=(stamp, _mtime(path)))


def _moodle_entry(path: Path) -> Entry | None:
    for folder in path.parents:
        match = MOODLE_FOLDER.match(folder.name)
        if match:
            return Entry(path, match["pid"], notebook_from_name(path.name), path.name, "moodle",
                         name=match["name"], order=(_copy_number(path.name), _mtime(path)))
    return None


def _canvas_entry(path: Path) -> Entry | None:
    match = CANVAS.match(path.name)
    if not match:
        return None
    original = match["original"]
    return Entry(path, match["userid"], notebook_from_name(original), original, "canvas",
                 name=match["sortable"], late=bool(match["late"]),
                 order=(int(match["subid"]), _copy_number(original), _mtime(path)))


def _flat_entry(path: Path) -> Entry | None:
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    match = FLAT.match(stem)
    if not match:
        return None
    return Entry(path, match["id"], notebook_from_name(match["notebook"]), path.name, "flat",
                 order=(_mtime(path),))


def _unmatched(path: Path) -> Entry:
    return Entry(path, path.name, None, path.name, "none", order=(_mtime(path),))


CLASSIFIERS = {"nbgrader": _nbgrader_entry, "moodle": _moodle_entry, "canvas": _canvas_entry, "flat": _flat_entry}


def collect(paths: list[Path], layout: str = "auto", scratch: Path | None = None) -> list[Entry]:
    """One entry per submitted file under ``paths`` (files, folders, ``.zip`` archives), sorted by path.

    ``scratch`` receives extracted archives (a temporary folder when None; the caller removes it).
    Raises :class:`LayoutError` for an unknown layout or an unsafe archive.
    """
    if layout not in LAYOUTS:
        raise LayoutError(f"--layout must be one of {', '.join(LAYOUTS)}; got {layout!r}")
    scratch = scratch or Path(tempfile.mkdtemp(prefix="grade-archives-"))
    roots: list[Path] = []
    archives: dict[Path, str] = {}  # extracted folder -> the archive's name, to report files as archive:member
    for path in map(Path, paths):
        if path.is_file() and path.suffix.lower() == ".zip":
            folder = extract_zip(path, scratch / f"{len(roots):03d}")
            archives[folder.resolve()] = str(path)
            roots.append(folder)
        else:
            roots.append(path)
    entries: list[Entry] = []
    seen: set[str] = set()
    for root in roots:
        files = _files(root) if root.is_dir() else [root]
        # A zip inside a downloaded folder (a nested archive): extracted and walked too.
        nested = [f for f in files if f.suffix.lower() == ".zip"]
        for z in nested:
            files.remove(z)
            folder = extract_zip(z, scratch / f"n{len(seen):05d}_{len(archives)}")
            archives[folder.resolve()] = _source(z, archives)
            files += _files(folder)
        governed: set[str] = set()
        if layout in ("auto", "gradescope"):
            for meta in [f for f in files if f.name == "submission_metadata.yml"]:
                for e in _gradescope_entries(meta):
                    entries.append(e)
                    governed.add(str(e.path.resolve()))
                governed |= {str(f.resolve()) for f in files if meta.parent in f.parents}
        for f in files:
            key = str(f.resolve())
            if key in governed or key in seen:
                continue
            seen.add(key)
            if f.name in ("submission_metadata.yml", "timestamp.txt"):
                continue
            entry = None
            if layout == "auto":
                for classify in CLASSIFIERS.values():
                    entry = classify(f)
                    if entry:
                        break
            elif layout in CLASSIFIERS:
                entry = CLASSIFIERS[layout](f)
            if entry is None:
                entry = _unmatched(f)
                if layout not in ("auto", "gradescope"):
                    entry.notes.append(f"file does not follow the {layout} layout")
            entries.append(entry)
    for e in entries:
        e.source = _source(e.path, archives)
    return sorted(entries, key=lambda e: (str(e.path), e.student))


def _source(path: Path, archives: dict[Path, str]) -> str:
    """``archive.zip:member`` for a file extracted from an archive (the scratch folder is gone after the run)."""
    resolved = path.resolve()
    for folder, name in archives.items():
        if folder in resolved.parents:
            return f"{name}:{resolved.relative_to(folder).as_posix()}"
    return str(path)


def mark_superseded(entries: list[Entry], known: set[str]) -> dict[int, Entry]:
    """{index of a superseded entry: the entry that replaces it}: for each student and known notebook, every
    entry but the latest (by the platform's order)."""
    groups: dict[tuple[str, str], list[int]] = {}
    for i, e in enumerate(entries):
        if e.notebook in known:
            groups.setdefault((e.student, e.notebook), []).append(i)
    superseded = {}
    for indices in groups.values():
        if len(indices) > 1:
            ordered = sorted(indices, key=lambda i: (entries[i].order, str(entries[i].path)))
            for i in ordered[:-1]:
                superseded[i] = entries[ordered[-1]]
    return superseded
