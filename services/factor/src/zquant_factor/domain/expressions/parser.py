"""Custom expression text → checked tree, through `ast.parse(mode="eval")` and an allow-list of node types.

Nothing is ever compiled or evaluated by Python: the parser only reads the syntax tree and rebuilds it from
the node types in `tree`, refusing everything else (attributes, subscripts, lambdas, comprehensions, strings,
keyword or starred arguments, unknown names) with an ExpressionError that points at the offending fragment.
"""

from __future__ import annotations

import ast
import math

from zquant_factor.domain.expressions import limits
from zquant_factor.domain.expressions.errors import ExpressionError
from zquant_factor.domain.expressions.fields import FIELDS
from zquant_factor.domain.expressions.functions import FUNCTIONS, Signature, WindowKind
from zquant_factor.domain.expressions.tree import (
    Binary,
    Call,
    Constant,
    FieldRef,
    Negate,
    Node,
    fields,
    lookback,
)

_ARITHMETIC: dict[type[ast.operator], str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_COMPARISONS: dict[type[ast.cmpop], str] = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
}
_WHAT: dict[type[ast.AST], str] = {
    ast.Attribute: "an attribute access",
    ast.Subscript: "a subscript",
    ast.Lambda: "a lambda",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a comprehension",
    ast.JoinedStr: "an f-string",
    ast.Starred: "a starred argument",
    ast.BoolOp: "a boolean operator (use where)",
    ast.IfExp: "a conditional expression (use where)",
    ast.NamedExpr: "an assignment",
    ast.Tuple: "a tuple",
    ast.List: "a list",
    ast.Set: "a set",
    ast.Dict: "a dict",
    ast.Await: "an await",
    ast.Yield: "a yield",
}
_QUOTED = 80
"""Characters of a fragment quoted in a message; the error's `fragment` holds it whole."""
_WHITESPACE = str.maketrans({"\t": " ", "\n": " ", "\r": " "})


def parse_tree(source: str) -> Node:
    """The checked tree of `source`, or ExpressionError saying what is wrong and where."""
    text = _screened(source)
    lead = len(text) - len(text.lstrip(" "))
    try:
        parsed = ast.parse(text[lead:], mode="eval")
    except SyntaxError as error:
        column = lead + max((error.offset or 1) - 1, 0)
        fragment = text[column : column + 20]
        raise ExpressionError(
            f"syntax error: {fragment} at column {column} ({error.msg})", column=column, fragment=fragment
        ) from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError(f"too complex: nested deeper than {limits.MAX_DEPTH} levels") from None
    root = _Builder(text, lead).node(parsed.body, depth=1)
    if not fields(root):
        raise ExpressionError(f"no field: {_quoted(text.strip())} is one constant for every stock and day")
    return root


def _quoted(fragment: str) -> str:
    return fragment if len(fragment) <= _QUOTED else fragment[: _QUOTED - 1] + "…"


def _screened(source: str) -> str:
    """`source` with tabs and line breaks as spaces (same offsets), once its length and characters are known safe."""
    if len(source) > limits.MAX_LENGTH:
        raise ExpressionError(f"too long: {len(source)} characters, at most {limits.MAX_LENGTH}")
    if not source.strip():
        raise ExpressionError("empty: an expression is required")
    text = source.translate(_WHITESPACE)
    for column, char in enumerate(text):
        if not " " <= char <= "~":
            raise ExpressionError(
                f"bad character: {char!r} at column {column}; only printable ASCII is accepted",
                column=column,
                fragment=char,
            )
    return text


class _Builder:
    """One walk over the syntax tree, counting nodes and depth as it rebuilds."""

    def __init__(self, text: str, lead: int) -> None:
        self._text = text
        self._lead = lead
        self._nodes = 0

    def node(self, node: ast.expr, depth: int) -> Node:
        if depth > limits.MAX_DEPTH:
            raise self._error(node, "too deep", f"nests more than {limits.MAX_DEPTH} levels")
        self._nodes += 1
        if self._nodes > limits.MAX_NODES:
            raise self._error(node, "too large", f"is past the limit of {limits.MAX_NODES} nodes")
        match node:
            case ast.Name(id=name):
                return self._name(node, name)
            case ast.Constant(value=value):
                return Constant(self._number(node, value))
            case ast.UnaryOp(op=ast.USub(), operand=operand):
                return Negate(self.node(operand, depth + 1))
            case ast.UnaryOp(op=ast.UAdd(), operand=operand):
                return self.node(operand, depth + 1)
            case ast.BinOp(op=op, left=left, right=right) if type(op) in _ARITHMETIC:
                return Binary(_ARITHMETIC[type(op)], self.node(left, depth + 1), self.node(right, depth + 1))
            case ast.Compare(left=left, ops=[op], comparators=[right]) if type(op) in _COMPARISONS:
                return Binary(_COMPARISONS[type(op)], self.node(left, depth + 1), self.node(right, depth + 1))
            case ast.Call():
                return self._call(node, depth)
        raise self._error(node, "not allowed", f"is {self._what(node)}")

    def _name(self, node: ast.expr, name: str) -> FieldRef:
        if name in FIELDS:
            return FieldRef(name)
        if name in FUNCTIONS:
            raise self._error(node, "not a field", f"is a function; call it as {FUNCTIONS[name].usage}")
        raise self._error(node, "unknown name", f"is not a field ({', '.join(sorted(FIELDS))})")

    def _number(self, node: ast.expr, value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._error(node, "not allowed", "is not a number; only numeric constants are accepted")
        if not (isinstance(value, int) or math.isfinite(value)) or abs(value) > limits.MAX_CONSTANT:
            raise self._error(node, "constant too large", f"is beyond ±{limits.MAX_CONSTANT:g}")
        return float(value)

    def _call(self, node: ast.Call, depth: int) -> Call:
        if not isinstance(node.func, ast.Name):
            raise self._error(node.func, "not allowed", "is not a function name")
        name = node.func.id
        signature = FUNCTIONS.get(name)
        if signature is None:
            what = "is a field, not a function" if name in FIELDS else "is not a function"
            raise self._error(node.func, "unknown function", f"{what} ({', '.join(sorted(FUNCTIONS))})")
        if node.keywords:
            raise self._error(node, "not allowed", f"passes keyword arguments; call it as {signature.usage}")
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self._error(arg, "not allowed", "is a starred argument")
        if len(node.args) != signature.arity:
            raise self._error(
                node, "wrong arguments", f"takes {signature.arity} ({signature.usage}), got {len(node.args)}"
            )
        panels = node.args[: len(signature.params)]
        window = self._window(node, signature) if signature.window is not WindowKind.NONE else None
        call = Call(signature, tuple(self.node(arg, depth + 1) for arg in panels), window)
        if lookback(call) > limits.MAX_LOOKBACK:
            raise self._error(
                node, "look-back too long", f"needs more than {limits.MAX_LOOKBACK} bars of history"
            )
        return call

    def _window(self, node: ast.Call, signature: Signature) -> int:
        """The integer constant closing a time-series call; a negative one would read the future."""
        arg = node.args[-1]
        negative = isinstance(arg, ast.UnaryOp) and isinstance(arg.op, ast.USub)
        literal = (
            arg.operand if isinstance(arg, ast.UnaryOp) and isinstance(arg.op, ast.USub | ast.UAdd) else arg
        )
        label = "lag" if signature.window is WindowKind.LAG else "window"
        if (
            not isinstance(literal, ast.Constant)
            or isinstance(literal.value, bool)
            or not isinstance(literal.value, int)
        ):
            raise self._error(node, f"bad {label}", f"needs n as an integer constant, in {signature.usage}")
        value = -literal.value if negative else literal.value
        if value < 0:
            shifts = "shifts by a negative lag" if label == "lag" else "has a negative window"
            raise self._error(node, "look-ahead", shifts)
        if not signature.min_window <= value <= limits.MAX_WINDOW:
            raise self._error(
                node,
                f"bad {label}",
                f"needs n from {signature.min_window} to {limits.MAX_WINDOW}, got {value}",
            )
        return int(value)

    def _what(self, node: ast.AST) -> str:
        if isinstance(node, ast.UnaryOp | ast.BinOp | ast.Compare):
            return "an operator that is not accepted (+ - * /, unary minus and one comparison are)"
        return _WHAT.get(type(node), f"a {type(node).__name__} expression, which is not accepted")

    def _error(self, node: ast.AST, label: str, why: str) -> ExpressionError:
        column = self._lead + getattr(node, "col_offset", 0)
        end = self._lead + (getattr(node, "end_col_offset", None) or column + 1)
        fragment = self._text[column:end]
        return ExpressionError(
            f"{label}: {_quoted(fragment)} at column {column} {why}", column=column, fragment=fragment
        )
