"""ValidateData: quality checks on the stored bars, and optionally a comparison with the source.

The checks themselves are pure (`domain.quality`); this use case reads the rows, the trade
calendar and the listing dates, asks the source where it must, and collects the issues.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from zquant_kit.errors import InvalidArgument
from zquant_marketdata.application.bar_store_port import BarStore
from zquant_marketdata.application.source_port import BarQuery, MarketDataSource
from zquant_marketdata.application.sync_ports import Clock, ReferenceDataReader, SourceProvider, StockLife
from zquant_marketdata.domain import quality
from zquant_marketdata.domain.bar_rows import BarRows
from zquant_marketdata.domain.errors import SourceError
from zquant_marketdata.domain.quality import Issue
from zquant_marketdata.domain.sync import (
    BAR_DATASETS,
    CALENDAR_EXCHANGE,
    INDEX_CODES,
    check_range,
    fmt_date,
    parse_date,
)

log = logging.getLogger(__name__)

DEFAULT_SPAN_DAYS = 90
ADJ_LOOKBACK_DAYS = 40
"""History read before the range so its first bar has a predecessor for the ex-rights identity."""
MAX_SOURCE_PROBES = 200
"""Missing-day runs checked against the source one call each; beyond this they stay unverified."""
MAX_COMPARE_DAYS = 366
"""A source comparison spends the shared API quota: at most a year per call."""
PER_CODE_LIMIT = 50
"""Up to this many codes the source is asked per code and range, else per trade date."""


@dataclass(frozen=True)
class ValidationRequest:
    """What ValidateData checks: `dataset` (blank: daily) between two YYYYMMDD dates (blank: the last
    `DEFAULT_SPAN_DAYS` stored), for `ts_codes` (none: every code). `use_source` False (callers without
    data:sync) never spends source quota: gaps stay unverified."""

    dataset: str
    start_date: str
    end_date: str
    ts_codes: Sequence[str] = ()
    compare_with_source: bool = False
    use_source: bool = True


@dataclass(frozen=True)
class ValidationReport:
    rows_checked: int
    issues: list[Issue]
    truncated: bool = False


def bar_rows(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> BarRows:
    dates = frame["trade_date"]
    if not pd.api.types.is_datetime64_any_dtype(dates):
        dates = pd.to_datetime(dates.astype(str), format="ISO8601")
    names = [
        c for c in (columns or frame.columns) if c not in ("ts_code", "trade_date") and c in frame.columns
    ]
    values = {
        name: pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        for name in names
    }
    return BarRows.of_rows(
        frame["ts_code"].astype(str).to_numpy(), dates.to_numpy().astype("datetime64[D]"), values
    )


@dataclass(frozen=True)
class ValidateUseCases:
    repo: ReferenceDataReader
    bar_store: BarStore
    sources: SourceProvider
    clock: Clock
    max_issues: int = field(default=10_000, kw_only=True)

    async def validate(self, request: ValidationRequest) -> ValidationReport:
        dataset = request.dataset.strip() or "daily"
        if dataset not in BAR_DATASETS:
            raise InvalidArgument(
                "dataset", f"unknown dataset {dataset!r}; expected one of {list(BAR_DATASETS)}"
            )
        start = parse_date(request.start_date, "start_date")
        end = parse_date(request.end_date, "end_date")
        check_range(start, end)
        codes = sorted({c.strip() for c in request.ts_codes if c.strip()}) or None
        if end is None:
            end = await self.bar_store.last_trade_date(dataset) or self.clock.now().date()
        if start is None:
            start = end - dt.timedelta(days=DEFAULT_SPAN_DAYS)
        check_range(start, end)
        if request.compare_with_source and (end - start).days > MAX_COMPARE_DAYS:
            raise InvalidArgument("end_date", f"a source comparison covers at most {MAX_COMPARE_DAYS} days")

        lookback = start - dt.timedelta(days=ADJ_LOOKBACK_DAYS) if dataset == "daily" else start
        stored = await self.bar_store.read_bars(dataset, codes, lookback, end)
        in_range = stored[stored["trade_date"] >= pd.Timestamp(start)].reset_index(drop=True)
        rows = bar_rows(in_range)
        issues: list[Issue] = []

        if dataset in ("daily", "index_daily"):
            issues += quality.ohlc_issues(rows)
        if dataset == "daily" and not stored.empty:
            factors = await self.bar_store.read_bars("adj_factor", codes, lookback, end)
            if not factors.empty:
                joined = stored[["ts_code", "trade_date", "close", "pre_close"]].merge(
                    factors[["ts_code", "trade_date", "adj_factor"]], on=["ts_code", "trade_date"]
                )
                issues += quality.adj_gap_issues(bar_rows(joined), report_from=start)

        source: MarketDataSource | None = None
        remote: pd.DataFrame | None = None
        if request.compare_with_source:
            source = (await self.sources.current()).source
            remote = await self._fetch_remote(source, dataset, codes, start, end)
            if codes is not None:
                remote = remote[remote["ts_code"].isin(codes)]
            issues += quality.compare_rows(rows, bar_rows(remote), list(rows.values))

        issues += await self._missing_days(
            dataset, in_range, codes, start, end, source, remote, request.use_source
        )
        issues.sort(key=lambda i: (i.ts_code, i.trade_date or dt.date.min, i.kind))
        truncated = len(issues) > self.max_issues
        return ValidationReport(len(in_range), issues[: self.max_issues], truncated)

    async def _open_days(
        self, source: MarketDataSource | None, start: dt.date, end: dt.date
    ) -> list[dt.date]:
        days = await self.repo.open_days(CALENDAR_EXCHANGE, start, end)
        if days or source is None:
            return days
        calendar = await source.calendar(CALENDAR_EXCHANGE, fmt_date(start), fmt_date(end))
        return [day.cal_date for day in calendar if day.is_open]

    async def _fetch_remote(
        self, source: MarketDataSource, dataset: str, codes: list[str] | None, start: dt.date, end: dt.date
    ) -> pd.DataFrame:
        frames = []
        if dataset == "index_daily":
            for code in codes or INDEX_CODES:
                query = BarQuery(
                    "index_daily", ts_code=code, start_date=fmt_date(start), end_date=fmt_date(end)
                )
                frames.append(await source.bars(query))
        elif codes is not None and len(codes) <= PER_CODE_LIMIT:
            for code in codes:
                query = BarQuery(dataset, ts_code=code, start_date=fmt_date(start), end_date=fmt_date(end))
                frames.append(await source.bars(query))
        else:
            for day in await self._open_days(source, start, end):
                frames.append(await source.bars(BarQuery(dataset, trade_date=fmt_date(day))))
        frames = [f for f in frames if not f.empty]
        if not frames:
            return pd.DataFrame({"ts_code": pd.Series(dtype=str), "trade_date": pd.Series(dtype=str)})
        return pd.concat(frames, ignore_index=True)

    async def _missing_days(
        self,
        dataset: str,
        in_range: pd.DataFrame,
        codes: list[str] | None,
        start: dt.date,
        end: dt.date,
        source: MarketDataSource | None,
        remote: pd.DataFrame | None,
        use_source: bool,
    ) -> list[Issue]:
        open_days = await self._open_days(source, start, end)
        if not open_days:
            return []
        present: dict[str, set[dt.date]] = {}
        for code, dates in in_range.groupby("ts_code")["trade_date"]:
            present[str(code)] = {d.date() for d in dates}
        universe = codes or sorted(present)
        lives = await self.repo.stock_lives(universe)
        remote_days: dict[str, set[dt.date]] | None = None
        if remote is not None:
            remote_days = {}
            if not remote.empty:
                remote_dates = pd.to_datetime(remote["trade_date"].astype(str), format="ISO8601")
                for code, dates in remote_dates.groupby(remote["ts_code"].astype(str)):
                    remote_days[str(code)] = {d.date() for d in dates}

        issues: list[Issue] = []
        probes = 0
        for code in universe:
            days = present.get(code, set())
            life = lives.get(code, StockLife(None, None))
            listed, delisted = life.list_date, life.delist_date
            if code in lives:
                life_start = max(start, listed) if listed else (min(days) if days else start)
                life_end = min(end, delisted - dt.timedelta(days=1)) if delisted else end
            elif days:
                life_start = min(days)
                life_end = end if dataset == "index_daily" else max(days)
            else:
                continue
            runs = quality.missing_runs(days, open_days, life_start, life_end)
            if not runs:
                continue
            if remote_days is not None:
                issues += quality.classify_missing(code, runs, remote_days.get(code, set()))
                continue
            for run in runs:
                if not use_source:
                    issues.append(_unverified(code, run, "source not consulted without data:sync"))
                    continue
                if source is None:
                    source = (await self.sources.current()).source
                if probes >= MAX_SOURCE_PROBES:
                    issues.append(_unverified(code, run, "too many gaps to check each at the source"))
                    continue
                probes += 1
                try:
                    at_source = await self._probe(source, dataset, code, run[0], run[-1])
                except SourceError as exc:
                    issues.append(_unverified(code, run, f"source unavailable: {exc}"))
                    continue
                issues += quality.classify_missing(code, [run], at_source)
        return issues

    async def _probe(
        self, source: MarketDataSource, dataset: str, code: str, first: dt.date, last: dt.date
    ) -> set[dt.date]:
        query = BarQuery(dataset, ts_code=code, start_date=fmt_date(first), end_date=fmt_date(last))
        frame = await source.bars(query)
        if frame.empty:
            return set()
        return {d.date() for d in pd.to_datetime(frame["trade_date"].astype(str), format="ISO8601")}


def _unverified(code: str, run: Sequence[dt.date], why: str) -> Issue:
    span = fmt_date(run[0]) if len(run) == 1 else f"{fmt_date(run[0])}..{fmt_date(run[-1])}"
    return Issue("missing_trade_day", code, run[0], f"{len(run)} open day(s) {span} without a bar ({why})")
