"""The grader against hostile submissions: every one gets its row, its status and exactly its points.

One grading run (module fixture) over a folder of generated notebooks — honest, stubbed, partial and
hostile — with short timeouts and two parallel slots; each test then asserts one row. Sharding and
merging are tested on files that need no sandbox; a 4-submission benchmark runs without timing
assertions. Introduced with the grader (issue 7).
"""

from __future__ import annotations

import copy
import csv
import pickle
from pathlib import Path

import nbformat
import pytest

from utils import grade
from utils.grading import gradebook, submissions
from utils.grading.runner import Settings, redact
from utils.grading.sandbox import Limits

ROOT = Path(__file__).resolve().parent.parent
PRISTINE = nbformat.read(ROOT / "exercises" / "ex02_hinge_loss.ipynb", as_version=4)

LOSS = "def hinge_loss(scores, targets, margin=1.0):\n    return torch.clamp(margin - targets * scores, min=0.0).mean()\n"
GRAD = ("def hinge_gradient(scores, targets, margin=1.0):\n"
        "    inside = targets * scores <= margin\n"  # autograd's subgradient at the kink
        "    return torch.where(inside, -targets, torch.zeros_like(targets)) / scores.numel()\n")
WRONG_LOSS = "def hinge_loss(scores, targets, margin=1.0):\n    return scores.sum() * 0 + 42.0\n"  # wrong on every case
FAKE_PASS = "print('✓ hinge_loss: all 13 cases pass (2 points)')\nprint('✓ hinge_gradient: all 13 cases pass (2 points)')\n"


def notebook(loss: str | None = LOSS, gradient: str | None = GRAD, *, setup: str | None = None,
             checks: dict[str, str | None] | None = None):
    """The pristine exercise notebook with the student's cells (None: the stub is kept)."""
    nb = copy.deepcopy(PRISTINE)
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if "exercise:hinge_loss" in tags and loss is not None:
            cell.source = loss
        if "exercise:hinge_gradient" in tags and gradient is not None:
            cell.source = gradient
        for name, text in (checks or {}).items():
            if f"check:{name}" in tags:
                cell.source = text if text is not None else "# deleted"
                if text is None:
                    cell.metadata = {}
    if setup is not None:
        next(c for c in nb.cells if c.cell_type == "code").source = setup
    return nb


def write(folder: Path, student: str, nb, suffix=".ipynb") -> Path:
    path = folder / f"{student}__ex02_hinge_loss{suffix}"
    path.write_text(nbformat.writes(nb), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("grading")
    subs = base / "subs"
    subs.mkdir()
    out = base / "out" / "grades.csv"
    out.parent.mkdir()
    token = base.name
    outside = [subs / "PWNED.txt", out, out.parent / "PWNED.txt", ROOT / f"PWNED_{token}.txt",
               ROOT / "solutions" / f"PWNED_{token}.txt", Path(f"/tmp/PWNED_{token}.txt")]
    pickle_marker = base / "pickle_ran"

    write(subs, "honest", notebook())
    write(subs, "stub", notebook(None, None))
    write(subs, "partial", notebook("def hinge_loss(scores, targets, margin=1.0):\n"
                                    "    return torch.clamp(1.0 - targets * scores, min=0.0).mean()\n"))
    write(subs, "loop", notebook("def hinge_loss(scores, targets, margin=1.0):\n    while True:\n        pass\n"))
    write(subs, "sleep", notebook("import time\ntime.sleep(10**6)\n" + LOSS))
    write(subs, "output", notebook("import sys\nchunk = 'x' * (1 << 20)\nfor _ in range(2048):\n"
                                   "    sys.stdout.write(chunk)\n    sys.stderr.write(chunk)\n" + LOSS))
    write(subs, "membomb", notebook("def _bomb():\n    blocks = []\n    while True:\n"
                                    "        blocks.append(bytearray(1 << 28))\n_bomb()\n" + LOSS))
    write(subs, "osexit", notebook("import os\ndef hinge_loss(scores, targets, margin=1.0):\n    os._exit(0)\n"))
    write(subs, "segfault", notebook(LOSS, "import ctypes\nctypes.string_at(0)\n" + GRAD))
    write(subs, "sysexit", notebook("import sys\ndef hinge_loss(scores, targets, margin=1.0):\n    sys.exit(0)\n"))
    write(subs, "importerror", notebook(setup="import torch\nimport no_such_module_xyz\nraise RuntimeError('boom')\n"))
    write(subs, "redefinecheck", notebook(WRONG_LOSS, checks={
        "hinge_loss": "def check(*args, **kwargs):\n    print('✓ hinge_loss: all 13 cases pass (2 points)')\n"
                      "check('hinge_loss', hinge_loss)", "hinge_gradient": None}))
    write(subs, "monkeypatch", notebook(
        "import builtins, torch, utils, utils.checks as C\n"
        "torch.allclose = lambda *a, **k: True\ntorch.equal = lambda *a, **k: True\n"
        "C.judge = lambda *a, **k: None\nC.close = lambda *a, **k: True\nC._agrees = lambda *a, **k: True\n"
        "utils.hinge_loss = lambda *a, **k: torch.zeros(())\nbuiltins.print = lambda *a, **k: None\n"
        "def hinge_loss(scores, targets, margin=1.0):\n    return torch.zeros((), requires_grad=True)\n"))
    write(subs, "fakeprint", notebook(FAKE_PASS + "def hinge_loss(scores, targets, margin=1.0):\n"
                                      "    return scores.sum() * 0 + 42.0\n", FAKE_PASS + "def hinge_gradient(scores, targets, "
                                      "margin=1.0):\n    return scores * 0 + 42.0\n"))
    attempts = "\n".join(f"    try:\n        open({str(p)!r}, 'w').write('pwned')\n    except Exception:\n        pass"
                         for p in outside)
    write(subs, "writeoutside", notebook("def _escape():\n" + attempts + "\n_escape()\n" + LOSS,
                                         "_escape()\n" + GRAD))
    write(subs, "readsolutions", notebook(
        "import os, json, importlib, utils\n"
        "def hinge_loss(scores, targets, margin=1.0):\n"
        "    root = os.path.dirname(os.path.dirname(utils.__file__))\n"
        "    try:\n        return importlib.import_module('utils.checks').get('hinge_loss').reference(scores, targets, margin)\n"
        "    except Exception:\n        pass\n"
        "    try:\n        return importlib.import_module('utils.checks.ex02_hinge_loss')._reference_hinge(scores, targets, margin)\n"
        "    except Exception:\n        pass\n"
        f"    for path in (os.path.join(root, 'solutions', 'ex02_hinge_loss.ipynb'), {str(ROOT / 'solutions' / 'ex02_hinge_loss.ipynb')!r}):\n"
        "        try:\n            cells = json.load(open(path))['cells']\n"
        "            src = [''.join(c['source']) for c in cells if 'exercise:hinge_loss' in c['metadata'].get('tags', [])][0]\n"
        "            ns = {'torch': torch}\n            exec(src, ns)\n            return ns['hinge_loss'](scores, targets, margin)\n"
        "        except Exception:\n            pass\n"
        "    raise PermissionError('could not read the solutions')\n"))
    write(subs, "forged", notebook(
        "import os, pickle, torch\n"
        "class Evil:\n    def __reduce__(self):\n"
        f"        return (os.system, ('touch {pickle_marker}',))\n"
        "open('result_0.pt', 'wb').write(pickle.dumps({'outcomes': [Evil()]}))\n"
        "torch.save({'outcomes': [{'value': 'pass', 'grads': {}, 'error': None, 'seconds': 0.0}]}, 'result_1.pt')\n"
        "os._exit(0)\n"))
    write(subs, "empty", nbformat.v4.new_notebook())
    reordered = notebook()
    reordered.cells = reordered.cells[::-1]
    write(subs, "reordered", reordered)
    duplicated = notebook(WRONG_LOSS)
    duplicated.cells.insert(5, nbformat.from_dict(
        {**copy.deepcopy(next(c for c in duplicated.cells if "exercise:hinge_loss" in c.metadata.get("tags", []))),
         "source": LOSS, "id": "dup00001"}))
    write(subs, "duplicated", duplicated)
    (subs / "oldformat__02_hinge_loss.ipynb").write_text(nbformat.writes(nbformat.convert(notebook(), 3)))
    raw = nbformat.writes(notebook()).encode("utf-8").replace(b"Exercise 1 \xc2\xb7", b"Exercise 1 \xff\xfe")
    (subs / "latin__02_hinge_loss.ipynb").write_bytes(raw)
    (subs / "malformed__02_hinge_loss.ipynb").write_text('{"cells": [ {"cell_type": "code", "source": ')
    write(subs, "script", notebook(), suffix=".py")
    (subs / "zero__02_hinge_loss.ipynb").write_bytes(b"")
    (subs / "my notebook.ipynb").write_text(nbformat.writes(notebook()))
    (subs / "unknown__99_no_such_notebook.ipynb").write_text(nbformat.writes(notebook()))

    # A 1 GB memory cap (on top of torch's mappings) makes the memory bomb fail fast.
    settings = Settings(seed=1234, exercise_timeout=4.0, notebook_timeout=15.0, limits=Limits(memory_mb=1024))
    rows, _ = grade.run([subs], out=out, feedback=base / "feedback", jobs=2, settings=settings,
                        progress=False, quiet=True)
    with open(out, newline="") as f:
        stored = list(csv.DictReader(f))
    escaped = [str(p) for p in outside if p.exists() and (p != out or "pwned" in p.read_text())]
    for p in outside[3:5]:
        p.unlink(missing_ok=True)
    return {"rows": {r["id"]: r for r in stored}, "count": len(stored), "files": len(list(subs.iterdir())),
            "escaped": escaped, "pickle_ran": pickle_marker.exists(), "feedback": base / "feedback"}


def status(row, name):
    return dict(part.split("=", 1) for part in row["detail"].split())[name]


EXPECTED = {  # id: (hinge_loss status, points, hinge_gradient status, points)
    "honest": ("pass", 2, "pass", 2),
    "stub": ("not-implemented", 0, "not-implemented", 0),
    "loop": ("timeout", 0, "pass", 2),
    "sleep": ("timeout", 0, "pass", 2),
    "output": ("pass", 2, "pass", 2),
    "membomb": ("error", 0, "pass", 2),
    "osexit": ("error", 0, "pass", 2),
    "segfault": ("pass", 2, "error", 0),
    "sysexit": ("error", 0, "pass", 2),
    "importerror": ("pass", 2, "pass", 2),
    "redefinecheck": ("fail+modified", 0, "pass+modified", 2),
    "monkeypatch": ("fail", 0, "pass", 2),
    "fakeprint": ("fail", 0, "fail", 0),
    "writeoutside": ("pass", 2, "pass", 2),
    "readsolutions": ("error", 0, "pass", 2),
    "forged": ("error", 0, "error", 0),  # both result files were forged: "unreadable results"
    "empty": ("missing+modified", 0, "missing+modified", 0),  # no check cells left either
    "reordered": ("pass", 2, "pass", 2),
    "duplicated": ("pass", 2, "pass", 2),
    "oldformat": ("pass", 2, "pass", 2),
    "latin": ("pass", 2, "pass", 2),
}


@pytest.mark.slow
@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_each_submission_gets_its_status_and_points(graded, student):
    row = graded["rows"][student]
    loss_status, loss_points, grad_status, grad_points = EXPECTED[student]
    assert row["status"] == "ok", row
    assert (status(row, "hinge_loss"), float(row["hinge_loss"])) == (loss_status, loss_points), row
    assert (status(row, "hinge_gradient"), float(row["hinge_gradient"])) == (grad_status, grad_points), row
    assert float(row["total"]) == loss_points + grad_points and row["max"] == "4"


@pytest.mark.slow
@pytest.mark.parametrize("student, expected", [
    ("malformed", "unreadable: not valid JSON"), ("script", "unreadable: expected a .ipynb"),
    ("zero", "unreadable: empty file (0 bytes)"), ("my notebook.ipynb", "invalid name"),
    ("unknown", "unknown notebook")])
def test_unreadable_and_misnamed_files_keep_their_row(graded, student, expected):
    row = graded["rows"][student]
    assert row["status"].startswith(expected), row
    assert float(row["total"]) == 0


@pytest.mark.slow
def test_no_row_is_lost_and_nothing_escapes(graded):
    assert graded["count"] == graded["files"] == len(EXPECTED) + 6
    assert graded["escaped"] == [], graded["escaped"]
    assert not graded["pickle_ran"], "the grader unpickled code from a student's result file"


@pytest.mark.slow
def test_partial_credit_and_feedback_without_hidden_inputs(graded):
    row = graded["rows"]["partial"]
    assert status(row, "hinge_loss") == "fail" and 0 < float(row["hinge_loss"]) < 2, row
    text = (graded["feedback"] / "partial.md").read_text()
    assert "Likely mistake — margin ignored" in text
    assert "On the case" not in text and "tensor of shape" not in text and "clamp(margin" not in text
    assert "check cell was edited" in (graded["feedback"] / "redefinecheck.md").read_text()
    assert "timeout" in (graded["feedback"] / "loop.md").read_text()
    assert "Not graded: unreadable" in (graded["feedback"] / "zero.md").read_text()


def test_names_follow_one_rule():
    assert submissions.parse_name(Path("jane.doe__ex02_hinge_loss.ipynb")) == ("jane.doe", "ex02_hinge_loss")
    # the name before the rename (issue 12) still reaches the same notebook
    assert submissions.parse_name(Path("jane.doe__02_hinge_loss.ipynb")) == ("jane.doe", "ex02_hinge_loss")
    assert submissions.parse_name(Path("x/02_hinge_loss.ipynb"))[1] is None
    assert submissions.parse_name(Path("a__b.ipynb"))[1] is None
    assert redact("The size of tensor a (7) must match 2.5e-3") == "The size of tensor a (#) must match #"


def test_shards_partition_students_and_merge_restores_the_class(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    for i in range(7):  # unreadable files: rows without a sandbox, so this test is fast
        (subs / f"s{i}__02_hinge_loss.ipynb").write_bytes(b"")
        (subs / f"s{i}__03_gradient_behaviour.ipynb").write_text("not json")
    outs = []
    for k in (1, 2, 3):
        out = tmp_path / f"shard{k}.csv"
        grade.run([subs], out=out, shard=(k, 3), progress=False, quiet=True)
        outs.append(out)
    rows = gradebook.merge(outs, tmp_path / "grades.csv")
    assert sorted(r["file"] for r in rows) == sorted(str(p) for p in subs.iterdir())
    ids_per_shard = [{r["id"] for r in gradebook.read_csv(o)[0]} for o in outs]
    assert sum(len(s) for s in ids_per_shard) == 7 and set.union(*ids_per_shard) == {f"s{i}" for i in range(7)}
    with pytest.raises(ValueError, match="graded in both"):
        gradebook.merge([outs[0], outs[0]], tmp_path / "bad.csv")
    assert grade.main(["merge", *map(str, outs), "--out", str(tmp_path / "cli.csv")]) == 0


@pytest.mark.slow
def test_small_benchmark_of_honest_submissions(capsys):
    stats = grade.bench(4, 2)
    assert stats["full_marks"] == 4
    assert "per minute" in capsys.readouterr().out


def test_results_loader_refuses_symlinks_and_garbage(tmp_path):
    from utils.grading.runner import load_result

    (tmp_path / "garbage.pt").write_bytes(b"\x80\x04garbage")
    assert load_result(tmp_path / "garbage.pt", 1)[0] == "unreadable"
    (tmp_path / "link.pt").symlink_to("/etc/passwd")
    assert load_result(tmp_path / "link.pt", 1)[0] == "unreadable"
    (tmp_path / "evil.pt").write_bytes(pickle.dumps({"outcomes": [print]}))
    assert load_result(tmp_path / "evil.pt", 1)[0] == "unreadable"
    assert load_result(tmp_path / "absent.pt", 1)[0] == "absent"
