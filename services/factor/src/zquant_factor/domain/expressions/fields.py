"""The declared fields an expression may name: daily bar columns and daily valuation/liquidity metrics.

Prices are whatever adjustment the caller loaded (the factor service loads hfq); an expression does not
choose it.
"""

from __future__ import annotations

BAR_FIELDS = ("open", "high", "low", "close", "pre_close", "change", "pct_chg", "vol", "amount")
DAILY_BASIC_FIELDS = ("turnover_rate", "volume_ratio", "total_mv", "circ_mv", "pe", "pb")

FIELDS: frozenset[str] = frozenset(BAR_FIELDS + DAILY_BASIC_FIELDS)
