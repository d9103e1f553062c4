"""Incremental runs equal one full run (≤ 1e-9) through the job use case, on the four banks' real hfq bars.

A full run over [start, end] is compared with a full run to a split day followed by an incremental run, and
with further one-day incremental runs: recursive indicators resume from saved state, window calculators and
custom expressions recompute from the saved origin. Reads are checked to use no warm-up when resuming.
"""

from __future__ import annotations

import numpy as np
import pytest

from services.factor.tests.unit.calculation.world import BANKS, CalcWorld
from zquant_factor.application.calculation_ports import RunMode
from zquant_factor.application.calculation_run import CHUNK_SPAN_DAYS
from zquant_kit.jobs import JobState

pytestmark = pytest.mark.unit

START, SPLIT, END = "20200102", "20221230", "20230829"
LAST_DAYS = ("20230825", "20230828")

FACTORS = {
    "macd": [("m-macd", "macd", {})],
    "kdj": [("m-kdj", "kdj", {})],
    "rsi": [("m-rsi24", "rsi", {"n": 24})],
    "boll": [("m-boll", "boll", {})],
    "cci": [("m-cci", "cci", {})],
    "ma": [("m-ma", "ma", {"n": 20})],
}
EXPRESSIONS = {"mom": "rank(close / ma(close, 20))", "smooth": "ema(close, 10) / ref(close, 5)"}


def _world() -> tuple[CalcWorld, list[str]]:
    world = CalcWorld()
    ids = [world.add_factor(name, *models) for name, models in FACTORS.items()]
    ids += [world.add_factor(name, expression=text) for name, text in EXPRESSIONS.items()]
    return world, ids


def _assert_same(full: CalcWorld, other: CalcWorld) -> None:
    assert full.values.cells.keys() == other.values.cells.keys()
    for key, cells in full.values.cells.items():
        assert cells.keys() == other.values.cells[key].keys(), key
        left = np.array([cells[k] for k in sorted(cells)])
        right = np.array([other.values.cells[key][k] for k in sorted(cells)])
        assert np.array_equal(np.isnan(left), np.isnan(right)), key
        assert np.nanmax(np.abs(left - right), initial=0.0) <= 1e-9, key
        assert np.isfinite(left).sum() > 1000, key


async def test_incremental_runs_equal_one_full_run() -> None:
    full, ids = _world()
    assert (await full.calculate(ids, START, END)).state is JobState.SUCCEEDED

    stepped, _ = _world()
    await stepped.calculate(ids, START, SPLIT)
    for day in LAST_DAYS:
        assert (await stepped.calculate(ids, START, day, RunMode.INCREMENTAL)).state is JobState.SUCCEEDED
    reads = len(stepped.market.reads)
    record = await stepped.calculate(ids, START, END, RunMode.INCREMENTAL)
    assert record.state is JobState.SUCCEEDED and record.values_written > 0
    _assert_same(full, stepped)
    resumed = stepped.market.reads[reads:]
    # two chunks, each read once for the five resumed units together
    assert sum(1 for _, first, last in resumed if str(first) == "2023-08-29" == str(last)) == 2


async def test_an_incremental_run_with_nothing_stored_is_a_full_run() -> None:
    full, ids = _world()
    await full.calculate(ids, START, END)
    fresh, _ = _world()
    await fresh.calculate(ids, START, END, RunMode.INCREMENTAL)
    _assert_same(full, fresh)


async def test_an_up_to_date_factor_writes_nothing() -> None:
    world, ids = _world()
    await world.calculate(ids[:1], START, END)
    writes = world.values.writes
    record = await world.calculate(ids[:1], START, END, RunMode.INCREMENTAL)
    assert record.state is JobState.SUCCEEDED and record.values_written == 0 and world.values.writes == writes


async def test_one_full_run_writes_the_range_only() -> None:
    world, ids = _world()
    await world.calculate(ids[:1], START, END)
    _, dates, values = await world.values.read(ids[0], "macd", list(BANKS), *_range("19900101", "20991231"))
    assert str(dates[0]) == "2020-01-02" and str(dates[-1]) == "2023-08-29"
    assert values.shape == (dates.size, 4) and np.isfinite(values).all()


def _range(first: str, last: str) -> tuple:
    from services.factor.tests.unit.calculation.world import _day

    return _day(first), _day(last)


async def test_a_daily_update_reads_every_code_at_once() -> None:
    """Chunks are sized for a ten-year read: three codes a chunk here, so one day takes all four banks at once."""
    world = CalcWorld(chunk_span_days=CHUNK_SPAN_DAYS)
    ids = [world.add_factor(name, *FACTORS[name]) for name in ("macd", "kdj")]
    await world.calculate(ids, START, LAST_DAYS[0])
    reads = len(world.market.reads)
    record = await world.calculate(ids, START, LAST_DAYS[1], RunMode.INCREMENTAL)
    assert record.state is JobState.SUCCEEDED and record.values_written == 2 * 3 * len(BANKS)
    resumed = [(len(codes), str(first)) for codes, first, _ in world.market.reads[reads:]]
    assert resumed == [(4, "2023-08-26")]  # from the day after the last stored one, one read for both
