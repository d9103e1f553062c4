"""Data-quality checks on stored bars: pure functions over numpy columns.

The kinds match `DataIssue.kind` of the contract:

* `ohlc_insane`: low > min(open, close), high < max(open, close) or low > high.
* `negative_volume`: vol < 0.
* `adj_factor_without_gap`: consecutive bars of one stock break Tushare's identity
  close[t-1] / pre_close[t] == adj_factor[t] / adj_factor[t-1] beyond the tolerance: the
  factor moved without the matching ex-rights gap in pre_close, or pre_close jumped without
  the factor moving. Consecutive means consecutive bars, so a suspension in between is fine.
* `suspension` / `missing_trade_day`: open days inside a stock's listed life without a bar;
  a suspension when the source has no bar either, a hole (missing_trade_day) otherwise.
* `source_mismatch`, `missing_locally`, `missing_at_source`: the store against the source.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from zquant_marketdata.domain.bar_rows import BarRows
from zquant_marketdata.domain.sync import fmt_date

ADJ_GAP_TOLERANCE = 0.005
"""Relative tolerance of the ex-rights identity (~0.5%): prices are rounded to the cent."""
ADJ_GAP_ABSOLUTE = 0.011
"""...and never tighter than about a cent, for low-priced stocks."""


@dataclass(frozen=True, slots=True)
class Issue:
    kind: str
    ts_code: str
    trade_date: dt.date | None
    detail: str


def _day(value: np.datetime64) -> dt.date:
    day: dt.date = value.astype("datetime64[D]").item()
    return day


def _row_index(rows: BarRows) -> dict[tuple[str, dt.date], int]:
    return {(rows.code_of(int(i)), _day(day)): i for i, day in enumerate(rows.days)}


def ohlc_issues(rows: BarRows, *, tolerance: float = 1e-9) -> list[Issue]:
    """OHLC sanity and non-negative volume, per row."""
    v = rows.values
    issues: list[Issue] = []
    if {"open", "high", "low", "close"} <= set(v):
        o, h, lo, c = v["open"], v["high"], v["low"], v["close"]
        with np.errstate(invalid="ignore"):
            body_low = np.fmin(o, c)
            body_high = np.fmax(o, c)
            bad = (lo > body_low + tolerance) | (h < body_high - tolerance) | (lo > h + tolerance)
            bad |= ~np.isfinite(o) | ~np.isfinite(h) | ~np.isfinite(lo) | ~np.isfinite(c)
            bad |= (o <= 0) | (h <= 0) | (lo <= 0) | (c <= 0)
        for i in np.flatnonzero(bad):
            issues.append(
                Issue(
                    "ohlc_insane",
                    rows.code_of(int(i)),
                    _day(rows.days[i]),
                    f"open={o[i]:g} high={h[i]:g} low={lo[i]:g} close={c[i]:g}",
                )
            )
    if "vol" in v:
        with np.errstate(invalid="ignore"):
            negative = v["vol"] < 0
        for i in np.flatnonzero(negative):
            issues.append(Issue("negative_volume", rows.code_of(int(i)), _day(rows.days[i]), f"vol={v['vol'][i]:g}"))
    return issues


def adj_gap_issues(
    rows: BarRows,
    *,
    tolerance: float = ADJ_GAP_TOLERANCE,
    absolute: float = ADJ_GAP_ABSOLUTE,
    report_from: dt.date | None = None,
) -> list[Issue]:
    """Checks close[t-1] / pre_close[t] == adj[t] / adj[t-1] between consecutive bars of each stock.

    Needs `close`, `pre_close` and `adj_factor` columns; pairs with a missing value are
    skipped. `report_from` drops issues dated before it (callers read one bar of history
    before their range so its first day can be checked too).
    """
    if len(rows) < 2:
        return []
    rows = rows.sorted()
    close, pre_close, adj = rows.values["close"], rows.values["pre_close"], rows.values["adj_factor"]
    same_stock = rows.code_index[1:] == rows.code_index[:-1]
    prev_close, prev_adj = close[:-1], adj[:-1]
    cur_pre, cur_adj = pre_close[1:], adj[1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        adj_ratio = cur_adj / prev_adj
        expected_pre_close = prev_close / adj_ratio
        deviation = np.abs(expected_pre_close - cur_pre)
        allowed = np.maximum(tolerance * np.abs(cur_pre), absolute)
        valid = same_stock & np.isfinite(deviation) & (prev_adj > 0) & (cur_adj > 0) & (cur_pre > 0)
        bad = valid & (deviation > allowed)
    issues = []
    for k in np.flatnonzero(bad):
        day = _day(rows.days[k + 1])
        if report_from is not None and day < report_from:
            continue
        moved = not math.isclose(adj_ratio[k], 1.0, rel_tol=1e-6)
        what = "adj_factor moved without the matching pre_close gap" if moved else "pre_close gap without an adj_factor move"
        issues.append(
            Issue(
                "adj_factor_without_gap",
                rows.code_of(int(k) + 1),
                day,
                f"{what}: adj_factor {prev_adj[k]:g} -> {cur_adj[k]:g} (x{adj_ratio[k]:.6f}), "
                f"previous close {prev_close[k]:g}, pre_close {cur_pre[k]:g} (expected {expected_pre_close[k]:.4f})",
            )
        )
    return issues


def missing_runs(
    present: Collection[dt.date],
    open_days: Sequence[dt.date],
    life_start: dt.date,
    life_end: dt.date,
) -> list[list[dt.date]]:
    """Runs of consecutive open days in [life_start, life_end] without a bar."""
    runs: list[list[dt.date]] = []
    current: list[dt.date] = []
    for day in open_days:
        if day < life_start or day > life_end:
            continue
        if day in present:
            if current:
                runs.append(current)
                current = []
        else:
            current.append(day)
    if current:
        runs.append(current)
    return runs


def classify_missing(ts_code: str, runs: Iterable[Sequence[dt.date]], source_days: Collection[dt.date]) -> list[Issue]:
    """A day the source has no bar for either is a suspension; one it has is a hole.

    Consecutive days of one class become one issue dated at the first day.
    """
    issues = []
    for run in runs:
        groups: list[tuple[str, list[dt.date]]] = []
        for day in run:
            kind = "missing_trade_day" if day in source_days else "suspension"
            if groups and groups[-1][0] == kind:
                groups[-1][1].append(day)
            else:
                groups.append((kind, [day]))
        for kind, days in groups:
            span = fmt_date(days[0]) if len(days) == 1 else f"{fmt_date(days[0])}..{fmt_date(days[-1])}"
            what = "no bar, the source has one" if kind == "missing_trade_day" else "no bar here nor at the source"
            issues.append(Issue(kind, ts_code, days[0], f"{len(days)} open day(s) {span}: {what}"))
    return issues


def compare_rows(
    local: BarRows,
    remote: BarRows,
    columns: Sequence[str] | None = None,
    *,
    rtol: float = 1e-6,
    atol: float = 1e-9,
) -> list[Issue]:
    """Rows missing on either side, and rows whose values differ (NaN equals NaN)."""
    names = [n for n in (columns or list(local.values)) if n in local.values and n in remote.values]
    local_index = _row_index(local)
    remote_index = _row_index(remote)
    issues: list[Issue] = []
    for key, i in sorted(local_index.items()):
        j = remote_index.get(key)
        if j is None:
            issues.append(Issue("missing_at_source", key[0], key[1], "stored here, absent at the source"))
            continue
        differing = []
        for name in names:
            mine, theirs = local.values[name][i], remote.values[name][j]
            if math.isnan(mine) and math.isnan(theirs):
                continue
            if math.isnan(mine) or math.isnan(theirs) or not math.isclose(mine, theirs, rel_tol=rtol, abs_tol=atol):
                differing.append(f"{name}: {mine:g} here, {theirs:g} at source")
        if differing:
            issues.append(Issue("source_mismatch", key[0], key[1], "; ".join(differing)))
    for key in sorted(remote_index.keys() - local_index.keys()):
        issues.append(Issue("missing_locally", key[0], key[1], "at the source, not stored here"))
    return issues
