"""Every link and every cited file name in the book resolves, in the repository and in the student bundle.

A reader follows a Markdown link or looks for a file the text names (`exercises/ex02_hinge_loss.ipynb`,
`utils/losses.py`). Both must exist where the reader is: in the repository for the repository's pages,
and in the student bundle (`python -m utils.book release`, which ships no solutions, tests or instructor
pages) for what the bundle holds. The guidance written for the book's builders — ORACLES.md, DESIGN.md,
the seed chapter text — is not part of the book and must not be cited anywhere in it: what a reader needs
is in REFERENCES.md, in our own words.

Checked documents: the repository's `*.md`, and the Markdown and code cells of `chapters/*.ipynb` and
`exercises/*.ipynb`; in the bundle, the same notebooks, its README (STUDENTS.md) and REFERENCES.md.
Links: inline Markdown links and images (`[text](target)`), and HTML `href`/`src`; web addresses are not
fetched. An anchor (`REFERENCES.md#claims`) must name a heading of the target page. Cited names: any
word that looks like a file path with a known extension; it resolves if it exists relative to the
document, to the book's root, or (a bare name such as `losses.py`) anywhere in the book.
"""

import json
import re
import subprocess
from functools import lru_cache
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

import pytest

from utils import book

ROOT = Path(__file__).resolve().parent.parent

# Files the book may name although they are no file of it: outputs of the commands it documents, and the
# batch script an instructor writes in GRADING.md's Slurm example.
COMMAND_OUTPUTS = {"grades.csv", "utils/checks/public.pt", "public.pt", ".ci-install.log", ".ci-apt.log",
                   "grade.sh",
                   # GRADING.md's platform examples: what the platforms export, what the grader writes
                   "canvas.csv", "manual.csv", "manual_key.csv", "setup.sh", "results/results.json",
                   "submission_metadata.yml", "timestamp.txt", "ex02_hinge_loss-1.ipynb",
                   "userid_submissionid_original.ipynb", "out/final.csv", "out/grades.csv",
                   "out/grades_canvas.csv", "out/grades_moodle.csv", "out/written/manual.csv"}
# Placeholders in documented paths (exNN_slug.ipynb, DIR/ID.md, …) and submissions (alice__ex02_….ipynb).
PLACEHOLDER = re.compile(r"NN|slug|\bID\b|\bOUT_|\w__|\bDIR\b|\bX\b|<|>|\*|\{|\}|\.\.\.|…")
# Guidance for the builders, never to be cited by the book (what a reader needs is in REFERENCES.md).
FORBIDDEN = re.compile(r"ORACLES\.md|DESIGN\.md|margin-based-losses\.md|\.\./shared\b|\bseed/", re.I)

EXTENSIONS = "md|ipynb|py|toml|txt|cfg|json|pt|csv|sh|yml|yaml|png|pdf"
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_LINK = re.compile(r"""(?:href|src)\s*=\s*["']([^"']+)["']""")
CITED = re.compile(rf"(?<![\w./:-])((?:\.\.?/)*(?:[\w-]+/)*[\w.-]*[\w-]\.(?:{EXTENSIONS}))(?![\w/-])")
WEB = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)  # http:, https:, mailto:, data:, …


# --------------------------------------------------------------------------- reading documents
def _notebook_texts(text: str) -> tuple[str, str]:
    """(Markdown, code) of a notebook's cells."""
    cells = json.loads(text)["cells"]
    def joined(kind):
        return "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == kind)
    return joined("markdown"), joined("code")


def _markdown_without_code(text: str, inline: bool = False) -> str:
    """Markdown with fenced code blocks (and, with ``inline``, code spans) removed: links inside code are
    not links."""
    text = re.sub(r"^(```|~~~).*?^\1", "", text, flags=re.S | re.M)
    return re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", text, flags=re.S) if inline else text


def slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    text = re.sub(r"[`*_]|<[^>]+>", "", heading).strip().lower()
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(text: str, notebook: bool) -> set[str]:
    """The anchors a page offers: its headings (GitHub's form; for a notebook also JupyterLab's), and
    explicit `<a id=…>` / `<a name=…>`."""
    found = set(re.findall(r"""<a\s+(?:id|name)\s*=\s*["']([^"']+)["']""", text))
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", _markdown_without_code(text), re.M):
        found.add(slug(heading))
        if notebook:  # JupyterLab: the heading's text with spaces replaced by hyphens
            found.add(re.sub(r"[`*]", "", heading).strip().replace(" ", "-"))
    return found


class Book:
    """A book's files (the repository, or the student bundle as release would write it)."""

    def __init__(self, name: str, files: dict[str, callable]):
        self.name = name
        self.files = files  # relative POSIX path -> function returning the file's text
        self.dirs = {str(p) for f in files for p in PurePosixPath(f).parents if str(p) != "."}
        self.basenames = {PurePosixPath(f).name for f in files}

    def exists(self, rel: str) -> bool:
        return rel in self.files or rel in self.dirs

    @lru_cache(maxsize=None)
    def text(self, rel: str) -> str:
        return self.files[rel]()

    def documents(self) -> list[str]:
        return sorted(f for f in self.files if (f.endswith(".md") and "/" not in f)
                      or re.fullmatch(r"(chapters|exercises)/[^/]+\.ipynb", f))

    def resolve(self, document: str, target: str) -> str | None:
        """The book-relative path ``target`` names from ``document``, or None if it leaves the book."""
        parts = []
        for part in (PurePosixPath(document).parent / target).parts:
            if part == "..":
                if not parts:
                    return None
                parts.pop()
            elif part != ".":
                parts.append(part)
        return "/".join(parts)


def _repository() -> Book:
    """The repository's files: tracked or new, not ignored (outside git: every file but caches)."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True)
    if listed.returncode == 0:
        tracked = listed.stdout.split()
    else:
        skip = {".git", ".venv", "__pycache__", ".ipynb_checkpoints", "build"}
        tracked = [p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*")
                   if p.is_file() and not skip & set(p.relative_to(ROOT).parts)]
    return Book("repository", {rel: (lambda p=ROOT / rel: p.read_text(errors="replace"))
                               for rel in tracked if (ROOT / rel).is_file()})


def _bundle() -> Book:
    """The bundle as `release` writes it, without building it (README.md is STUDENTS.md)."""
    files = {}
    for rel in book.bundle_paths(ROOT):
        source = ROOT / ("STUDENTS.md" if rel == "README.md" else rel)
        if source.exists() or rel in book.RELEASE_GENERATED:  # a missing REFERENCES.md: release fails too
            files[rel] = (lambda p=source: p.read_text(errors="replace") if p.exists() else "")
    return Book("student bundle", files)


# --------------------------------------------------------------------------- what is wrong
def problems(shelf: Book) -> list[str]:
    found = []
    for document in shelf.documents():
        text = shelf.text(document)
        notebook = document.endswith(".ipynb")
        markdown, code = _notebook_texts(text) if notebook else (text, "")
        prose = _markdown_without_code(markdown, inline=True)
        for target in LINK.findall(prose) + HTML_LINK.findall(prose):
            problem = _link_problem(shelf, document, unquote(target))
            if problem:
                found.append(f"{document}: link ({target}) {problem}")
        words = HTML_LINK.sub("", re.sub(r"\]\([^)]*\)", "]()", markdown))  # link targets are checked above
        for name in set(CITED.findall(words + "\n" + code)):
            if not _cited_resolves(shelf, document, name):
                found.append(f"{document}: cites {name}, which is not in the {shelf.name}")
    return found


def _link_problem(shelf: Book, document: str, target: str) -> str | None:
    if WEB.match(target):
        return None
    path, _, anchor = target.partition("#")
    rel = shelf.resolve(document, path) if path else document
    if rel is None:
        return f"points outside the {shelf.name}"
    if not shelf.exists(rel):
        return f"names {rel}, which is not in the {shelf.name}"
    if anchor and rel.endswith((".md", ".ipynb")):
        text = shelf.text(rel)
        page = _notebook_texts(text)[0] if rel.endswith(".ipynb") else text
        if anchor not in anchors(page, rel.endswith(".ipynb")):
            return f"names the anchor #{anchor}, which {rel} does not have"
    return None


def _cited_resolves(shelf: Book, document: str, name: str) -> bool:
    if PLACEHOLDER.search(name) or name in COMMAND_OUTPUTS or FORBIDDEN.search(name):
        return True  # forbidden names are reported by their own test, with a clearer message
    candidates = [shelf.resolve(document, name), name.lstrip("./")]
    if any(c is not None and shelf.exists(c) for c in candidates):
        return True
    return "/" not in name and name in shelf.basenames


def forbidden_citations() -> list[str]:
    """Every citation of the builders' guidance in what the book ships or shows."""
    shelf = _repository()
    bundle = set(book.bundle_paths(ROOT))
    found = []
    for rel in sorted(shelf.files):
        shown = rel.endswith(".md") and "/" not in rel
        if not (shown or rel in bundle) or rel.endswith(".pt"):
            continue
        for number, line in enumerate(shelf.text(rel).splitlines(), start=1):
            for match in FORBIDDEN.finditer(line):
                found.append(f"{rel}:{number}: {match.group(0)}")
    return found


# --------------------------------------------------------------------------- the tests
def test_links_and_cited_files_resolve_in_the_repository():
    found = problems(_repository())
    assert not found, f"{len(found)} broken link(s) or citation(s):\n" + "\n".join(found)


def test_links_and_cited_files_resolve_in_the_student_bundle():
    found = problems(_bundle())
    assert not found, f"{len(found)} broken link(s) or citation(s) in the bundle:\n" + "\n".join(found)


def test_the_builders_guidance_is_cited_nowhere_in_the_book():
    found = forbidden_citations()
    assert not found, "the book cites files it does not contain (state it in REFERENCES.md instead):\n" + \
        "\n".join(found)


# --------------------------------------------------------------------------- the checker itself
def _tiny(files: dict[str, str]) -> Book:
    return Book("repository", {rel: (lambda t=text: t) for rel, text in files.items()})


def _notebook(markdown: str, code: str = "") -> str:
    cells = [{"cell_type": "markdown", "source": markdown, "metadata": {}}]
    cells += [{"cell_type": "code", "source": code, "metadata": {}, "outputs": []}] if code else []
    return json.dumps({"cells": cells})


@pytest.mark.parametrize("markdown, code, expected", [
    ("[next](02_b.ipynb)", "", []),
    ("[ex](../exercises/ex01_a.ipynb) and `exercises/ex01_a.ipynb`", "", []),
    ("[gone](03_c.ipynb)", "", ["link (03_c.ipynb) names chapters/03_c.ipynb"]),
    ("[up](../../x.md)", "", ["points outside"]),
    ("see [claims](../REFERENCES.md#claims)", "", []),
    ("see [claims](../REFERENCES.md#claim)", "", ["anchor #claim"]),
    ("[section](02_b.ipynb#The-margin,-again)", "", []),
    ("the oracles of `ORACLES.md`", "", []),  # reported by the forbidden-name test instead
    ("`exercises/02_a.ipynb` (the old name)", "", ["cites exercises/02_a.ipynb"]),
    ("placeholders: `exercises/exNN_slug.ipynb`, `ID__ex02_a.ipynb`", "", []),
    ("in code", "# see utils/missing.py\nimport utils", ["cites utils/missing.py"]),
    ("a bare `losses.py` and [web](https://example.org/a.md)", "", []),
    ("write `[Exercises](../exercises/exNN_slug.ipynb)` at the end", "", []),  # code, not a link
    ("```\n[not a link](02_b.ipynb#nowhere)\n```", "", []),  # code: a cited name, not a link
])
def test_the_checker_finds_exactly_the_broken_references(markdown, code, expected):
    shelf = _tiny({
        "chapters/01_a.ipynb": _notebook(markdown, code),
        "chapters/02_b.ipynb": _notebook("# 02 · B\n\n## The margin, again\n"),
        "exercises/ex01_a.ipynb": _notebook("# Exercises"),
        "REFERENCES.md": "# References\n\n## Oracles\n\n## Claims\n",
        "utils/losses.py": "",
    })
    found = [p for p in problems(shelf) if p.startswith("chapters/01_a.ipynb")]
    assert len(found) == len(expected), found
    for problem, fragment in zip(sorted(found), sorted(expected)):
        assert fragment in problem, (problem, fragment)


def test_slugs_follow_github():
    assert slug("Hand out, collect, grade") == "hand-out-collect-grade"
    assert slug("The library: `utils`") == "the-library-utils"
    assert slug("Notebook run times") == "notebook-run-times"
