"""`ExpressionChecker` over the domain's checked expression tree (parsed with an allow-list, never `eval`)."""

from __future__ import annotations

from zquant_factor.application.definition_ports import ExpressionChecker
from zquant_factor.domain.expressions.expression import CheckedExpression


class CheckedExpressions(ExpressionChecker):
    def check(self, text: str) -> None:
        """`ExpressionError` (INVALID_ARGUMENT on `expression`) points at the offending part."""
        CheckedExpression.parse(text)
