"""The one error a custom expression raises, whatever is wrong with it.

It is an `InvalidArgument` on the `expression` field, so the gRPC adapter maps it to INVALID_ARGUMENT,
and it carries the column offset and the source fragment so a client can underline the offending part.
"""

from __future__ import annotations

from zquant_kit.errors import InvalidArgument

FIELD = "expression"


class ExpressionError(InvalidArgument):
    """`column` is the 0-based character offset of `fragment` in the source; -1 when it is the whole input."""

    def __init__(self, description: str, *, column: int = -1, fragment: str = "") -> None:
        super().__init__(FIELD, description)
        self.column = column
        self.fragment = fragment
