"""Stored outputs reproduce on other CPUs, not only on the kind that built the book.

torch picks vectorised kernels (AVX2, AVX512, NEON...) by the CPU it runs on, and each kernel sums in its own
order, so the last bits of a float differ from one laptop to the next. The native nbval run (collected from
chapters/ and solutions/ by pyproject.toml) proves the stored outputs on this machine's capability level; this
module runs every notebook once more with ``ATEN_CPU_CAPABILITY=default``, torch's non-vectorised kernels (the
summation order of a CPU without AVX), in nbval strict mode with the same options and sanitize file. A notebook
that passes both prints no floating-point noise and no conclusion that hangs on the last digit.

Each chapter is its own test class, so ``--dist loadscope`` spreads them over the workers. The solutions are
short (their cost is mostly starting pytest and a kernel), so they run in two groups of about seven, one
pytest process each.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(p for d in ("chapters", "solutions") for p in (ROOT / d).glob("*.ipynb"))
LEVEL = "default"
SOLUTION_GROUPS = 2


def _groups() -> dict[str, list[Path]]:
    """Test-class suffix -> the notebooks one nbval process runs: each chapter alone, the solutions in groups."""
    chapters = [p for p in NOTEBOOKS if p.parent.name == "chapters"]
    solutions = [p for p in NOTEBOOKS if p.parent.name == "solutions"]
    groups = {f"chapters_{p.stem}": [p] for p in chapters}
    size = -(-len(solutions) // SOLUTION_GROUPS)
    for start in range(0, len(solutions), size):
        part = solutions[start:start + size]
        groups[f"solutions_{part[0].stem[:4]}_to_{part[-1].stem[:4]}"] = part
    return groups


def _run_nbval(notebooks: list[Path]) -> subprocess.CompletedProcess:
    env = {**os.environ, "ATEN_CPU_CAPABILITY": LEVEL}
    env.pop("PYTEST_XDIST_WORKER", None)
    # addopts (pyproject.toml) supply --nbval strict, the sanitize file, the cell timeout; -n 0: one process.
    cmd = [sys.executable, "-m", "pytest", "-n", "0", "-q", "--no-header", "--color=no", "-rf",
           *(str(p.relative_to(ROOT)) for p in notebooks)]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)


def _make_class(suffix: str, notebooks: list[Path]):
    def test_stored_outputs_reproduce(self):
        proc = _run_nbval(notebooks)
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-60:])
        failed = proc.returncode != 0
        assert not failed, (
            f"{', '.join(str(p.relative_to(ROOT)) for p in notebooks)}: stored outputs do not reproduce under "
            f"ATEN_CPU_CAPABILITY={LEVEL} (torch's non-vectorised kernels):\n{tail}"
        )

    name = "TestUnderDefaultCapability_" + suffix
    cls = type(name, (), {"test_stored_outputs_reproduce": pytest.mark.slow(test_stored_outputs_reproduce)})
    cls.__module__ = __name__
    return name, cls


for _suffix, _notebooks in _groups().items():
    _name, _cls = _make_class(_suffix, _notebooks)
    globals()[_name] = _cls


def test_every_stored_notebook_is_covered():
    """The glob finds every chapter and solution (15 + 14); a renamed folder would silently test nothing,
    and a grouping slip would skip or repeat a notebook."""
    assert {p.parent.name for p in NOTEBOOKS} == {"chapters", "solutions"}
    assert len(NOTEBOOKS) >= 29, [p.name for p in NOTEBOOKS]
    grouped = [p for group in _groups().values() for p in group]
    assert sorted(grouped) == NOTEBOOKS
