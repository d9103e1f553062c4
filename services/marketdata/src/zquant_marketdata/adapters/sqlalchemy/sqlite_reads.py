"""Bar reads on SQLite (all-in-one mode) decoded in a worker process.

SQLite hands rows over as Python tuples, and turning 400k of them into numpy columns is Python
work that holds the GIL for about a second: on a thread it would stall the event loop, and every
unrelated call with it. Here a worker process (`zquant_kit.workers`) opens the database itself,
read-only, runs the query and returns compact arrays (per-code runs, sorted by code), which
cross the process boundary as a few buffers. Codes are bound as one JSON parameter, however many.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Sequence

import numpy as np

BATCH_ROWS = 16_384
"""Rows fetched and decoded at a time: the Python objects alive stay a few MB."""

Runs = tuple[list[str], np.ndarray, np.ndarray, list[np.ndarray]]
"""(codes sorted, rows per code, days as int64 days since 1970-01-01, one float64 array per column)."""

_connections: dict[str, sqlite3.Connection] = {}


def _connection(path: str) -> sqlite3.Connection:
    connection = _connections.get(path)
    if connection is None:
        # Autocommit: each SELECT is its own deferred read transaction, so it takes no lock in WAL mode.
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA busy_timeout=5000")
        connection.execute("PRAGMA query_only=ON")
        _connections[path] = connection
    return connection


def statement(dataset: str, columns: Sequence[str], with_codes: bool) -> str:
    """The read's SQL; `dataset` and `columns` are checked against the schema by the caller. No
    ORDER BY: walking the key index costs a table lookup per row, twice a plain scan; the worker
    groups the rows by code with numpy instead."""
    names = ", ".join(f'"{name}"' for name in columns)
    codes = " AND ts_code IN (SELECT value FROM json_each(?))" if with_codes else ""
    return f'SELECT ts_code, trade_date, {names} FROM "{dataset}" WHERE trade_date BETWEEN ? AND ?{codes}'


def parameters(ts_codes: Sequence[str] | None, start: dt.date, end: dt.date) -> list[str]:
    found = [start.isoformat(), end.isoformat()]
    if ts_codes is not None:
        found.append(json.dumps(list(ts_codes)))
    return found


def decode(cursor, column_count: int) -> Runs:
    """The cursor's (ts_code, trade_date, values...) rows, in any order, as per-code runs (codes
    sorted). Each batch becomes numpy right away (codes as small integers), so only one batch of
    Python objects is ever alive."""
    numbers: dict[str, int] = {}
    code_ids: list[np.ndarray] = []
    days: list[np.ndarray] = []
    values: list[list[np.ndarray]] = [[] for _ in range(column_count)]
    while batch := cursor.fetchmany(BATCH_ROWS):
        columns = list(zip(*batch, strict=True))
        del batch
        code_ids.append(np.fromiter(
            (numbers.setdefault(code, len(numbers)) for code in columns[0]), dtype=np.int64, count=len(columns[0])
        ))
        days.append(np.array(columns[1], dtype="datetime64[D]").astype(np.int64))
        for target, column in zip(values, columns[2:], strict=True):
            target.append(np.array(column, dtype=np.float64))  # None (NULL) becomes NaN
    if not numbers:
        return [], np.empty(0, np.int64), np.empty(0, np.int64), [np.empty(0) for _ in range(column_count)]
    codes = sorted(numbers)
    rank = np.empty(len(codes), dtype=np.int64)
    rank[[numbers[code] for code in codes]] = np.arange(len(codes))
    index = rank[np.concatenate(code_ids)]
    order = np.argsort(index, kind="stable")
    return (
        codes,
        np.bincount(index, minlength=len(codes)).astype(np.int64),
        np.concatenate(days)[order],
        [np.concatenate(parts)[order] for parts in values],
    )


def read_runs(path: str, sql: str, params: list[str], column_count: int) -> Runs:
    """Runs in the worker process: one query, decoded in batches."""
    return decode(_connection(path).execute(sql, params), column_count)
