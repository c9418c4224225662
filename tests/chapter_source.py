"""Pull named functions out of a chapter's py:percent source, for tests that check them in full.

Only the named top-level ``def``s (and a ``MARGIN = ...`` constant) are compiled, alone, with torch, F and
numpy in scope: the chapter's experiments are not run. Used by tests/test_chapter_01.py, 02 and 03.
"""

import ast
from pathlib import Path

import jupytext
import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent


def chapter_functions(stem, *names):
    """The named top-level functions (and the MARGIN constant) of chapters/<stem>.py, compiled alone."""
    namespace = {"torch": torch, "F": F, "np": np}
    for cell in jupytext.read(ROOT / "chapters" / f"{stem}.py").cells:
        if cell.cell_type != "code" or cell.source.startswith("%"):
            continue
        for node in ast.parse(cell.source).body:
            wanted = isinstance(node, ast.FunctionDef) and node.name in names
            margin = isinstance(node, ast.Assign) and "MARGIN" in [getattr(t, "id", "") for t in node.targets]
            if wanted or margin:
                exec(compile(ast.Module([node], []), f"{stem}.py", "exec"), namespace)
    missing = [n for n in names if n not in namespace]
    assert not missing, f"chapters/{stem}.py no longer defines {missing}"
    return namespace
