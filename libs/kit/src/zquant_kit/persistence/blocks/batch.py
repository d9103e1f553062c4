"""A frame of keyed rows validated and turned into columns before any database work, so a bad
frame writes nothing; and the one set of dtypes every read hands back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Table

from zquant_kit.persistence.blocks.layout import KEY_COLUMNS


@dataclass(frozen=True, slots=True)
class KeyedBatch:
    """A validated frame as columns: ts_code factorized, trade_date as days, values float64 (NaN = NULL)."""

    table: Table
    code_index: np.ndarray
    codes: list[str]
    trade_date: np.ndarray
    values: dict[str, np.ndarray]

    @property
    def size(self) -> int:
        return len(self.code_index)

    @property
    def columns(self) -> list[str]:
        return [*KEY_COLUMNS, *self.values]

    def date_bounds(self) -> tuple[date, date]:
        return self.trade_date.min().item(), self.trade_date.max().item()

    def years(self) -> list[int]:
        years: list[int] = np.unique(self.trade_date.astype("datetime64[Y]").astype(np.int64) + 1970).tolist()
        return years


def prepare_batch(table: Table, frame: pd.DataFrame) -> KeyedBatch:
    """The frame as a batch of `table`'s columns: missing nullable columns become NULL, columns the
    table lacks are ignored; `ValueError` naming the column for a missing or null required value,
    an unparsable value or a duplicate key."""
    dataset = table.name
    for column in table.columns:
        if not column.nullable and column.name not in frame.columns:
            raise ValueError(f"{dataset}: missing required column {column.name!r}")

    code_index, uniques = pd.factorize(frame["ts_code"])
    if (code_index < 0).any():
        raise ValueError(f"{dataset}.ts_code: {(code_index < 0).sum()} null value(s)")
    codes = list(uniques)
    bad_codes = [code for code in codes if not isinstance(code, str) or not code or "\x00" in code]
    if bad_codes:
        raise ValueError(f"{dataset}.ts_code: not a non-empty string: {bad_codes[:3]!r}")

    trade_date = _trade_dates(dataset, frame["trade_date"])

    values: dict[str, np.ndarray] = {}
    for column in table.columns:
        if column.name in KEY_COLUMNS:
            continue
        if column.name not in frame.columns:
            values[column.name] = np.full(len(frame), np.nan)
            continue
        try:
            numbers = pd.to_numeric(frame[column.name], errors="raise")
            values[column.name] = numbers.to_numpy(dtype="float64", na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{dataset}.{column.name}: not numeric ({str(exc).splitlines()[0]})") from None
        nulls = np.isnan(values[column.name])
        if not column.nullable and nulls.any():
            first = int(np.flatnonzero(nulls)[0])
            raise ValueError(
                f"{dataset}.{column.name}: {int(nulls.sum())} null value(s) in a NOT NULL column, first at "
                f"ts_code={codes[code_index[first]]!r} trade_date={trade_date[first]}"
            )

    batch = KeyedBatch(table, code_index, codes, trade_date, values)
    _reject_duplicate_keys(batch)
    return batch


def _trade_dates(dataset: str, column: pd.Series) -> np.ndarray:
    """trade_date as datetime64[D], from dates, datetimes or Tushare's `YYYYMMDD` (string or int)."""
    if column.isna().any():
        raise ValueError(f"{dataset}.trade_date: {int(column.isna().sum())} null value(s)")
    try:
        if pd.api.types.is_integer_dtype(column):
            column = column.astype("str")
        stamps = (
            column
            if pd.api.types.is_datetime64_any_dtype(column)
            else pd.to_datetime(column, format="ISO8601")
        )
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{dataset}.trade_date: not a date ({str(exc).splitlines()[0]})") from None
    if stamps.dt.tz is not None:
        raise ValueError(f"{dataset}.trade_date: timezone-aware datetimes are ambiguous, pass dates")
    days: np.ndarray = stamps.to_numpy().astype("datetime64[D]")
    if (days != stamps.to_numpy()).any():
        raise ValueError(f"{dataset}.trade_date: has a time of day; pass dates")
    return days


def _reject_duplicate_keys(batch: KeyedBatch) -> None:
    """Two rows with one key would make the result depend on row order, so refuse them."""
    if batch.size < 2:
        return
    days = batch.trade_date.astype(np.int64)
    first_day = days.min()
    span = int(days.max() - first_day) + 1
    keys = np.sort(batch.code_index.astype(np.int64) * span + (days - first_day))
    repeated = keys[1:][keys[1:] == keys[:-1]]
    if repeated.size:
        code, day = divmod(int(repeated[0]), span)
        raise ValueError(
            f"{batch.table.name}: duplicate (ts_code, trade_date) keys in the frame, "
            f"e.g. ({batch.codes[code]!r}, {np.datetime64(int(first_day) + day, 'D')})"
        )


def empty_frame(table: Table) -> pd.DataFrame:
    return finish_frame(table, pd.DataFrame({column.name: [] for column in table.columns}))


def finish_frame(table: Table, frame: pd.DataFrame) -> pd.DataFrame:
    """One set of dtypes whichever store answered: str codes, datetime64[ns] dates, float64 values."""
    dtypes = {name: "float64" for name in frame.columns}
    dtypes.update(ts_code="str", trade_date="datetime64[ns]")
    frame = frame.astype(dtypes)
    return frame[[column.name for column in table.columns]].reset_index(drop=True)
