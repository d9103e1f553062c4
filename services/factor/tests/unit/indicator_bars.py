"""Real daily bars from ../shared/data/long/ for the indicator tests: one stock's series, or a 2-stock panel on
the union of their dates, where a stock's missing dates (suspensions, before listing, after delisting) are NaN."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from zquant_kit.testing import SHARED_DATA

LONG = SHARED_DATA / "long"
CODES = ("600000.SH", "002032.SZ")
FIELDS = ("open", "high", "low", "close", "vol")


@cache
def series(code: str) -> pd.DataFrame:
    """One stock's bars in date order, missing dates simply absent (as in the files)."""
    return pd.read_csv(LONG / f"{code}.csv").sort_values("trade_date").reset_index(drop=True)


@cache
def panel() -> dict[str, np.ndarray]:
    """field → (union dates × 2 stocks) float64, NaN where a stock has no bar that day."""
    frames = {code: series(code).set_index("trade_date") for code in CODES}
    dates = sorted(set().union(*(frame.index for frame in frames.values())))
    return {
        field: np.column_stack([frames[code][field].reindex(dates).to_numpy(float) for code in CODES])
        for field in FIELDS
    }
