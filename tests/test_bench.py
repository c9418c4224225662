"""The benchmark command runs and prints every row (no timing is asserted: timings vary)."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from utils.bench import peak_memory_mib

ROOT = Path(__file__).resolve().parents[1]

LOSS_ROWS = ["hinge", "squared hinge", "multiclass WW", "ranking", "triplet", "contrastive"]
MINER_ROWS = ["batch_hard vs PML", "semi_hard vs PML"]


@pytest.mark.slow
def test_quick_run_prints_every_row():
    result = subprocess.run(
        [sys.executable, "-m", "utils.bench", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "2 thread(s)" in lines[0]
    assert lines[2].split()[:2] == ["benchmark", "N"]
    rows = [line for line in lines if line.split()[-1] in ("PASS", "MISS", "-")]
    for n in (32, 64):
        for name in LOSS_ROWS + MINER_ROWS:
            matching = [r for r in rows if r.startswith(name) and r[50:].split()[0] == str(n)]
            assert len(matching) == 1, (name, n, result.stdout)
    assert len(rows) == 2 * (len(LOSS_ROWS) + len(MINER_ROWS))
    assert sum(r.split()[-1] in ("PASS", "MISS") for r in rows) == 2 * len(LOSS_ROWS)
    assert "[bench]" in result.stderr  # progress on stderr, not in the table


def test_bad_options_are_rejected():
    result = subprocess.run(
        [sys.executable, "-m", "utils.bench", "--sizes", "4,x"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 2 and "--sizes" in result.stderr


def test_peak_memory_sees_torch_allocations():
    """4 MiB allocated, 8 MiB live at the peak (two tensors), all freed after."""

    def work():
        a = torch.ones(1024, 1024)  # 4 MiB
        b = a * 2  # 4 MiB more
        return float(b.sum())

    assert peak_memory_mib(work) == pytest.approx(8.0, abs=0.1)
    assert peak_memory_mib(lambda: None) == 0.0
