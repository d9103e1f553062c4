"""What a decision may see of the market: the panel's rows up to a cut-off, handed out as copies, so a strategy
can neither read a later row nor reach the panel through a view's ``base``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from zquant_backtest.domain.arrays import IntArray
from zquant_backtest.domain.market import PRICE_FIELDS, MarketPanel

VISIBLE_FIELDS = (*PRICE_FIELDS, "up_limit", "down_limit", "is_st", "is_suspended", "list_days")


@dataclass(frozen=True, eq=False)
class MarketWindow:
    panel: MarketPanel
    visible: int
    """Rows 0 … visible − 1 may be read: t + 1 at day t's close, t before day t's open."""

    def history(self, field: str, n: int, columns: IntArray | None = None) -> npt.NDArray[np.generic]:
        """The last ``n`` visible rows (fewer near the start), oldest first, of ``columns`` (all when None)."""
        if field not in VISIBLE_FIELDS:
            raise KeyError(f"no field {field!r}; fields: {', '.join(VISIBLE_FIELDS)}")
        if n < 1:
            raise ValueError("history needs n >= 1")
        rows = getattr(self.panel, field)[max(self.visible - n, 0) : self.visible]
        picked: npt.NDArray[np.generic] = rows.copy() if columns is None else rows[:, columns]
        return picked

    def latest(self, field: str) -> npt.NDArray[np.generic]:
        """The last visible row of ``field`` (NaN / False / 0 before the first day)."""
        if self.visible == 0:
            source: npt.NDArray[np.generic] = getattr(self.panel, field)
            empty = np.nan if source.dtype.kind == "f" else 0
            blank: npt.NDArray[np.generic] = np.full(source.shape[1], empty, dtype=source.dtype)
            return blank
        row: npt.NDArray[np.generic] = self.history(field, 1)[0]
        return row
