"""Per-date table statistics of a written batch, computed against the rows the store held before."""

from __future__ import annotations

import numpy as np
import pandas as pd

from zquant_marketdata.domain.sync import TableStatistic

KEYS = ["ts_code", "trade_date"]

def _normalized_dates(column: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(column):
        return column.astype("datetime64[ns]")
    return pd.to_datetime(column.astype(str), format="ISO8601").astype("datetime64[ns]")


def per_date_statistics(
    dataset: str, frame: pd.DataFrame, stored: pd.DataFrame, total_before: int
) -> tuple[list[TableStatistic], int]:
    """Per trade date of `frame`: rows inserted/updated by writing it over `stored` (the rows
    the store held in the frame's date range before the write), rows on the date afterwards,
    and the table's running total."""
    dates = _normalized_dates(frame["trade_date"]).to_numpy().astype("datetime64[D]")
    inserted = np.ones(len(frame), dtype=bool)
    updated = np.zeros(len(frame), dtype=bool)
    stored_days: dict[np.datetime64, int] = {}
    if not stored.empty:
        value_columns = [c for c in stored.columns if c not in KEYS]
        new = pd.DataFrame({"ts_code": frame["ts_code"].astype(str).to_numpy(), "trade_date": dates.astype("datetime64[ns]")})
        for column in value_columns:
            new[column] = pd.to_numeric(frame[column], errors="coerce").to_numpy() if column in frame else np.nan
        existing = stored[KEYS + value_columns].copy()
        existing["trade_date"] = _normalized_dates(existing["trade_date"])
        merged = new.merge(existing, on=KEYS, how="left", suffixes=("", "__stored"), indicator=True, sort=False)
        inserted = (merged["_merge"] == "left_only").to_numpy()
        changed = np.zeros(len(merged), dtype=bool)
        for column in value_columns:
            mine = merged[column].to_numpy(dtype="float64", na_value=np.nan)
            theirs = merged[f"{column}__stored"].to_numpy(dtype="float64", na_value=np.nan)
            changed |= ~((mine == theirs) | (np.isnan(mine) & np.isnan(theirs)))
        updated = changed & ~inserted
        days, counts = np.unique(existing["trade_date"].to_numpy().astype("datetime64[D]"), return_counts=True)
        stored_days = dict(zip(days.tolist(), counts.tolist()))
    unique_days, index = np.unique(dates, return_inverse=True)
    inserted_per_day = np.bincount(index, weights=inserted, minlength=len(unique_days)).astype(int)
    updated_per_day = np.bincount(index, weights=updated, minlength=len(unique_days)).astype(int)
    stats = []
    total = total_before
    for day, n_inserted, n_updated in zip(unique_days.tolist(), inserted_per_day.tolist(), updated_per_day.tolist()):
        total += n_inserted
        stats.append(TableStatistic(dataset, day, total, stored_days.get(day, 0) + n_inserted, n_inserted, n_updated))
    return stats, total
