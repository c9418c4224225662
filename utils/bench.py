"""Benchmark of the companion's losses and miners against their native/library equivalents.

Introduced in: 10 Hard negative mining (the miners' cost); a command, not a test.

Run ``python -m utils.bench`` (options: ``--sizes 256,1024,4096``, ``--repeats 7``, ``--threads 2``,
``--quick``). It prints one table row per (benchmark, N):

- losses: forward + backward time of each ``utils.losses`` function against its native torch
  equivalent (see REFERENCES.md, "Oracles"), at batch size N, D = 128 for embeddings, C = 10 classes for
  the multiclass loss, in three modes (one row each): ``[on]`` validation on (the default: value checks
  that read labels back to Python; no target), ``[off]`` with ``utils.validate_args(False)`` (target:
  within 1.10x of torch at N >= 1024), ``[compiled]`` ``torch.compile(fullgraph=True)`` of our loss with
  validation off, timed after one warm-up call (target: at or below torch's eager time at N >= 1024).
  Compiled rows need a C++ compiler; they are skipped with ``--no-compile``, under ``--quick``, or when
  none is found.
- miners: ``mine_triplets(strategy="batch_hard" | "semi_hard")`` against pytorch-metric-learning's
  ``BatchHardMiner`` / ``TripletMarginMiner(type_of_triplets="semihard")`` (both with
  ``LpDistance(normalize_embeddings=False)``, margin 0.2) and a naive Python loop. Batches are PK
  batches of K = 4 examples per class. Target: at least 2x faster than PML at N = 1024.
  The loop runs on every anchor at N <= 256; above that, on a subsample of anchors with its time
  scaled up by N / anchors (marked ``~``, extrapolated). PML's semi-hard miner enumerates every
  triplet (N (K-1) (N-K) of them); it is skipped (``skip``) above 10 million triplets.

Timing: ``time.perf_counter`` around ``number`` calls (calibrated so one sample lasts >= 20 ms),
ours and the reference interleaved in each repeat, so machine load hits both alike; the median
per call over ``--repeats`` samples is reported. Threads: ``torch.set_num_threads(--threads)``
(default 2, the cores of the machine the book was written on); the count is printed.

Peak memory ("peak KiB", printed in KiB): the largest number of bytes held by torch's CPU allocator during one
call (forward + backward for losses), above what was live before it, reconstructed from
``torch.profiler`` memory records (allocations attributed to each op, frees as ``[memory]``
events). It counts tensors only (not Python objects), and is a profile of a single call.
Python's ``tracemalloc`` cannot see torch's allocations, and process RSS keeps freed pages.

Progress goes to stderr; the table to stdout.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
import warnings

import torch
import torch.nn.functional as F

MINER_TARGET = 2.0  # PML / ours time, at least, at N = MINER_TARGET_N
MINER_TARGET_N = 1024
MARGIN = 0.2  # miners' margin (FaceNet's)
SAMPLES_PER_CLASS = 4
PML_SEMIHARD_MAX_TRIPLETS = 10_000_000
SAMPLE_SECONDS = 0.02


def log(message):
    print(message, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------ measurement


def _calibrate(fn):
    """Number of calls so that one sample lasts at least SAMPLE_SECONDS."""
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-7)
    return max(1, min(1000, math.ceil(SAMPLE_SECONDS / once)))


def _sample(fn, number):
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def time_pair(fns, repeats):
    """Median seconds per call of each function in ``fns``, samples interleaved."""
    for fn in fns:
        fn()  # warm-up
    numbers = [_calibrate(fn) for fn in fns]
    samples = [[] for _ in fns]
    for _ in range(repeats):
        for fn, number, out in zip(fns, numbers, samples):
            out.append(_sample(fn, number))
    return [statistics.median(s) for s in samples]


class _quiet_stderr:
    """Send file descriptor 2 to /dev/null: torch's profiler (kineto) logs "USDT: ... profiler_start" lines
    from C++ on every start and stop, which would land between the table's rows."""

    def __enter__(self):
        import os

        sys.stderr.flush()
        self.saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)

    def __exit__(self, *exc):
        import os

        os.dup2(self.saved, 2)
        os.close(self.saved)
        return False


def peak_memory_mib(fn):
    """Peak bytes (MiB) held by torch's CPU allocator during one call of ``fn``, above the start."""
    from torch.profiler import ProfilerActivity, profile

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with _quiet_stderr(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
            fn()
    changes = []
    for event in prof.events():
        if event.name == "[memory]":
            changes.append((event.time_range.start, event.cpu_memory_usage))
        elif event.self_cpu_memory_usage:
            changes.append((event.time_range.start, event.self_cpu_memory_usage))
    live = peak = 0
    for _, change in sorted(changes, key=lambda c: c[0]):
        live += change
        peak = max(peak, live)
    return peak / 2**20


# ------------------------------------------------------------------------------ losses


def loss_cases(n, dim=128, num_classes=10, seed=0):
    """(name, our loss function, its arguments, reference forward+backward closure) at batch size n."""
    import utils.losses as L

    g = torch.Generator().manual_seed(seed)
    s = torch.randn(n, generator=g).requires_grad_(True)
    y = (torch.randint(0, 2, (n,), generator=g) * 2 - 1).float()
    y_class = ((y + 1) // 2).long()
    zeros, ones = torch.zeros(n), torch.ones(n)
    s_neg = torch.randn(n, generator=g).requires_grad_(True)
    scores = torch.randn(n, num_classes, generator=g).requires_grad_(True)
    c = torch.randint(0, num_classes, (n,), generator=g)
    a, p, q = (torch.randn(n, dim, generator=g).requires_grad_(True) for _ in range(3))
    similar = torch.randint(0, 2, (n,), generator=g).float()

    def step(loss_fn):
        def run():
            loss_fn().backward()

        return run

    def contrastive_torch():
        d = F.pairwise_distance(a, p, eps=0)
        return (similar * d**2 + (1 - similar) * torch.clamp(1.0 - d, min=0) ** 2).mean()

    return [
        ("hinge vs margin_ranking_loss(s, 0, y, margin=1)", L.hinge_loss, (s, y),
         step(lambda: F.margin_ranking_loss(s, zeros, y, margin=1.0))),
        ("squared hinge vs 2*multi_margin_loss(p=2)", L.squared_hinge_loss, (s, y),
         step(lambda: 2 * F.multi_margin_loss(torch.stack([0 * s, s], 1), y_class, p=2))),
        (f"multiclass WW vs C*multi_margin_loss (C={num_classes})", L.multiclass_hinge_loss, (scores, c),
         step(lambda: num_classes * F.multi_margin_loss(scores, c, margin=1.0))),
        ("ranking vs margin_ranking_loss", L.ranking_margin_loss, (s, s_neg),
         step(lambda: F.margin_ranking_loss(s, s_neg, ones, margin=1.0))),
        (f"triplet vs triplet_margin_loss (D={dim})", L.triplet_margin_loss, (a, p, q),
         step(lambda: F.triplet_margin_loss(a, p, q, margin=1.0, p=2, eps=0))),
        (f"contrastive vs hand-written torch (D={dim})", L.contrastive_margin_loss, (a, p, similar),
         step(contrastive_torch)),
    ]


# ------------------------------------------------------------------------------ miners


def pk_batch(n, dim=128, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, dim, generator=g)
    labels = torch.arange(n) // SAMPLES_PER_CLASS
    return x, labels


def loop_batch_hard(x, labels, anchors):
    """Naive miner: distance matrix from torch, then Python loops over the given anchors."""
    d = torch.cdist(x, x)[anchors].tolist()
    y = labels.tolist()
    out = []
    for row, a in zip(d, anchors):
        best_p = best_n = None
        for j, dj in enumerate(row):
            if y[j] == y[a]:
                if j != a and (best_p is None or dj > row[best_p]):
                    best_p = j
            elif best_n is None or dj < row[best_n]:
                best_n = j
        out.append((a, best_p, best_n))
    return out


def loop_semi_hard(x, labels, anchors, margin=MARGIN):
    d = torch.cdist(x, x)[anchors].tolist()
    y = labels.tolist()
    out = []
    for row, a in zip(d, anchors):
        negatives = [j for j in range(len(y)) if y[j] != y[a]]
        for p in range(len(y)):
            if p == a or y[p] != y[a]:
                continue
            best = None
            for j in negatives:
                if row[p] < row[j] < row[p] + margin and (best is None or row[j] < row[best]):
                    best = j
            if best is not None:
                out.append((a, p, best))
    return out


def miner_cases(n, loop_full_max, loop_anchors):
    from pytorch_metric_learning.distances import LpDistance
    from pytorch_metric_learning.miners import BatchHardMiner, TripletMarginMiner

    from utils.miners import mine_triplets

    x, labels = pk_batch(n)
    full = n <= loop_full_max
    anchors = list(range(n)) if full else list(range(0, n, max(1, n // loop_anchors)))[:loop_anchors]
    scale = 1.0 if full else n / len(anchors)
    pml_hard = BatchHardMiner(distance=LpDistance(normalize_embeddings=False))
    pml_semi = TripletMarginMiner(
        margin=MARGIN, type_of_triplets="semihard", distance=LpDistance(normalize_embeddings=False)
    )
    semi_triplets = n * (SAMPLES_PER_CLASS - 1) * (n - SAMPLES_PER_CLASS)
    return [
        (
            "batch_hard vs PML BatchHardMiner",
            lambda: mine_triplets(x, labels, strategy="batch_hard"),
            lambda: pml_hard(x, labels),
            lambda: loop_batch_hard(x, labels, anchors),
            scale,
        ),
        (
            "semi_hard vs PML TripletMarginMiner(semihard)",
            lambda: mine_triplets(x, labels, strategy="semi_hard", margin=MARGIN),
            (lambda: pml_semi(x, labels)) if semi_triplets <= PML_SEMIHARD_MAX_TRIPLETS else None,
            lambda: loop_semi_hard(x, labels, anchors),
            scale,
        ),
    ]


# ------------------------------------------------------------------------------ table


def fmt_time(seconds):
    if seconds is None:
        return "skip"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} us"


def fmt_kib(mib):
    return "-" if mib is None else f"{mib * 1024:.0f}"


MODES_SHORT = {"validation on": "on", "validation off": "off", "compiled": "compiled"}

HEADER = (
    f"{'benchmark':<61} {'N':>5} {'ours':>10} {'reference':>10} {'ratio':>14} "
    f"{'peak KiB ours/ref':>18} {'naive loop':>12} {'target':>16} {'result':>6}"
)


def row(name, n, ours, ref, ratio_text, mem, loop_text, target, result):
    return (
        f"{name:<61} {n:>5} {fmt_time(ours):>10} {fmt_time(ref):>10} {ratio_text:>14} "
        f"{mem:>18} {loop_text:>12} {target:>16} {result:>6}"
    )


MODES = ("validation on", "validation off", "compiled")
#: Targets per mode (ours / torch eager time, at most). Validation on has none: it is the price of a clear
#: error (one read-back per call); the targets apply at N >= LOSS_TARGET_MIN_N, where the arithmetic is
#: not dwarfed by the fixed cost of a Python call.
LOSS_TARGETS = {"validation on": None, "validation off": 1.10, "compiled": 1.00}
LOSS_TARGET_MIN_N = 1024


def c_compiler():
    """Path of the C++ compiler torch.compile's inductor backend needs, or None."""
    import shutil

    return shutil.which("g++") or shutil.which("c++") or shutil.which("clang++")


def loss_variants(loss_fn, args, modes):
    """{mode: forward+backward closure} of our loss in each mode; compiled with validation off."""
    from utils.validation import validate_args

    def eager():
        loss_fn(*args).backward()

    variants = {}
    if "validation on" in modes:
        variants["validation on"] = eager
    if "validation off" in modes:
        def off():
            with validate_args(False):
                loss_fn(*args).backward()

        variants["validation off"] = off
    if "compiled" in modes:
        compiled = torch.compile(loss_fn, fullgraph=True, dynamic=False)

        def compiled_step():
            compiled(*args).backward()

        with validate_args(False):
            compiled_step()  # compile once, outside the timing
        variants["compiled"] = compiled_step
    return variants


def run(sizes, repeats, threads, loop_full_max=256, loop_anchors=16, out=sys.stdout, compile_rows=True):
    torch.set_num_threads(threads)
    threads_now = torch.get_num_threads()
    print(f"torch {torch.__version__}, {threads_now} thread(s), median of {repeats} repeat(s)", file=out)
    print("ratio: ours / reference time for losses; reference / ours (speed-up) for miners", file=out)
    modes = list(MODES)
    if compile_rows and c_compiler() is None:
        log("[bench] no C++ compiler found (g++, c++ or clang++): compiled rows skipped")
        compile_rows = False
    if not compile_rows:
        modes.remove("compiled")
    print(HEADER, file=out)
    print("-" * len(HEADER), file=out)
    rows = []
    from utils.validation import validate_args

    for n in sizes:
        for name, loss_fn, args, ref_fn in loss_cases(n):
            variants = loss_variants(loss_fn, args, modes)
            for mode, ours_fn in variants.items():
                log(f"[bench] loss {name} N={n} ({mode})")
                # "validation off" and "compiled" are timed with the switch off for the whole sample
                with validate_args(mode == "validation on"):
                    ours, ref = time_pair([ours_fn, ref_fn], repeats)
                    mem = f"{fmt_kib(peak_memory_mib(ours_fn))}/{fmt_kib(peak_memory_mib(ref_fn))}"
                ratio = ours / ref
                limit = LOSS_TARGETS[mode]
                if limit is None:
                    target, result = "-", "-"
                elif n < LOSS_TARGET_MIN_N:
                    target, result = f"(at N>={LOSS_TARGET_MIN_N})", "-"
                else:
                    target, result = f"ours <= {limit:.2f}x torch", "PASS" if ratio <= limit else "MISS"
                line = row(f"{name} [{MODES_SHORT[mode]}]", n, ours, ref, f"{ratio:.2f}x", mem, "-", target, result)
                rows.append(line)
                print(line, file=out, flush=True)
    for n in sizes:
        for name, ours_fn, ref_fn, loop_fn, scale in miner_cases(n, loop_full_max, loop_anchors):
            log(f"[bench] miner {name} N={n}")
            if ref_fn is None:
                ours, ref = time_pair([ours_fn], repeats)[0], None
            else:
                ours, ref = time_pair([ours_fn, ref_fn], repeats)
            loop_time = _sample(loop_fn, 1) * scale
            loop_text = ("" if scale == 1 else "~") + fmt_time(loop_time)
            mem_ref = peak_memory_mib(ref_fn) if ref_fn is not None else None
            mem = f"{fmt_kib(peak_memory_mib(ours_fn))}/{fmt_kib(mem_ref)}"
            speedup = None if ref is None else ref / ours
            ratio_text = "-" if speedup is None else f"{speedup:.2f}x faster"
            if n == MINER_TARGET_N:
                target = f">= {MINER_TARGET}x faster"
                result = "-" if speedup is None else ("PASS" if speedup >= MINER_TARGET else "MISS")
            else:
                target, result = f"(at N={MINER_TARGET_N})", "-"
            line = row(name, n, ours, ref, ratio_text, mem, loop_text, target, result)
            rows.append(line)
            print(line, file=out, flush=True)
    print(
        f"naive loop: torch.cdist then Python loops; '~' = run on {loop_anchors} anchors and scaled by "
        f"N/anchors (extrapolated). PML semi-hard skipped above {PML_SEMIHARD_MAX_TRIPLETS:,} triplets.",
        file=out,
    )
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m utils.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="256,1024,4096", help="comma-separated batch sizes N")
    parser.add_argument("--repeats", type=int, default=7, help="timed samples per measurement (median)")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes (32, 64), 1 repeat, no compiled rows: a smoke run")
    parser.add_argument("--no-compile", action="store_true",
                        help="skip the torch.compile rows (skipped anyway when no C++ compiler is found)")
    args = parser.parse_args(argv)
    if args.quick:
        sizes, repeats = [32, 64], 1
    else:
        try:
            sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
        except ValueError:
            parser.error(f"--sizes must be comma-separated integers, got {args.sizes!r}")
        repeats = args.repeats
    if not sizes or min(sizes) < 2 * SAMPLES_PER_CLASS:
        parser.error(f"--sizes must be integers >= {2 * SAMPLES_PER_CLASS}")
    if args.repeats < 1 or args.threads < 1:
        parser.error("--repeats and --threads must be >= 1")
    global SAMPLE_SECONDS
    if args.quick:
        SAMPLE_SECONDS = 0.0
    if args.quick and not args.no_compile:
        log("[bench] --quick: compiled rows skipped (compiling takes longer than the whole smoke run)")
    run(sizes, repeats, args.threads, loop_full_max=256 if not args.quick else 32, loop_anchors=16,
        compile_rows=not (args.no_compile or args.quick))


if __name__ == "__main__":
    main()
