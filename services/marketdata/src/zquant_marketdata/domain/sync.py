"""Sync vocabulary: datasets, modes, run states, request validation, progress and log records.

Pure Python: the application layer drives sources and stores with these.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TypeVar

from zquant_kit.dates import format_yyyymmdd, is_yyyymmdd, parse_yyyymmdd
from zquant_kit.errors import InvalidArgument
from zquant_kit.text import check_text
from zquant_marketdata.domain.rule_datasets import RULE_DATASETS, FetchPlan

DATASETS: tuple[str, ...] = (
    "stock_basic", "trade_cal", "daily", "adj_factor", "daily_basic", "index_daily", "stk_factor",
    "stk_limit", "namechange", "index_weight", "suspend_d", "dividend",
)  # fmt: skip
"""Every dataset a sync knows, in the order a run processes them."""

BAR_DATASETS: tuple[str, ...] = ("daily", "adj_factor", "daily_basic", "index_daily", "stk_factor", "stk_limit")
DATE_DRIVEN: tuple[str, ...] = ("daily", "adj_factor", "daily_basic", "stk_factor", "stk_limit")
"""Fetched one trade date at a time for the whole market."""

EXPECTS_ROWS: frozenset[str] = frozenset({"daily", "adj_factor", "daily_basic"})
"""On an open day the source must answer rows for these; stk_factor may legitimately be empty."""

OPTIONAL_DATASETS: frozenset[str] = frozenset(
    {"stk_factor", "stk_limit", "suspend_d", "namechange", "dividend", "index_weight"}
)
"""A source that lacks these (no permission, no such API) makes the dataset skipped, not the run failed."""

INDEX_CODES: tuple[str, ...] = ("000001.SH", "000300.SH", "000905.SH", "399006.SZ")
CALENDAR_EXCHANGE = "SSE"
SECOND_CALENDAR_EXCHANGE = "SZSE"
INDEX_WINDOW_DAYS = 5 * 366
"""index_daily is fetched by code and range; 5 years stay under Tushare's 8000 rows per call."""



def needs_calendar(dataset: str) -> bool:
    """Whether a sync of the dataset is driven by open trade days (so the calendar is fetched first)."""
    rule = RULE_DATASETS.get(dataset)
    return dataset in DATE_DRIVEN or dataset == "trade_cal" or (rule is not None and rule.plan is FetchPlan.PER_OPEN_DAY)


class SyncMode(StrEnum):
    INCREMENTAL = "incremental"
    FULL = "full"


class RunState(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self is not RunState.RUNNING


class LogResult(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"


FIRST_YEAR, LAST_YEAR = 1990, 2100
"""Dates a client may name: the exchanges opened in 1990; beyond 2100 date arithmetic nears its limits."""


def parse_date(value: str, field_name: str) -> dt.date | None:
    """`YYYYMMDD` (Tushare's format) in 1990..2100, or empty for "not given"; anything else names the field."""
    value = (value or "").strip()
    if not value:
        return None
    if not is_yyyymmdd(value):
        raise InvalidArgument(field_name, f"expected a date as YYYYMMDD, got {value[:20]!r}")
    try:
        day: dt.date = parse_yyyymmdd(value)
    except ValueError:
        raise InvalidArgument(field_name, f"not a calendar date: {value!r}") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise InvalidArgument(field_name, f"must be between {FIRST_YEAR}0101 and {LAST_YEAR}1231, got {value}")
    return day


fmt_date = format_yyyymmdd


def check_datasets(names: Iterable[str], field_name: str = "datasets") -> tuple[str, ...]:
    """Known names in processing order, duplicates dropped; empty means every dataset."""
    wanted = [name.strip() for name in names if name.strip()]
    unknown = sorted({name for name in wanted if name not in DATASETS})
    if unknown:
        raise InvalidArgument(field_name, f"unknown dataset(s) {unknown}; expected some of {list(DATASETS)}")
    if not wanted:
        return DATASETS
    return tuple(name for name in DATASETS if name in wanted)


def check_range(start: dt.date | None, end: dt.date | None) -> None:
    if start and end and start > end:
        raise InvalidArgument("start_date", f"{fmt_date(start)} is after end_date {fmt_date(end)}")


@dataclass(frozen=True, slots=True)
class SyncRequest:
    """A validated StartSync: datasets in processing order, mode, optional bounds."""

    datasets: tuple[str, ...]
    mode: SyncMode
    start: dt.date | None
    end: dt.date | None

    @classmethod
    def parse(cls, datasets: Sequence[str], mode: SyncMode, start_date: str, end_date: str) -> SyncRequest:
        names = check_datasets(datasets)
        start = parse_date(start_date, "start_date")
        end = parse_date(end_date, "end_date")
        check_range(start, end)
        return cls(names, mode, start, end)


@dataclass(frozen=True, slots=True)
class DatasetWindow:
    """The dates one dataset covers in a run: [start, end], empty when start > end."""

    dataset: str
    start: dt.date
    end: dt.date

    @property
    def empty(self) -> bool:
        return self.start > self.end


def window_for(
    dataset: str,
    mode: SyncMode,
    requested_start: dt.date | None,
    default_start: dt.date,
    end: dt.date,
    checkpoint: dt.date | None,
) -> DatasetWindow:
    """Incremental resumes the day after the checkpoint (or starts where a full run would);
    full covers the requested range again."""
    if mode is SyncMode.INCREMENTAL and checkpoint is not None:
        start = checkpoint + dt.timedelta(days=1)
    else:
        start = requested_start or default_start
    return DatasetWindow(dataset, start, end)


T = TypeVar("T")


def batches(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    if size < 1:
        raise ValueError("batch size must be at least 1")
    for offset in range(0, len(items), size):
        yield items[offset : offset + size]


def date_windows(start: dt.date, end: dt.date, days: int = INDEX_WINDOW_DAYS) -> list[tuple[dt.date, dt.date]]:
    """[start, end] cut into consecutive windows of at most `days` calendar days."""
    windows = []
    cursor = start
    while cursor <= end:
        last = min(end, cursor + dt.timedelta(days=days - 1))
        windows.append((cursor, last))
        cursor = last + dt.timedelta(days=1)
    return windows


@dataclass(slots=True)
class SyncProgress:
    """What a watcher sees of a run; counts add up over the run's datasets."""

    run_id: str
    dataset: str = ""
    percent: float = 0.0
    current_date: str = ""
    rows_fetched: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    state: RunState = RunState.RUNNING
    error: str = ""

    def snapshot(self) -> SyncProgress:
        return replace(self)


@dataclass(slots=True)
class SyncRun:
    id: str
    requested_by: str
    datasets: tuple[str, ...]
    mode: SyncMode
    start: dt.date | None
    end: dt.date | None
    state: RunState
    created_at: dt.datetime
    error: str | None = None
    finished_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class SyncCompleted:
    """What a finished run wrote, for `marketdata.sync.completed.v1`: datasets in processing order and
    the trade-date range they cover together (None for datasets without dates, e.g. stock_basic alone)."""

    run_id: str
    datasets: tuple[str, ...]
    start: dt.date | None
    end: dt.date | None
    state: RunState


SYNC_COMPLETED_EVENT = "marketdata.sync.completed.v1"


def completed_of(run_id: str, state: RunState, written: dict[str, tuple[dt.date, dt.date]]) -> SyncCompleted | None:
    """The completion record of a run that ended succeeded, or failed / cancelled after writing something."""
    if state is RunState.RUNNING or (state is not RunState.SUCCEEDED and not written):
        return None
    names = tuple(name for name in DATASETS if name in written)
    starts = [written[name][0] for name in names]
    ends = [written[name][1] for name in names]
    return SyncCompleted(run_id, names, min(starts) if starts else None, max(ends) if ends else None, state)


@dataclass(slots=True)
class SyncLogEntry:
    """One dataset (or skipped part of it) in one run."""

    id: str
    run_id: str
    dataset: str
    api_name: str
    start: dt.date | None
    end: dt.date | None
    started_at: dt.datetime
    ended_at: dt.datetime | None = None
    rows_fetched: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    result: LogResult = LogResult.SUCCEEDED
    error: str | None = None

    @property
    def duration_seconds(self) -> float:
        if self.ended_at is None:
            return 0.0
        return max(0.0, (self.ended_at - self.started_at).total_seconds())


@dataclass(frozen=True, slots=True)
class TableStatistic:
    """State of one dataset on one trade date after a run wrote it."""

    dataset: str
    stat_date: dt.date
    total_rows: int
    rows_on_date: int
    inserted: int
    updated: int


@dataclass(frozen=True, slots=True)
class DatasetStatus:
    dataset: str
    last_trade_date: dt.date | None
    last_run_state: str
    last_run_time: dt.datetime | None


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """Tushare connection settings; the token itself never leaves the secrets adapter in clear
    except to build the source."""

    token_set: bool
    base_url: str
    calls_per_minute: float
    updated_at: dt.datetime | None = field(default=None)


MIN_CALLS_PER_MINUTE, MAX_CALLS_PER_MINUTE = 1.0, 6000.0
"""The source's rate limit: at least one call a minute, at most 100 a second (Tushare grants far fewer)."""
MAX_BASE_URL_LENGTH = 2048


def check_calls_per_minute(value: float, field_name: str = "calls_per_minute") -> float:
    """A finite rate within the bounds; 0 means "keep the current value" and passes through."""
    if value == 0:
        return 0.0
    if not (math.isfinite(value) and MIN_CALLS_PER_MINUTE <= value <= MAX_CALLS_PER_MINUTE):
        raise InvalidArgument(
            field_name,
            f"must be a number from {MIN_CALLS_PER_MINUTE:g} to {MAX_CALLS_PER_MINUTE:g} (0 keeps the current value)",
        )
    return float(value)


def check_base_url(value: str, field_name: str = "base_url") -> str:
    """An http(s) URL of bounded length without NUL bytes, or empty for "keep the current one"."""
    value = check_text(value.strip(), field_name, max_length=MAX_BASE_URL_LENGTH)
    if value and not value.startswith(("http://", "https://")):
        raise InvalidArgument(field_name, "must be an http:// or https:// URL")
    return value
