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
ENTRY_POINTS = ("handle_bar", "targets")
"""A module is run per day (handle_bar) or once for a weights panel (targets)."""
MAX_FACTORS = 16
MAX_FACTOR_NAME = 100


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
    if not defined & set(ENTRY_POINTS):
        problems.append(Problem(1, 0, "the strategy must define handle_bar(context, bars) or targets(context)"))
    problems += factor_declaration(tree)[1]
    return sorted(problems, key=lambda p: (p.line, p.column))


def declared_factors(code: str) -> list[str]:
    """The names in the module's `FACTORS = [...]` literal (empty without one); ValueError when malformed."""
    try:
        tree = ast.parse(code, filename="<strategy>")
    except SyntaxError as exc:
        raise ValueError(f"syntax error: {exc.msg} (line {exc.lineno})") from None
    names, problems = factor_declaration(tree)
    if problems:
        raise ValueError(f"line {problems[0].line} col {problems[0].column}: {problems[0].message}")
    return names


def factor_declaration(tree: ast.Module) -> tuple[list[str], list[Problem]]:
    """Read statically, never run: a top-level list or tuple of at most MAX_FACTORS distinct name strings."""
    assigns = [n for n in tree.body if isinstance(n, ast.Assign)
               and any(isinstance(t, ast.Name) and t.id == "FACTORS" for t in n.targets)]
    if not assigns:
        return [], []
    node = assigns[-1]
    value = node.value
    if len(assigns) > 1 or len(node.targets) > 1 or not isinstance(value, (ast.List, ast.Tuple)):
        return [], [_at(node, "FACTORS must be assigned once, to a literal list of factor names")]
    names = [e.value for e in value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    if len(names) != len(value.elts) or not all(0 < len(n) <= MAX_FACTOR_NAME for n in names):
        return [], [_at(node, f"FACTORS must list factor names as strings of 1 to {MAX_FACTOR_NAME} characters")]
    if len(names) > MAX_FACTORS or len(set(names)) != len(names):
        return [], [_at(node, f"FACTORS must list at most {MAX_FACTORS} distinct names")]
    return names, []


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
