"""Seeding and thread count, called in the first code cell of every notebook.

Stored outputs must reproduce on any machine: torch's parallel reductions split work by thread
count and change the last bits of a sum, so every notebook runs torch on a fixed number of threads.
Introduced in: 00 Index (the book's conventions).
"""

from __future__ import annotations

import random

import numpy as np
import torch


def seed_everything(seed: int = 0, *, threads: int = 1) -> None:
    """Seed Python, NumPy and torch, and fix torch's intra-op thread count.

    Parameters
    ----------
    seed : int
        Seed for ``random``, ``numpy.random`` and ``torch``.
    threads : int
        Number of intra-op threads torch may use (1 makes float sums bit-identical across machines).

    Examples
    --------
    >>> seed_everything(0)
    >>> torch.get_num_threads()
    1
    """
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    if not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive int, got {threads!r}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
