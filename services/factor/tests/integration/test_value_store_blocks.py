"""How the value store keeps its per-(series, year) blocks: a new day is appended to each series' current
block, an earlier or overlapping write is merged into it (dates united, the new values win), a write across
New Year splits into both years' blocks, and concurrent writes to one column both land."""

from __future__ import annotations

import asyncio
import datetime as dt

import numpy as np
import pytest
from sqlalchemy import event

pytestmark = pytest.mark.integration

CODES = [f"{i:06d}.SZ" for i in range(40)]
DAYS = np.busday_offset("2024-12-20", np.arange(12), roll="forward").astype("datetime64[D]")  # 2024 and 2025
SPAN = (dt.date(2024, 1, 1), dt.date(2025, 12, 31))


def _panel(rows: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(rows, len(CODES)))


async def test_days_appended_one_at_a_time_equal_one_panel_write(app):
    whole = _panel(DAYS.size, 1)
    whole[2, 5] = np.nan  # a NaN is kept as a value, not dropped
    await app.values.write("f1", "k", CODES, DAYS[:4], whole[:4])
    for day in range(4, DAYS.size):
        await app.values.write("f1", "k", CODES, DAYS[day : day + 1], whole[day : day + 1])
    codes, dates, values = await app.values.read("f1", "k", None, *SPAN)
    assert codes == CODES
    np.testing.assert_array_equal(dates, DAYS)
    np.testing.assert_array_equal(values, whole)
    assert await app.values.last_date("f1", "k") == DAYS[-1].item()


async def test_an_interleaved_write_merges_dates_and_overrides_values(app):
    first = _panel(DAYS.size, 2)
    odd, even = DAYS[1::2], DAYS[::2]
    await app.values.write("f1", "k", CODES, odd, first[1::2])
    changed = first[::2] + 10.0
    await app.values.write("f1", "k", CODES[:20], even, changed[:, :20])  # earlier days, half of the codes
    await app.values.write("f1", "k", CODES[:3], odd[-1:], np.full((1, 3), 7.0))  # a day rewritten
    _, dates, values = await app.values.read("f1", "k", CODES, *SPAN)
    np.testing.assert_array_equal(dates, DAYS)
    expected = first.copy()
    expected[::2, :20] = changed[:, :20]
    expected[::2, 20:] = np.nan  # never written
    expected[-1 if DAYS.size % 2 == 0 else -2, :3] = 7.0
    np.testing.assert_array_equal(values, expected)
    assert await app.values.last_date("f1", "k") == odd[-1].item()


async def test_a_write_of_stored_and_new_codes_of_two_lengths_inserts_the_new_and_merges_the_stored(app):
    """The first calculation's bulk insert takes only series-years not stored; codes of another length are
    encoded apart (a fixed-width COPY field has one length)."""
    stored = _panel(DAYS.size, 4)
    await app.values.write("f1", "k", CODES[:10], DAYS[:6], stored[:6, :10])
    codes = [*CODES[:20], "NEW.BJ", "LONGER123.SH"]
    later = np.random.default_rng(5).normal(size=(DAYS.size - 3, len(codes)))
    await app.values.write("f1", "k", codes, DAYS[3:], later)
    read_codes, dates, values = await app.values.read("f1", "k", codes, *SPAN)
    assert read_codes == codes
    np.testing.assert_array_equal(dates, DAYS)
    expected = np.full((DAYS.size, len(codes)), np.nan)
    expected[:6, :10] = stored[:6, :10]
    expected[3:] = later
    np.testing.assert_array_equal(values, expected)


async def test_reads_cut_blocks_at_the_range_and_keep_the_asked_order(app):
    whole = _panel(DAYS.size, 3)
    await app.values.write("f1", "k", CODES, DAYS, whole)
    wanted = [CODES[9], CODES[0], "missing.SZ"]
    codes, dates, values = await app.values.read("f1", "k", wanted, DAYS[3].item(), DAYS[8].item())
    assert codes == wanted
    np.testing.assert_array_equal(dates, DAYS[3:9])
    np.testing.assert_array_equal(values[:, :2], whole[3:9][:, [9, 0]])
    assert np.isnan(values[:, 2]).all()
    _, empty_dates, empty = await app.values.read("f1", "k", wanted, dt.date(2030, 1, 1), dt.date(2030, 2, 1))
    assert empty_dates.size == 0 and empty.shape == (0, 3)


async def test_concurrent_writes_to_one_column_both_land(app):
    whole = _panel(DAYS.size, 4)
    await app.values.write("f1", "k", CODES, DAYS[:6], whole[:6])
    await asyncio.gather(
        app.values.write("f1", "k", CODES[:20], DAYS[6:], whole[6:, :20]),
        app.values.write("f1", "k", CODES[20:], DAYS[6:], whole[6:, 20:]),
        app.values.write("f1", "k", CODES[:20], DAYS[:2], whole[:2, :20]),
    )
    _, dates, values = await app.values.read("f1", "k", CODES, *SPAN)
    np.testing.assert_array_equal(dates, DAYS)
    np.testing.assert_array_equal(values, whole)


async def test_many_columns_in_one_write_take_the_statements_of_one(app):
    """A calculator's outputs over a day go in one pass: fresh, appended and merged blocks of every column,
    in as many statements as one column's write (counted where they pass through SQLAlchemy: all of SQLite's;
    PostgreSQL's COPY and staged updates go to the driver directly)."""
    first = {column: _panel(DAYS.size, seed) for seed, column in enumerate(("k", "d", "j"))}
    await app.values.write("f1", "k", CODES, DAYS[:6], first["k"][:6])  # k has blocks, d and j none
    seen: list[str] = []
    event.listen(app.engine.sync_engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    one = await app.values.write_columns("f1", CODES, DAYS[6:7], {"k": first["k"][6:7]})
    single = len(seen)
    seen.clear()
    panels = {column: values[4:] for column, values in first.items()}  # k: 2 days merged, 6 appended
    written = await app.values.write_columns("f1", CODES, DAYS[4:], panels)
    assert (one, written) == (len(CODES), 3 * (DAYS.size - 4) * len(CODES))
    assert len(seen) <= single + 2, (
        "every column in one pass (a fresh insert and a merge on top of an append)"
    )
    for column, values in first.items():
        _, dates, stored = await app.values.read("f1", column, CODES, *SPAN)
        np.testing.assert_array_equal(dates, DAYS if column == "k" else DAYS[4:])
        np.testing.assert_array_equal(stored, values if column == "k" else values[4:])
        assert await app.values.last_date("f1", column) == DAYS[-1].item()


async def test_a_many_column_write_checks_every_panel(app):
    with pytest.raises(ValueError, match="dates × codes"):
        await app.values.write_columns("f1", CODES, DAYS[:2], {"k": _panel(2, 1), "d": _panel(3, 1)})
