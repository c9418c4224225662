"""Mutation testing of the exercise checks: how many automatic mutants of each solution do the cases kill?

A *mutant* is the solution's function with one small, mechanical change of its AST — a comparison flipped
(``<`` → ``<=``), an arithmetic operator swapped, a constant tweaked, a reduction changed (``sum`` ↔
``mean``), the clamp's side swapped (``min=`` ↔ ``max=``), a ``dim`` changed, ``argmin`` ↔ ``argmax``, a
dtype cast changed, the branches of ``torch.where`` swapped, a ``~`` or unary minus dropped... A mutant is
*killed* when the exercise's public or hidden cases reject it (any case fails, raises, or runs over the
time budget), and *survives* otherwise. A surviving mutant is either a gap in the cases (add a case that
kills it) or *equivalent* to the solution (it computes the same function on every valid input, e.g. ``<``
vs ``<=`` on a set where ties cannot happen): each exercise lists those in ``Exercise.equivalent_mutants``
(mutant id → one-line reason), and ``tests/test_mutants_auto.py`` fails when an unlisted mutant survives.

Everything runs in-process (no kernel): the solution's setup cell and function cell are read from
``solutions/<notebook>.py`` and executed with ``exec``. Used by ``python -m utils.book mutants [EXERCISE]``.
Introduced with issue 13.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import torch

from utils import checks

ROOT = Path(__file__).resolve().parent.parent.parent

_COMPARE_SWAPS = {ast.Lt: (ast.LtE, ast.Gt), ast.LtE: (ast.Lt, ast.GtE), ast.Gt: (ast.GtE, ast.Lt),
                  ast.GtE: (ast.Gt, ast.LtE), ast.Eq: (ast.NotEq,), ast.NotEq: (ast.Eq,)}
_BINOP_SWAPS = {ast.Add: (ast.Sub,), ast.Sub: (ast.Add,), ast.Mult: (ast.Div, ast.Add), ast.Div: (ast.Mult,),
                ast.Pow: (ast.Mult,), ast.FloorDiv: (ast.Div,), ast.BitAnd: (ast.BitOr,), ast.BitOr: (ast.BitAnd,),
                ast.Mod: (ast.FloorDiv,)}
_SYMBOL = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=", ast.Add: "+",
           ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.FloorDiv: "//", ast.BitAnd: "&",
           ast.BitOr: "|", ast.Mod: "%"}
# method / function names swapped for another of the same shape
_NAME_SWAPS = {
    "sum": ("mean",), "mean": ("sum",), "amax": ("amin",), "amin": ("amax",), "max": ("min",), "min": ("max",),
    "argmax": ("argmin",), "argmin": ("argmax",), "float": ("long", "half"), "double": ("float", "long"),
    "long": ("float",), "int": ("float",), "bool": ("float",), "any": ("all",), "all": ("any",),
    "ceil": ("floor", "round"), "floor": ("ceil",), "relu": ("abs",), "abs": ("relu",), "sqrt": ("square",),
    "cos": ("sin",), "sin": ("cos",), "acos": ("asin",), "ones_like": ("zeros_like",),
    "zeros_like": ("ones_like",), "unsqueeze": ("squeeze",), "masked_fill": ("where",),
    "float64": ("float32",), "inf": ("nan",), "logical_and": ("logical_or",), "logical_or": ("logical_and",),
}

_BUILTIN_SWAPS = {"min": "max", "max": "min", "any": "all", "all": "any", "sum": "len"}


@dataclass(frozen=True)
class Mutant:
    """One mutant: ``id`` is stable while the solution does not change (line counted from the ``def``)."""

    id: str
    source: str  # the whole function cell, mutated


def _label(node: ast.AST, base_line: int) -> str:
    return f"L{node.lineno - base_line}:{node.col_offset}"


class _Sites(ast.NodeVisitor):
    """Collect (node path, replacement maker, description) for every mutation site in the function body."""

    def __init__(self, base_line: int):
        self.base_line = base_line
        self.sites: list[tuple[ast.AST, Callable[[ast.AST], None], str]] = []

    def add(self, node, apply, what):
        self.sites.append((node, apply, f"{_label(node, self.base_line)} {what}"))

    def visit_Compare(self, node):
        for i, op in enumerate(node.ops):
            for new in _COMPARE_SWAPS.get(type(op), ()):
                self.add(node, lambda n, i=i, new=new: n.ops.__setitem__(i, new()),
                         f"{_SYMBOL[type(op)]} -> {_SYMBOL[new]}")
        self.generic_visit(node)

    def visit_BinOp(self, node):
        for new in _BINOP_SWAPS.get(type(node.op), ()):
            self.add(node, lambda n, new=new: setattr(n, "op", new()), f"{_SYMBOL[type(node.op)]} -> {_SYMBOL[new]}")
        # drop one operand: a - b -> a, a * b -> a (a term or factor forgotten)
        if isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
            self.add(node, lambda n: _replace_with(n, n.left), f"{_SYMBOL[type(node.op)]} right operand dropped")
        self.generic_visit(node)

    def visit_UnaryOp(self, node):
        if isinstance(node.op, (ast.USub, ast.Invert, ast.Not)):
            self.add(node, lambda n: _replace_with(n, n.operand), f"{type(node.op).__name__} dropped")
        self.generic_visit(node)

    def visit_Constant(self, node):
        value = node.value
        if isinstance(value, bool):
            self.add(node, lambda n: setattr(n, "value", not n.value), f"{value} -> {not value}")
        elif isinstance(value, (int, float)):
            for new in sorted({value + 1, value - 1, 0 if value else 1, value * 2 if value else 2} - {value}, key=str):
                self.add(node, lambda n, new=new: setattr(n, "value", type(value)(new)), f"{value!r} -> {new!r}")

    def visit_Name(self, node):
        if node.id in _BUILTIN_SWAPS and isinstance(node.ctx, ast.Load):
            new = _BUILTIN_SWAPS[node.id]
            self.add(node, lambda n, new=new: setattr(n, "id", new), f"{node.id} -> {new}")

    def visit_Attribute(self, node):
        for new in _NAME_SWAPS.get(node.attr, ()):
            self.add(node, lambda n, new=new: setattr(n, "attr", new), f".{node.attr} -> .{new}")
        self.generic_visit(node)

    def visit_Call(self, node):
        for k, kw in enumerate(node.keywords):
            if kw.arg in ("min", "max"):
                other = "max" if kw.arg == "min" else "min"
                self.add(node, lambda n, k=k, other=other: setattr(n.keywords[k], "arg", other),
                         f"{kw.arg}= -> {other}=")
            if kw.arg in ("dim", "keepdim", "right", "largest") and isinstance(kw.value, ast.Constant):
                pass  # the constant itself is mutated by visit_Constant
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name == "where" and len(node.args) == 3:
            self.add(node, lambda n: n.args.__setitem__(slice(1, 3), [n.args[2], n.args[1]]), "where branches swapped")
        if name in ("item", "float", "double", "long", "bool", "clone", "detach") and not node.args:
            self.add(node, lambda n: _replace_with(n, n.func.value) if isinstance(n.func, ast.Attribute) else None,
                     f".{name}() dropped")
        self.generic_visit(node)


def _replace_with(node: ast.AST, other: ast.AST) -> None:
    """Turn ``node`` into a copy of ``other`` in place (keeps the parent's reference valid)."""
    other = copy.deepcopy(other)
    node.__class__ = other.__class__
    node.__dict__.clear()
    node.__dict__.update(other.__dict__)


def solution_cells(exercise: checks.Exercise, root: Path = ROOT) -> tuple[str, str]:
    """(setup cell, the cell tagged ``exercise:<name>``) of the exercise's solutions notebook."""
    import jupytext

    nb = jupytext.read(root / "solutions" / f"{exercise.notebook}.py", fmt="py:percent")
    code = [c for c in nb.cells if c.cell_type == "code"]
    tagged = [c for c in code if f"exercise:{exercise.name}" in c.metadata.get("tags", [])]
    if len(tagged) != 1:
        raise ValueError(f"{exercise.notebook}: expected one cell tagged exercise:{exercise.name}")
    return code[0].source, tagged[0].source


def _solved_functions(tree: ast.Module, cell: str) -> list[int]:
    """Indices (in ``tree.body``) of the functions whose body holds a ``### BEGIN SOLUTION`` block."""
    lines = cell.split("\n")
    return [i for i, n in enumerate(tree.body) if isinstance(n, ast.FunctionDef)
            and any("### BEGIN SOLUTION" in line for line in lines[n.lineno - 1:n.end_lineno])]


def _sites(tree: ast.Module, cell: str) -> list:
    sites = []
    for i in _solved_functions(tree, cell):
        func = tree.body[i]
        visitor = _Sites(func.lineno)
        for statement in func.body:
            visitor.visit(statement)
        sites += [(node, apply, what if func.name == _sites.main else f"{func.name} {what}")
                  for node, apply, what in visitor.sites]
    return sites


def mutants(exercise: checks.Exercise, root: Path = ROOT) -> list[Mutant]:
    """Every mutant of the exercise's solution (mutating only the body of the function it asks for)."""
    _, cell = solution_cells(exercise, root)
    tree = ast.parse(cell)
    _sites.main = exercise.function
    out, seen = [], set()
    for index in range(len(_sites(tree, cell))):
        mutated = copy.deepcopy(tree)
        node, apply, what = _sites(mutated, cell)[index]
        apply(node)
        try:
            source = ast.unparse(ast.fix_missing_locations(mutated))
        except Exception:  # an impossible mutant (e.g. an operand dropped where syntax forbids it)
            continue
        if source == ast.unparse(tree) or source in seen:
            continue
        seen.add(source)
        out.append(Mutant(what, source))
    return out


def _load(setup: str, source: str, function: str) -> Callable:
    namespace: dict = {"__name__": "mutant"}
    exec(compile(setup, "setup", "exec"), namespace)
    exec(compile(source, "mutant", "exec"), namespace)
    return namespace[function]


@dataclass
class Result:
    exercise: str
    killed: list[str]
    survived: list[str]  # not listed as equivalent
    equivalent: list[str]  # survived, and listed with a reason

    @property
    def total(self) -> int:
        return len(self.killed) + len(self.survived) + len(self.equivalent)


def _run(exercise: checks.Exercise, fn: Callable, cases: list, expected: list) -> bool:
    """True when every case agrees with the reference (within the time budget): the mutant survives."""
    kwargs = {"forbidden": exercise.forbidden} if hasattr(exercise, "forbidden") else {}
    outcomes = checks.run_cases(exercise, fn, cases, **kwargs)
    for got, want in zip(outcomes, expected):
        if not checks._agrees(exercise, got, want):
            return False
        if exercise.max_seconds is not None and got.seconds > exercise.max_seconds:
            return False
    return True


def run(exercise: checks.Exercise, root: Path = ROOT, *, seed: int = 0) -> Result:
    """Run every mutant of ``exercise`` on its public and hidden cases."""
    setup, _ = solution_cells(exercise, root)
    cases = checks.cases_for(exercise, seed=seed) + checks.cases_for(exercise, hidden=True, seed=seed)
    expected = checks.run_cases(exercise, exercise.reference, cases)
    listed = dict(getattr(exercise, "equivalent_mutants", {}) or {})
    _, cell = solution_cells(exercise, root)
    if not _run(exercise, _load(setup, cell, exercise.function), cases, expected):
        raise AssertionError(f"{exercise.name}: the solution itself fails its cases")
    result = Result(exercise.name, [], [], [])
    torch.manual_seed(0)
    for mutant in mutants(exercise, root):
        try:
            fn = _load(setup, mutant.source, exercise.function)
            survives = _run(exercise, fn, cases, expected)
        except Exception:
            survives = False
        if not survives:
            result.killed.append(mutant.id)
        elif mutant.id in listed:
            result.equivalent.append(mutant.id)
        else:
            result.survived.append(mutant.id)
    return result


def iter_results(names: list[str] | None = None, root: Path = ROOT) -> Iterator[Result]:
    exercises = checks.registry()
    for name in names or sorted(exercises, key=lambda n: (exercises[n].notebook, n)):
        yield run(exercises[name], root)


def main(names: list[str] | None = None) -> int:
    """Print killed / survived per exercise; exit 1 when an unlisted mutant survives."""
    total_killed = total = 0
    unlisted = 0
    for r in iter_results(names):
        total_killed += len(r.killed)
        total += r.total
        unlisted += len(r.survived)
        print(f"{r.exercise:30s} killed {len(r.killed):3d}/{r.total:3d}  equivalent {len(r.equivalent):2d}  "
              f"survived {len(r.survived):2d}", flush=True)
        for mutant_id in r.survived:
            print(f"    survived: {mutant_id}")
    print(f"total: killed {total_killed} of {total}; {unlisted} unlisted survivor(s)")
    return 1 if unlisted else 0
