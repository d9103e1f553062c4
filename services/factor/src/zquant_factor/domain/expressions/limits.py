"""Bounds every custom expression must stay within, so parsing and evaluation stay cheap whatever a client sends."""

from __future__ import annotations

MAX_LENGTH = 2000
"""Characters of source; longer input is refused before the parser sees it."""

MAX_DEPTH = 32
"""Nesting of calls and operators in the checked tree."""

MAX_NODES = 256
"""Nodes (fields, constants, operators, calls) in the checked tree."""

MIN_WINDOW = 1
MAX_WINDOW = 1000
"""Bounds of a window or lag argument, in bars of the stock (suspended days not counted)."""

MAX_LOOKBACK = 5000
"""Bound of the whole expression's warm-up (nested windows add up)."""

MAX_CONSTANT = 1e12
"""Largest magnitude of a numeric constant."""
