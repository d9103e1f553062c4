"""The factor value store on PostgreSQL (binary COPY, packed blocks) and SQLite: panels round-trip exactly,
a rewrite is one bulk upsert, reads pick codes and ranges, and a factor's values go as one key range."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import event

pytestmark = pytest.mark.integration

CODES = [f"{i:06d}.{'SH' if i % 2 else 'SZ'}" for i in range(500)]
DATES = np.busday_offset("2023-12-20", np.arange(200), roll="forward").astype(
    "datetime64[D]"
)  # spans 2 years
START, END = dt.date(2023, 1, 1), dt.date(2025, 12, 31)


def panel(seed: int) -> np.ndarray:
    values = np.random.default_rng(seed).normal(size=(DATES.size, len(CODES)))
    values[:30, 7] = np.nan  # a warm-up
    values[50:55, :] = np.nan  # a market-wide gap
    return values


def count_statements(app) -> list[str]:
    seen: list[str] = []
    event.listen(app.engine.sync_engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


async def test_a_panel_round_trips_and_a_rewrite_is_one_bulk_upsert(app):
    store = app.values
    statements = count_statements(app)
    assert await store.write("f1", "macd", CODES, DATES, panel(1)) == DATES.size * len(CODES)
    assert len(statements) < 20, "a bulk write, not a statement per value"
    await store.write("f1", "dif", CODES, DATES, panel(2))  # another column of the same factor
    changed = panel(1)
    changed[-10:, :250] += 1.0
    assert await store.write("f1", "macd", CODES, DATES, changed) == DATES.size * len(CODES)
    codes, dates, values = await store.read("f1", "macd", None, START, END)
    assert codes == sorted(CODES)
    np.testing.assert_array_equal(dates, DATES)
    np.testing.assert_array_equal(values, changed[:, np.argsort(CODES)])
    _, _, dif = await store.read("f1", "dif", CODES, START, END)
    np.testing.assert_array_equal(dif, panel(2))
    assert await store.last_date("f1", "macd") == DATES[-1].item()


async def test_reads_pick_codes_and_range_and_newer_writes_win_over_blocks(app):
    store = app.values
    await store.write("f1", "macd", CODES, DATES, panel(1))
    later = np.full((1, 2), 5.0)
    await store.write("f1", "macd", CODES[3:5], DATES[10:11], later)  # after the refresh: its year is stale
    wanted = [CODES[4], CODES[3], "999999.SZ"]
    codes, dates, values = await store.read("f1", "macd", wanted, DATES[5].item(), DATES[20].item())
    assert codes == wanted
    np.testing.assert_array_equal(dates, DATES[5:21])
    expected = panel(1)[5:21][:, [4, 3]]
    expected[5] = 5.0
    np.testing.assert_array_equal(values[:, :2], expected)
    assert np.isnan(values[:, 2]).all()
    assert await store.last_date("f1", "macd") == DATES[-1].item(), (
        "an older write never moves last_date back"
    )


async def test_delete_factor_takes_its_values_and_state_only(app):
    store, states = app.values, app.states
    small = panel(3)[:20, :10]
    for factor_id in ("f1", "f2"):
        await store.write(factor_id, "macd", CODES[:10], DATES[:20], small)
        await states.save(factor_id, "m1", DATES[19].item(), b"state-" + factor_id.encode())
    await store.delete_factor("f1")
    codes, _, _ = await store.read("f1", "macd", None, START, END)
    assert codes == []
    _, dates, values = await store.read("f1", "macd", CODES[:10], START, END)  # rows and blocks alike
    assert dates.size == 0 and values.shape == (0, 10)
    assert await store.last_date("f1", "macd") is None
    assert await states.load("f1", "m1") is None
    _, _, kept = await store.read("f2", "macd", None, START, END)
    np.testing.assert_array_equal(kept, small[:, np.argsort(CODES[:10])])
    assert await states.load("f2", "m1") == (DATES[19].item(), b"state-f2")


async def test_state_is_replaced_on_save(app):
    await app.states.save("f1", "m1", dt.date(2024, 1, 2), b"one")
    await app.states.save("f1", "m1", dt.date(2024, 1, 3), b"two")
    assert await app.states.load("f1", "m1") == (dt.date(2024, 1, 3), b"two")
    assert await app.states.load("f1", "m2") is None


async def test_bad_shapes_write_nothing(app):
    with pytest.raises(ValueError, match="dates × codes"):
        await app.values.write("f1", "macd", CODES[:3], DATES[:2], np.zeros((3, 2)))
    with pytest.raises(ValueError, match="ascending"):
        await app.values.write("f1", "macd", CODES[:2], DATES[:2][::-1], np.zeros((2, 2)))
    assert await app.values.last_date("f1", "macd") is None
