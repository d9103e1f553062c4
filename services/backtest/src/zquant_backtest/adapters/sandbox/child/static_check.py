"""AST checks on a strategy's source: friendly line/column errors before anything runs.

This is not the security barrier (the OS layers are); it catches the obvious mistakes and the
obvious escape attempts early, with a position the user can click on.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

ALLOWED_MODULES = frozenset(
    {"math", "statistics", "numpy", "pandas", "datetime", "collections", "itertools", "functools", "bisect"}
)
FORBIDDEN_NAMES = frozenset(
    {"open", "exec", "eval", "compile", "__import__", "globals", "locals", "vars", "getattr", "setattr",
     "delattr", "breakpoint", "input", "memoryview", "help", "exit", "quit"}
)
ENTRY_POINTS = ("initialize", "handle_bar")


@dataclass(frozen=True)
class Problem:
    """One finding, 1-based line and 0-based column as Python reports them (0, 0 for a param)."""

    line: int
    column: int
    message: str
    field: str = ""


def check_source(code: str) -> list[Problem]:
    """All problems found in `code`; empty when it may be run."""
    try:
        tree = ast.parse(code, filename="<strategy>")
    except SyntaxError as exc:
        return [Problem(exc.lineno or 0, (exc.offset or 1) - 1, f"syntax error: {exc.msg}")]
    problems = [p for node in ast.walk(tree) for p in _node_problems(node)]
    defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    if "handle_bar" not in defined:
        problems.append(Problem(1, 0, "the strategy must define handle_bar(context, bars)"))
    return sorted(problems, key=lambda p: (p.line, p.column))


def _node_problems(node: ast.AST) -> list[Problem]:
    if isinstance(node, ast.Import):
        return [_at(node, f"import of '{a.name}' is not allowed") for a in node.names if not _allowed(a.name)]
    if isinstance(node, ast.ImportFrom):
        if node.level or not _allowed(node.module or ""):
            return [_at(node, f"import from '{node.module}' is not allowed")]
        return []
    if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
        return [_at(node, f"access to private attribute '{node.attr}' is not allowed")]
    if isinstance(node, ast.Name) and (node.id in FORBIDDEN_NAMES or node.id.startswith("__")):
        return [_at(node, f"use of '{node.id}' is not allowed")]
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and "__" in node.value:
        return [_at(node, "strings containing '__' are not allowed (format-string attribute access)")]
    if isinstance(node, (ast.Global, ast.Nonlocal)):
        return [_at(node, "global/nonlocal statements are not allowed")]
    return []


def _allowed(module: str) -> bool:
    return module.split(".")[0] in ALLOWED_MODULES


def _at(node: ast.expr | ast.stmt, message: str) -> Problem:
    return Problem(node.lineno, node.col_offset, message)
