"""The student bundle (`python -m utils.book release`): no solution, no hidden case, and it installs and runs."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest

from utils import book

ROOT = Path(__file__).resolve().parent.parent


def _blocks(source: str, begin: str, end: str) -> list[str]:
    """The text of every begin/end block, lines stripped and joined (indentation-independent)."""
    blocks, current = [], None
    for line in source.splitlines():
        if line.strip().startswith(begin):
            current = []
        elif line.strip().startswith(end):
            blocks.append("\n".join(current))
            current = None
        elif current is not None:
            current.append(line.strip())
    return [b for b in blocks if b.strip()]


def _bundle_text(bundle: Path, *, skip: tuple[str, ...] = ()) -> str:
    """Every text file of the bundle, with each line stripped (so indentation cannot hide a block)."""
    texts = []
    for path in bundle.rglob("*"):
        if path.relative_to(bundle).parts[0] in skip:
            continue
        if path.is_file() and path.suffix in (".py", ".ipynb", ".md", ".toml", ".txt", ".cfg"):
            text = path.read_text()
            if path.suffix == ".ipynb":
                text = "\n".join(c.source for c in nbformat.reads(text, as_version=4).cells)
            texts.append("\n".join(line.strip() for line in text.splitlines()))
    return "\n".join(texts)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("bundle") / "margin-losses"
    book.release(out)
    return out


def test_bundle_holds_the_student_material_and_nothing_of_solutions(bundle):
    assert not (bundle / "solutions").exists()
    assert not (bundle / "utils" / "grade.py").exists() and not (bundle / "utils" / "grading").exists()
    assert (bundle / "README.md").read_text() == (ROOT / "STUDENTS.md").read_text()
    for folder, pattern in (("chapters", "[0-9][0-9]_*.*"), ("exercises", "ex[0-9][0-9]_*.*")):
        for path in (ROOT / folder).glob(pattern):
            assert (bundle / folder / path.name).read_bytes() == path.read_bytes(), path.name
    pyproject = (bundle / "pyproject.toml").read_text()
    assert 'testpaths = ["chapters"]' in pyproject
    assert "solutions" not in pyproject  # the bundle has none: its configuration does not name them
    requirements = (bundle / "requirements.txt").read_text()
    assert "torch==2.13.0" in requirements and requirements.rstrip().endswith("-e .")
    assert "playwright" not in requirements  # CI-only: the browser test is not shipped


def test_release_writes_exactly_the_bundle_paths(bundle):
    written = sorted(p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file())
    assert written == book.bundle_paths(ROOT)


def _instructors_list() -> set[str]:
    """The names INSTRUCTORS.md lists as the bundle's content (the bullets after "holds exactly")."""
    text = (ROOT / "INSTRUCTORS.md").read_text()
    block = re.search(r"The bundle holds exactly these files and folders:\n\n((?:- .*\n(?:  .*\n)*)+)", text)
    assert block, "INSTRUCTORS.md no longer lists the bundle's files ('The bundle holds exactly ...')"
    names = set()
    for bullet in re.findall(r"^- (.*)$", block.group(1), re.M):
        lead = bullet.split(":")[0]
        names |= set(re.findall(r"`([^`]+)`", lead))
    return names


def test_instructors_md_lists_exactly_what_the_bundle_holds():
    top = set()
    for rel in book.bundle_paths(ROOT):
        first, _, rest = rel.partition("/")
        top.add(first + "/" if rest else first)
    listed = _instructors_list()
    assert listed == top, f"in the bundle, not listed: {sorted(top - listed)}; listed, not in it: {sorted(listed - top)}"


def test_bundle_ships_the_jupyterlab_configuration_its_pyproject_installs(bundle):
    import tomllib

    shared = tomllib.loads((bundle / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"]["wheel"][
        "shared-data"]
    assert shared, "the bundle's pyproject installs no JupyterLab configuration"
    for source in shared:
        assert (bundle / source).read_bytes() == (ROOT / source).read_bytes(), source
        json.loads((bundle / source).read_text())


def test_bundle_contains_no_solution_body(bundle):
    # The chapters are the book itself (byte-identical to the repository's, tested above): a warm-up
    # exercise may ask for exactly what a chapter shows. Everything else must not hold a solution.
    text = _bundle_text(bundle, skip=("chapters",))
    solutions = sorted((ROOT / "solutions").glob("ex[0-9][0-9]_*.py"))
    assert solutions
    for path in solutions:
        blocks = _blocks(path.read_text(), "# ### BEGIN SOLUTION", "# ### END SOLUTION")
        blocks += _blocks(path.read_text(), book.BEGIN, book.END)
        assert blocks, f"{path.name} has no solution blocks"
        for block in blocks:
            assert block not in text, f"a solution of {path.name} is in the bundle:\n{block}"


def test_bundle_contains_no_hidden_grading_case(bundle):
    text = _bundle_text(bundle)
    modules = sorted((ROOT / "utils" / "checks").glob("ex*.py"))
    hidden = [b for m in modules for b in _blocks(m.read_text(), book.BEGIN_HIDDEN, book.END_HIDDEN)]
    assert hidden, "no module marks its hidden cases"
    for block in hidden:
        assert block not in text
    assert not any(line.startswith(book.BEGIN_HIDDEN) for line in text.splitlines())
    assert not list((bundle / "utils" / "checks").glob("ex*.py"))  # only precomputed public outcomes
    assert (bundle / "utils" / "checks" / "public.pt").exists()


def test_release_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / "something").write_text("x")
    with pytest.raises(SystemExit, match="not empty"):
        book.release(tmp_path)


# Runs in one Python process with the bundle first on sys.path: every code cell of each notebook, in order, in a
# fresh namespace per notebook, from the notebook's folder, errors recorded as a kernel records them (the
# exercises use no IPython magic or display(); one would fail here). One process instead of a kernel per
# notebook: 14 kernel starts (torch and utils imported each time) cost 40 s of the suite. The real kernel path
# is taken by the install test below (the self-check on an unsolved exercise) and by the browser test.
RUN_CELLS = """
import json, os, sys
import utils
out = [utils.__file__]
for path in sys.argv[2:]:
    os.chdir(os.path.dirname(path))
    namespace = {"__name__": "__main__"}
    with open(path) as f:
        cells = [c for c in json.load(f)["cells"] if c["cell_type"] == "code"]
    for cell in cells:
        source = "".join(cell["source"])
        try:
            exec(compile(source, path, "exec"), namespace)
            error = None
        except BaseException as e:
            error = [type(e).__name__, str(e)]
        out.append([os.path.basename(path), cell["metadata"].get("tags", []), bool(source.strip()), error])
with open(sys.argv[1], "w") as f:
    json.dump(out, f)
"""


@pytest.mark.slow
def test_bundle_exercises_run_and_fail_only_at_their_checks(bundle, tmp_path):
    """Run every exercise notebook of the bundle with the bundle's own utils: every check says "not
    implemented yet", and the only other errors are the stubs' own NotImplementedError."""
    notebooks = sorted(str(p) for p in (bundle / "exercises").glob("ex[0-9][0-9]_*.ipynb"))
    assert len(notebooks) >= 14, notebooks
    report = tmp_path / "cells.json"
    env = {**os.environ, "PYTHONPATH": str(bundle), "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, "-c", RUN_CELLS, str(report), *notebooks], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    utils_file, *cells = json.loads(report.read_text())
    assert utils_file.startswith(str(bundle)), utils_file
    assert {name for name, *_ in cells} == {Path(p).name for p in notebooks}
    checked = 0
    for name, tags, has_code, error in cells:
        if not any(t.startswith("check:") for t in tags):
            # A cell that calls an unsolved function (e.g. to compare it with autograd) may raise the
            # stub's NotImplementedError; nothing else may fail.
            assert error is None or error[0] == "NotImplementedError", f"{name}: a non-check cell failed: {error}"
        elif has_code:
            assert error and error[0] == "CheckFailed", f"{name}: check cell did not fail: {error}"
            assert "not implemented yet" in error[1], (name, error)
            checked += 1
    assert checked >= 29, checked  # every graded exercise's check ran


def _pins(path: Path) -> set[str]:
    return {line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")}


def test_bundle_pins_are_the_repositorys_less_the_browser_test(bundle):
    """The bundle's requirements are the repository's, less the CI-only browser test: the pins that
    .ci/run installs into an empty venv on every run are exactly the ones a student installs."""
    ci_only = {pin for pin in _pins(ROOT / "requirements.txt") if pin.startswith(book.CI_ONLY_REQUIREMENTS)}
    assert ci_only, "requirements.txt no longer pins the browser test; update utils.book.CI_ONLY_REQUIREMENTS"
    assert _pins(bundle / "requirements.txt") == _pins(ROOT / "requirements.txt") - ci_only


@pytest.mark.slow
def test_bundle_installs_as_its_readme_says_and_passes_its_tests(bundle, tmp_path):
    """A new venv in the bundle, `pip install -r requirements.txt`, then the student's self-check fails
    on an unsolved exercise and the landing notebook passes nbval strict with the bundle's configuration.

    The venv sees the packages of the environment running this suite (one path line in a .pth file), so
    pip finds every third-party pin already satisfied and installs the bundle itself (`-e .`: its utils,
    its JupyterLab configuration). Unpacking the 1.5 GB of wheels again would prove nothing new: the pins
    are the repository's (test above), and .ci/run installs those into an empty venv on every run."""
    import sysconfig

    venv = bundle / ".venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    site_packages = Path(subprocess.run([str(venv / "bin" / "python"), "-c",
                                         "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                        capture_output=True, text=True, check=True).stdout.strip())
    # A plain path line: the suite's packages become visible, its .pth files (its own editable utils) do not.
    (site_packages / "zz_suite_environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    online = {k: v for k, v in os.environ.items() if k not in ("MARGIN_LOSSES_OFFLINE", "PYTHONPATH")}
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "-r", "requirements.txt"],
                         cwd=bundle, capture_output=True, text=True, timeout=1200, env=online)
    assert pip.returncode == 0, pip.stdout[-2000:] + pip.stderr[-2000:]
    installed = re.search(r"^Successfully installed (.*)$", pip.stdout, re.M)
    assert installed and "margin-losses-companion" in installed.group(1), pip.stdout[-2000:]
    python = str(venv / "bin" / "python")
    where = subprocess.run([python, "-c", "import utils; print(utils.__file__)"], cwd=tmp_path,
                           capture_output=True, text=True, check=True)
    assert where.stdout.startswith(str(bundle)), where.stdout
    assert (venv / "etc" / "jupyter" / "jupyter_lab_config.json").exists()  # `jupyter lab` opens the landing page
    unsolved = subprocess.run([python, "-m", "pytest", "-n", "0", "--nbval-lax", "exercises/ex02_hinge_loss.ipynb"],
                              cwd=bundle, capture_output=True, text=True, timeout=600)
    assert unsolved.returncode == 1 and "not implemented yet" in unsolved.stdout, unsolved.stdout[-2000:]
    # the landing notebook: the bundle's nbval configuration at work (the chapters themselves are the
    # repository's, byte for byte, and reproduce in the suite's own nbval run)
    chapter = subprocess.run([python, "-m", "pytest", "-n", "0", "chapters/00_index.ipynb"],
                             cwd=bundle, capture_output=True, text=True, timeout=600)
    assert chapter.returncode == 0, chapter.stdout[-3000:]


def test_jupytext_pairing_of_bundle_is_intact(bundle):
    for py in (bundle / "exercises").glob("*.py"):
        assert book.cell_signature(jupytext.read(py)) == book.cell_signature(
            nbformat.read(py.with_suffix(".ipynb"), as_version=4))


def test_bundle_checks_have_no_hidden_cases_left(bundle):
    """With the bundle's utils, asking for the grader's hidden cases gives exactly the public ones:
    every hidden size, margin and edge case was stripped."""
    code = (
        "import torch, utils, utils.checks as c\n"
        "assert utils.__file__.startswith(%r), utils.__file__\n"
        "bad = []\n"
        "for name, ex in sorted(c.registry().items()):\n"
        "    public, hidden = c.cases_for(ex, seed=7), c.cases_for(ex, hidden=True, seed=7)\n"
        "    same = len(public) == len(hidden) and all(\n"
        "        p.keys() == h.keys() and all(\n"
        "            torch.equal(p[k], h[k]) if isinstance(p[k], torch.Tensor) else p[k] == h[k] for k in p)\n"
        "        for p, h in zip(public, hidden))\n"
        "    bad += [] if same else [name]\n"
        "print('hidden cases left:', bad)\n"
    ) % str(bundle)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(bundle), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", code], cwd=bundle, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "hidden cases left: []"
