"""Outbound ports of the calculated values and the resumable indicator state.

Values are one float64 panel per (factor, column): dates × codes, NaN where nothing was computed
(warm-up, suspension). The store keeps them in per-(code, year) packed blocks and writes in bulk,
so a use case hands it whole panels, never single values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Protocol

import numpy as np


class FactorValueDeletion(Protocol):
    """What the definition use cases need of the values: dropping a factor's, inside their unit of work."""

    async def delete_factor(self, factor_id: str) -> None:
        """Every column's values of the factor, and its indicator state (which only continues those values)."""
        ...


class FactorValueStore(FactorValueDeletion, Protocol):
    async def write(
        self, factor_id: str, column: str, codes: Sequence[str], dates: np.ndarray, values: np.ndarray
    ) -> int:
        """Upserts `values` (float64, len(dates) × len(codes)) at `dates` (datetime64[D], ascending, unique)
        for `codes` (unique); returns how many values it wrote. A NaN is stored as NaN, not skipped, so a
        recomputation can clear a value. `ValueError` for shapes that do not match."""
        ...

    async def write_columns(
        self, factor_id: str, codes: Sequence[str], dates: np.ndarray, panels: Mapping[str, np.ndarray]
    ) -> int:
        """`write` of several columns of the factor over the same codes and dates (a calculator's outputs), in
        one transaction and one bulk pass over their blocks, so an incremental day of every column costs one
        round of statements, not one per column; returns how many values it wrote."""
        ...

    async def read(
        self, factor_id: str, column: str, codes: Sequence[str] | None, start: dt.date, end: dt.date
    ) -> tuple[list[str], np.ndarray, np.ndarray]:
        """(codes, dates, values) for `start` ≤ date ≤ `end`: the codes asked for in their order (every
        stored code, sorted, when `codes` is None), the dates any of them has a value on (datetime64[D],
        ascending) and the float64 panel dates × codes, NaN where a code has no stored value."""
        ...

    async def last_date(self, factor_id: str, column: str) -> dt.date | None:
        """The latest date with a stored value of this column, or None when nothing is stored."""
        ...


class IndicatorStateStore(Protocol):
    """The recursions' state after the last stored date, so an incremental run resumes exactly."""

    async def save(self, factor_id: str, model_id: str, as_of: dt.date, state: bytes) -> None:
        """Replaces the model's state; `as_of` is the last date the state has consumed."""
        ...

    async def load(self, factor_id: str, model_id: str) -> tuple[dt.date, bytes] | None: ...
