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
        for name in LOSS_ROWS:
            for mode in ("[on]", "[off]"):
                matching = [r for r in rows if r.startswith(name) and f" {mode} " in r and r.split()[r.split().index(mode) + 1] == str(n)]
                assert len(matching) == 1, (name, mode, n, result.stdout)
        for name in MINER_ROWS:
            assert sum(r.startswith(name) and r[61:].split()[0] == str(n) for r in rows) == 1, (name, n)
    assert len(rows) == 2 * (2 * len(LOSS_ROWS) + len(MINER_ROWS))
    assert "[bench]" in result.stderr  # progress on stderr, not in the table
    assert "compiled rows skipped" in result.stderr
    assert "USDT" not in result.stdout + result.stderr, "the profiler's log lines must not leak into the output"


@pytest.mark.slow
def test_compiled_variant_computes_the_same_gradient():
    """The [compiled] row times a real torch.compile of our loss (inductor), with the same gradients."""
    from utils import bench, losses

    if bench.c_compiler() is None:
        pytest.skip("no C++ compiler: torch.compile's inductor backend cannot run here")
    torch._dynamo.reset()
    s = torch.randn(64, requires_grad=True)
    y = torch.randint(0, 2, (64,)).float() * 2 - 1
    step = bench.loss_variants(losses.hinge_loss, (s, y), ["compiled"])["compiled"]
    s.grad = None
    step()
    compiled_grad = s.grad.clone()
    s.grad = None
    losses.hinge_loss(s, y).backward()
    torch.testing.assert_close(compiled_grad, s.grad)


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
