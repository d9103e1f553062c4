"""In-memory fakes of the calculation ports, over REAL bars: the four banks of ../shared/data/a_share.

`BankMarket` serves hfq (price × adj_factor) panels on the real calendar of those files; the value store keeps
dense panels per (factor, column); the pool runs the worker functions inline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from zquant_factor.application.calculation_ports import CalculationRecord
from zquant_factor.application.market_ports import Adjust, BarPanel, Credentials
from zquant_kit.delegation import OwnerTokens
from zquant_kit.errors import PermissionDenied
from zquant_kit.testing import SHARED_DATA
from zquant_kit.testing.transactions import FakeStore, FakeTransaction

A_SHARE = SHARED_DATA / "a_share"
PRICES = ("open", "high", "low", "close", "pre_close", "change")


@cache
def _bars() -> pd.DataFrame:
    daily = pd.read_csv(A_SHARE / "daily.csv")
    factors = pd.read_csv(A_SHARE / "adj_factor.csv")
    return daily.merge(factors, on=["ts_code", "trade_date"])


def day(text: str) -> dt.date:
    return dt.datetime.strptime(text, "%Y%m%d").date()


@dataclass
class FakeOwnerTokens(OwnerTokens):
    """Identity's owner tokens: `granted` owner -> token (bob holds the market's token); anyone else is refused
    as identity refuses an owner who lost the permission. Records every ask."""

    granted: dict[str, str] = field(default_factory=lambda: {"bob-id": "token"})
    asked: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    async def token_for(self, owner_id: str, scopes: tuple[str, ...]) -> str:
        self.asked.append((owner_id, scopes))
        if owner_id not in self.granted:
            raise PermissionDenied(
                f"user {owner_id} no longer holds permission 'data:read'", permission="data:read"
            )
        return self.granted[owner_id]


class BankMarket:
    """The MarketDataReader port over the real files; records every panel read (codes, start, end). Panels
    are read with the credentials `bearer` only (empty: the service credential)."""

    def __init__(self) -> None:
        self.bearer = "token"
        self.reads: list[tuple[tuple[str, ...], dt.date, dt.date]] = []
        bars = _bars()
        self.calendar = np.array(sorted({day(str(d)) for d in bars.trade_date}), dtype="datetime64[D]")

    async def trade_days(self, start: dt.date, end: dt.date, credentials: Credentials) -> np.ndarray:
        days = self.calendar
        return days[(days >= np.datetime64(start)) & (days <= np.datetime64(end))]

    async def panel(
        self,
        codes: Sequence[str],
        start: dt.date,
        end: dt.date,
        fields: Sequence[str],
        adjust: Adjust,
        credentials: Credentials,
    ) -> BarPanel:
        assert credentials.bearer == self.bearer
        self.reads.append((tuple(codes), start, end))
        dates = await self.trade_days(start, end, credentials)
        bars = _bars()
        bars = bars[bars.ts_code.isin(codes)].assign(day=pd.to_datetime(bars.trade_date.astype(str)))
        panels = {}
        for name in fields:
            wide = bars.pivot(index="day", columns="ts_code", values=name)
            if adjust is Adjust.HFQ and name in PRICES:
                wide = wide * bars.pivot(index="day", columns="ts_code", values="adj_factor")
            wide = wide.reindex(index=pd.DatetimeIndex(dates), columns=list(codes))
            panels[name] = wide.to_numpy(dtype=np.float64)
        return BarPanel(tuple(codes), dates, panels)

    async def industries(self, credentials: Credentials) -> dict[str, str]:
        basic = pd.read_csv(A_SHARE / "stock_basic.csv")
        return dict(zip(basic.ts_code, basic.industry, strict=True))


class DenseValues:
    """FactorValueStore: per (factor, column) a {(date, code): value} map (NaN kept, as the real store does)."""

    def __init__(self) -> None:
        self.cells: dict[tuple[str, str], dict[tuple[np.datetime64, str], float]] = {}
        self.writes = 0

    async def write(
        self, factor_id: str, column: str, codes: Sequence[str], dates: np.ndarray, values: np.ndarray
    ) -> int:
        return await self.write_columns(factor_id, codes, dates, {column: values})

    async def write_columns(
        self, factor_id: str, codes: Sequence[str], dates: np.ndarray, panels: Mapping[str, np.ndarray]
    ) -> int:
        if any(values.shape != (len(dates), len(codes)) for values in panels.values()):
            raise ValueError("shape")
        self.writes += 1
        for column, values in panels.items():
            cells = self.cells.setdefault((factor_id, column), {})
            for i, date in enumerate(dates):
                for j, code in enumerate(codes):
                    cells[(np.datetime64(date, "D"), code)] = float(values[i, j])
        return sum(int(values.size) for values in panels.values())

    async def read(
        self, factor_id: str, column: str, codes: Sequence[str] | None, start: dt.date, end: dt.date
    ) -> tuple[list[str], np.ndarray, np.ndarray]:
        cells = self.cells.get((factor_id, column), {})
        lo, hi = np.datetime64(start, "D"), np.datetime64(end, "D")
        chosen = list(codes) if codes is not None else sorted({code for _, code in cells})
        dates = np.array(
            sorted({d for d, c in cells if lo <= d <= hi and c in chosen}), dtype="datetime64[D]"
        )
        out = np.full((dates.size, len(chosen)), np.nan)
        for i, date in enumerate(dates):
            for j, code in enumerate(chosen):
                out[i, j] = cells.get((date, code), np.nan)
        return chosen, dates, out

    async def last_date(self, factor_id: str, column: str) -> dt.date | None:
        cells = self.cells.get((factor_id, column))
        return max(d for d, _ in cells).astype(dt.date) if cells else None

    async def delete_factor(self, factor_id: str) -> None:
        for key in [k for k in self.cells if k[0] == factor_id]:
            del self.cells[key]


class MemoryStates:
    def __init__(self) -> None:
        self.saved: dict[tuple[str, str], tuple[dt.date, bytes]] = {}

    async def save(self, factor_id: str, model_id: str, as_of: dt.date, state: bytes) -> None:
        self.saved[(factor_id, model_id)] = (as_of, state)

    async def load(self, factor_id: str, model_id: str) -> tuple[dt.date, bytes] | None:
        return self.saved.get((factor_id, model_id))


class InlinePool:
    size = 2  # a chunk's units split into two calls, as over the service's two workers

    async def run(self, function: Callable[..., Any], *args: Any) -> Any:
        return function(*args)


@dataclass
class CalculationStore(FakeStore):
    calculations: dict[str, CalculationRecord] = field(default_factory=dict)
    keys: dict[tuple[str, str], str] = field(default_factory=dict)


class FakeCalculations:
    def __init__(self, store: CalculationStore) -> None:
        self._s = store

    async def add(self, record: CalculationRecord) -> None:
        self._s.calculations[record.id] = record

    async def get(self, job_id: str) -> CalculationRecord | None:
        return self._s.calculations.get(job_id)

    async def list_page(
        self, owner_id: str | None, after: tuple[str, str] | None, limit: int
    ) -> list[CalculationRecord]:
        rows = sorted(
            self._s.calculations.values(), key=lambda r: (r.created_at.isoformat(), r.id), reverse=True
        )
        mine = [r for r in rows if owner_id is None or r.owner_id == owner_id]
        return [r for r in mine if after is None or (r.created_at.isoformat(), r.id) < after][:limit]

    async def list_owned(self, owner_id: str) -> list[CalculationRecord]:
        return [r for r in self._s.calculations.values() if r.owner_id == owner_id]

    async def claim_key(self, owner_id: str, key: str, job_id: str, now: dt.datetime) -> str:
        return self._s.keys.setdefault((owner_id, key), job_id)

    async def list_unfinished(self) -> list[CalculationRecord]:
        rows = [r for r in self._s.calculations.values() if not r.state.final]
        return sorted(rows, key=lambda r: (r.created_at, r.id))

    async def delete(self, record: CalculationRecord) -> None:
        del self._s.calculations[record.id]
        self._s.keys = {k: job for k, job in self._s.keys.items() if job != record.id}


class CalculationTransaction(FakeTransaction[CalculationStore]):
    def open(self, work: CalculationStore) -> None:
        self.calculations = FakeCalculations(work)
