"""Watchlist use cases, positions, against the in-memory fakes of their ports (tests/fakes/watchlist.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from services.marketdata.tests.fakes.watchlist import ALICE, BOB, NOW
from zquant_kit.errors import InvalidArgument, NotFound
from zquant_marketdata.domain.watchlist import Position, ValuedPosition

pytestmark = pytest.mark.unit


# -- positions ---------------------------------------------------------------------------------


async def test_add_position_parses_the_buy_date(world):
    valued = await world.use_cases.add_position(BOB, "600000.SH", 1000, 9.5, "20240603")
    p = valued.position
    assert (p.user_id, p.ts_code, p.quantity, p.average_cost, p.buy_date) == (
        "bob-id", "600000.SH", 1000.0, 9.5, dt.date(2024, 6, 3),
    )
    assert world.store.positions[p.id].quantity == 1000


async def test_add_position_without_buy_date(world):
    valued = await world.use_cases.add_position(BOB, "600000.SH", 100, 0, "")
    assert valued.position.buy_date is None and valued.position.average_cost == 0


@pytest.mark.parametrize(
    ("quantity", "average_cost", "buy_date", "field"),
    [
        (0, 10, "", "quantity"),
        (-5, 10, "", "quantity"),
        (float("nan"), 10, "", "quantity"),
        (float("inf"), 10, "", "quantity"),
        (100, -0.01, "", "average_cost"),
        (100, float("nan"), "", "average_cost"),
        (100, 10, "2024-06-01", "buy_date"),
        (100, 10, "20240230", "buy_date"),
        (100, 10, "2024061", "buy_date"),
        (100, 10, "20240604", "buy_date"),  # tomorrow in Beijing
    ],
)
async def test_position_fields_are_validated(world, quantity, average_cost, buy_date, field):
    with pytest.raises(InvalidArgument) as raised:
        await world.use_cases.add_position(BOB, "600000.SH", quantity, average_cost, buy_date)
    assert raised.value.field == field
    valued = await world.use_cases.add_position(BOB, "600000.SH", 1, 1, "")
    with pytest.raises(InvalidArgument) as raised:
        await world.use_cases.update_position(BOB, valued.position.id, quantity, average_cost, buy_date)
    assert raised.value.field == field


async def test_buy_date_future_is_judged_in_beijing_time(world):
    world.clock.current = dt.datetime(2024, 6, 3, 17, 0, tzinfo=dt.UTC)  # already 06-04 01:00 in Beijing
    valued = await world.use_cases.add_position(BOB, "600000.SH", 100, 1, "20240604")
    assert valued.position.buy_date == dt.date(2024, 6, 4)


async def test_add_position_of_unknown_code_or_bad_code(world):
    with pytest.raises(NotFound) as raised:
        await world.use_cases.add_position(BOB, "688999.SH", 100, 1, "")
    assert (raised.value.resource_type, raised.value.resource_name) == ("stock", "688999.SH")
    with pytest.raises(InvalidArgument) as raised:
        await world.use_cases.add_position(BOB, "688999", 100, 1, "")
    assert raised.value.field == "ts_code"


async def test_valuation_uses_the_latest_close(world):
    world.store.bars["600000.SH"] = {dt.date(2024, 5, 30): 11.0, dt.date(2024, 5, 31): 12.5}
    valued = await world.use_cases.add_position(BOB, "600000.SH", 200, 10.0, "20240102")
    assert (valued.last_close, valued.last_trade_date) == (12.5, dt.date(2024, 5, 31))
    assert valued.market_value == pytest.approx(2500.0)
    assert valued.profit == pytest.approx(500.0)
    assert valued.profit_pct == pytest.approx(0.25)


async def test_valuation_without_bars_is_zero(world):
    valued = await world.use_cases.add_position(BOB, "000001.SZ", 200, 10.0, "")
    assert (valued.last_close, valued.last_trade_date) == (None, None)
    assert (valued.market_value, valued.profit, valued.profit_pct) == (0.0, 0.0, 0.0)


def test_valuation_math_of_a_loss_and_a_free_position():
    loss = ValuedPosition(
        Position("p", "u", "600000.SH", 300, 8.0, None, NOW, NOW), last_close=6.0, last_trade_date=dt.date(2024, 1, 2)
    )
    assert (loss.market_value, loss.profit) == (1800.0, -600.0)
    assert loss.profit_pct == pytest.approx(-0.25)
    free = ValuedPosition(Position("p", "u", "600000.SH", 10, 0.0, None, NOW, NOW), 5.0, dt.date(2024, 1, 2))
    assert (free.market_value, free.profit, free.profit_pct) == (50.0, 50.0, 0.0)


async def test_list_positions_is_one_repository_call_per_page(world):
    world.store.bars["600000.SH"] = {dt.date(2024, 5, 31): 10.0}
    for code in ("600000.SH", "000001.SZ", "600000.SH"):
        await world.use_cases.add_position(BOB, code, 100, 9, "")
    await world.use_cases.add_position(ALICE, "600000.SH", 100, 9, "")
    world.list_calls = 0
    page, more = await world.use_cases.list_positions(BOB, None, 2)
    assert world.list_calls == 1
    assert more and [v.position.ts_code for v in page] == ["000001.SZ", "600000.SH"]
    last = page[-1].position
    rest, more = await world.use_cases.list_positions(BOB, (last.ts_code, last.id), 2)
    assert not more and [v.position.ts_code for v in rest] == ["600000.SH"]
    assert {v.position.user_id for v in [*page, *rest]} == {"bob-id"}
    assert [v.market_value for v in [*page, *rest]] == [0.0, 1000.0, 1000.0]


async def test_update_position_replaces_the_numbers(world):
    valued = await world.use_cases.add_position(BOB, "600000.SH", 100, 9, "20240101")
    world.clock.current = NOW + dt.timedelta(minutes=5)
    updated = await world.use_cases.update_position(BOB, valued.position.id, 300, 8.5, "")
    p = updated.position
    assert (p.quantity, p.average_cost, p.buy_date, p.ts_code) == (300, 8.5, None, "600000.SH")
    assert p.updated_at == NOW + dt.timedelta(minutes=5) and p.created_at == NOW


async def test_someone_elses_position_is_not_found_like_a_missing_one(world):
    alices = (await world.use_cases.add_position(ALICE, "600000.SH", 100, 9, "")).position
    for call in (
        world.use_cases.update_position(BOB, alices.id, 1, 1, ""),
        world.use_cases.remove_position(BOB, alices.id),
    ):
        with pytest.raises(NotFound) as raised:
            await call
        assert (raised.value.resource_type, raised.value.resource_name) == ("position", alices.id)
    with pytest.raises(NotFound) as missing:
        await world.use_cases.remove_position(BOB, "no-such-id")
    assert missing.value.message == "position 'no-such-id' not found"
    assert world.store.positions[alices.id].quantity == 100
    assert (await world.use_cases.list_positions(BOB, None, 10))[0] == []


async def test_position_id_is_required(world):
    for call in (world.use_cases.update_position(BOB, "", 1, 1, ""), world.use_cases.remove_position(BOB, "")):
        with pytest.raises(InvalidArgument) as raised:
            await call
        assert raised.value.field == "position_id"


async def test_remove_position(world):
    valued = await world.use_cases.add_position(BOB, "600000.SH", 100, 9, "")
    await world.use_cases.remove_position(BOB, valued.position.id)
    assert world.store.positions == {}
