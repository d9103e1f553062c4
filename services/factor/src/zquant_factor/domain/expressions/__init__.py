"""Custom factor expressions: text parsed into a checked tree (never `eval`), evaluated on dates × stocks panels."""

from zquant_factor.domain.expressions.errors import ExpressionError
from zquant_factor.domain.expressions.expression import CheckedExpression
from zquant_factor.domain.expressions.fields import FIELDS
from zquant_factor.domain.expressions.functions import FUNCTIONS

__all__ = ["FIELDS", "FUNCTIONS", "CheckedExpression", "ExpressionError"]
