"""Which codes a strategy may trade on a date: explicit codes, index members as of that date, and filters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from zquant_backtest.domain.arrays import BoolArray
from zquant_backtest.domain.boards import Board
from zquant_backtest.domain.market import MarketPanel


@dataclass(frozen=True)
class UniverseSelection:
    """Every condition must hold. ``codes`` None: all the panel's codes; ``index_members``: only codes in the
    panel's ``members`` on that very date (a code that left the index later still counts before it left)."""

    codes: Sequence[str] | None = None
    index_members: bool = False
    boards: Sequence[Board] | None = None
    industries: Sequence[str] | None = None
    min_list_days: int = 1
    exclude_st: bool = False

    def static_mask(self, panel: MarketPanel) -> BoolArray:
        """The conditions that do not change with the date."""
        mask = np.ones(len(panel.codes), dtype=bool)
        if self.codes is not None:
            mask &= np.isin(np.array(panel.codes, dtype=object), np.array(list(self.codes), dtype=object))
        if self.boards is not None:
            mask &= np.isin(panel.universe.boards, np.array([int(b) for b in self.boards], dtype=np.int8))
        if self.industries is not None:
            if panel.industries is None:
                raise ValueError("an industry filter needs the panel's industries")
            mask &= np.isin(
                np.array(panel.industries, dtype=object), np.array(list(self.industries), dtype=object)
            )
        return mask

    def eligible(self, panel: MarketPanel, t: int, static: BoolArray | None = None) -> BoolArray:
        """Codes eligible on day ``t``, judged from day ``t``'s own data only."""
        mask = (self.static_mask(panel) if static is None else static) & (
            panel.list_days[t] >= self.min_list_days
        )
        if self.exclude_st:
            mask &= ~panel.is_st[t]
        if self.index_members:
            if panel.members is None:
                raise ValueError("an index universe needs the panel's membership")
            mask &= panel.members[t]
        eligible: BoolArray = mask
        return eligible
