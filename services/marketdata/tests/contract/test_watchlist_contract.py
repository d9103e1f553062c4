"""WatchlistService contract over a real gRPC server (identity + marketdata on a throw-away PostgreSQL):
every RPC, its error codes with their details, per-user isolation, and valuation from the latest close."""

from __future__ import annotations

import datetime as dt

import grpc
import pandas as pd
import pytest
from sqlalchemy import event

from zquant.identity.v1 import role_pb2, role_pb2_grpc
from zquant.marketdata.v1 import watchlist_pb2 as pb
from zquant_kit.grpc.client import bearer
from zquant_kit.pagination import encode_cursor
from zquant_kit.testing import ErrorDetails, expect_error, walk_pages
from zquant_marketdata.adapters.sqlalchemy import tables

pytestmark = pytest.mark.contract
C = grpc.StatusCode

STOCKS = ("600000.SH", "000001.SZ", "430047.BJ", "300750.SZ")


async def invalid(call, field: str) -> ErrorDetails:
    found = await expect_error(call, C.INVALID_ARGUMENT)
    assert found.fields == [field], found
    assert field in found.message
    return found


async def seed_stocks(app, codes=STOCKS) -> None:
    now = dt.datetime.now(dt.UTC)
    async with app.engine.begin() as connection:
        await connection.execute(
            tables.stock_basic.insert(),
            [
                {"ts_code": code, "symbol": code[:6], "name": f"stock {code}", "list_status": "L", "updated_at": now}
                for code in codes
            ],
        )


async def seed_bars(app, rows: list[tuple[str, str, float]]) -> None:
    """(ts_code, YYYYMMDD, close) rows; the other prices are derived, they don't matter here."""
    frame = pd.DataFrame(
        [
            {
                "ts_code": code, "trade_date": day, "open": close, "high": close, "low": close, "close": close,
                "pre_close": close, "change": 0.0, "pct_chg": 0.0, "vol": 1000.0,
            }
            for code, day, close in rows
        ]
    )
    await app.bar_store.write("daily", frame)


@pytest.fixture
async def wl(marketdata):
    await seed_stocks(marketdata.app)
    return marketdata


# -- authentication and permission -------------------------------------------------------------


def _all_calls(stub):
    return [
        (stub.AddFavorite, pb.AddFavoriteRequest(ts_code="600000.SH")),
        (stub.ListFavorites, pb.ListFavoritesRequest()),
        (stub.UpdateFavorite, pb.UpdateFavoriteRequest(ts_code="600000.SH", comment="x")),
        (stub.RemoveFavorite, pb.RemoveFavoriteRequest(ts_code="600000.SH")),
        (stub.AddPosition, pb.AddPositionRequest(ts_code="600000.SH", quantity=1, average_cost=1)),
        (stub.ListPositions, pb.ListPositionsRequest()),
        (stub.UpdatePosition, pb.UpdatePositionRequest(position_id="x", quantity=1, average_cost=1)),
        (stub.RemovePosition, pb.RemovePositionRequest(position_id="x")),
    ]


async def test_every_rpc_needs_a_caller_with_data_read(wl):
    admin = await wl.admin()
    await role_pb2_grpc.RoleServiceStub(wl.identity_channel).CreateRole(
        role_pb2.CreateRoleRequest(name="blind", description="no data", permissions=["factor:read"]),
        metadata=admin,
    )
    _, blind = await wl.user("blinda", role="blind")
    for rpc, request in _all_calls(wl.watchlist):
        await expect_error(rpc(request), C.UNAUTHENTICATED)
        await expect_error(rpc(request, metadata=bearer("not.a.jwt")), C.UNAUTHENTICATED)
        denied = await expect_error(rpc(request, metadata=blind), C.PERMISSION_DENIED)
        assert "data:read" in denied.message


async def test_viewers_have_a_watchlist_too(wl):
    _, viewer = await wl.user("vera", role="viewer")
    await wl.watchlist.AddFavorite(pb.AddFavoriteRequest(ts_code="600000.SH"), metadata=viewer)
    listed = await wl.watchlist.ListFavorites(pb.ListFavoritesRequest(), metadata=viewer)
    assert [f.ts_code for f in listed.favorites] == ["600000.SH"]


# -- favorites -----------------------------------------------------------------------------------


async def test_add_favorite_and_its_errors(wl):
    _, bob = await wl.user("bob")
    stub = wl.watchlist
    added = (await stub.AddFavorite(pb.AddFavoriteRequest(ts_code="600000.sh", comment="银行"), metadata=bob)).favorite
    assert (added.ts_code, added.comment) == ("600000.SH", "银行")
    assert added.create_time.seconds > 0 and added.create_time == added.update_time

    dup = await expect_error(stub.AddFavorite(pb.AddFavoriteRequest(ts_code="600000.SH"), metadata=bob), C.ALREADY_EXISTS)
    assert (dup.resource_type, dup.resource_name, dup.reason) == ("favorite", "600000.SH", "ALREADY_EXISTS")

    missing = await expect_error(stub.AddFavorite(pb.AddFavoriteRequest(ts_code="688999.SH"), metadata=bob), C.NOT_FOUND)
    assert (missing.resource_type, missing.resource_name) == ("stock", "688999.SH")
    assert "688999.SH" in missing.message

    for code in ("", "600000", "600000.HK", "60000X.SZ"):
        await invalid(stub.AddFavorite(pb.AddFavoriteRequest(ts_code=code), metadata=bob), "ts_code")
    await invalid(stub.AddFavorite(pb.AddFavoriteRequest(ts_code="000001.SZ", comment="x" * 501), metadata=bob), "comment")
    ok = await stub.AddFavorite(pb.AddFavoriteRequest(ts_code="000001.SZ", comment="好" * 500), metadata=bob)
    assert len(ok.favorite.comment) == 500


async def test_list_favorites_pages_and_isolation(wl):
    _, bob = await wl.user("bob")
    _, alice = await wl.user("alice")
    stub = wl.watchlist
    for code in STOCKS:
        await stub.AddFavorite(pb.AddFavoriteRequest(ts_code=code, comment=f"bob {code}"), metadata=bob)
    await stub.AddFavorite(pb.AddFavoriteRequest(ts_code="600000.SH", comment="alice"), metadata=alice)

    favorites, pages = await walk_pages(
        lambda token: stub.ListFavorites(pb.ListFavoritesRequest(page_size=3, page_token=token), metadata=bob),
        lambda page: page.favorites,
    )
    seen = [(f.ts_code, f.comment) for f in favorites]
    assert pages == 2
    assert seen == [(code, f"bob {code}") for code in sorted(STOCKS)]

    theirs = await stub.ListFavorites(pb.ListFavoritesRequest(), metadata=alice)
    assert [(f.ts_code, f.comment) for f in theirs.favorites] == [("600000.SH", "alice")]
    assert not theirs.next_page_token

    await invalid(stub.ListFavorites(pb.ListFavoritesRequest(page_token="garbage!"), metadata=bob), "page_token")
    other_kind = encode_cursor("watchlist.positions", ["600000.SH", "x"])
    await invalid(stub.ListFavorites(pb.ListFavoritesRequest(page_token=other_kind), metadata=bob), "page_token")
    await invalid(stub.ListFavorites(pb.ListFavoritesRequest(page_size=-1), metadata=bob), "page_size")


async def test_update_and_remove_favorite(wl):
    _, bob = await wl.user("bob")
    _, alice = await wl.user("alice")
    stub = wl.watchlist
    await stub.AddFavorite(pb.AddFavoriteRequest(ts_code="600000.SH", comment="old"), metadata=bob)
    updated = (await stub.UpdateFavorite(pb.UpdateFavoriteRequest(ts_code="600000.SH", comment="new"), metadata=bob)).favorite
    assert updated.comment == "new"
    assert updated.update_time.ToDatetime() >= updated.create_time.ToDatetime()

    # Alice cannot touch Bob's favorite: NOT_FOUND, as if it did not exist.
    for call in (
        stub.UpdateFavorite(pb.UpdateFavoriteRequest(ts_code="600000.SH", comment="hijack"), metadata=alice),
        stub.RemoveFavorite(pb.RemoveFavoriteRequest(ts_code="600000.SH"), metadata=alice),
    ):
        found = await expect_error(call, C.NOT_FOUND)
        assert (found.resource_type, found.resource_name) == ("favorite", "600000.SH")
    await invalid(stub.UpdateFavorite(pb.UpdateFavoriteRequest(ts_code="600000.SH", comment="x" * 501), metadata=bob), "comment")
    await invalid(stub.UpdateFavorite(pb.UpdateFavoriteRequest(ts_code="bad"), metadata=bob), "ts_code")
    await invalid(stub.RemoveFavorite(pb.RemoveFavoriteRequest(ts_code=""), metadata=bob), "ts_code")

    await stub.RemoveFavorite(pb.RemoveFavoriteRequest(ts_code="600000.SH"), metadata=bob)
    assert not (await stub.ListFavorites(pb.ListFavoritesRequest(), metadata=bob)).favorites
    gone = await expect_error(stub.RemoveFavorite(pb.RemoveFavoriteRequest(ts_code="600000.SH"), metadata=bob), C.NOT_FOUND)
    assert gone.resource_name == "600000.SH"


# -- positions -----------------------------------------------------------------------------------


async def test_add_position_and_its_errors(wl):
    _, bob = await wl.user("bob")
    stub = wl.watchlist

    def add(**fields):
        request = {"ts_code": "600000.SH", "quantity": 100.0, "average_cost": 10.0, "buy_date": "20240102", **fields}
        return stub.AddPosition(pb.AddPositionRequest(**request), metadata=bob)

    created = (await add()).position
    assert created.id and (created.ts_code, created.quantity, created.average_cost, created.buy_date) == (
        "600000.SH", 100.0, 10.0, "20240102",
    )
    assert (created.last_close, created.last_trade_date, created.market_value, created.profit, created.profit_pct) == (
        0.0, "", 0.0, 0.0, 0.0,
    )
    assert (await add(buy_date="", average_cost=0.0)).position.buy_date == ""

    await invalid(add(quantity=0), "quantity")
    await invalid(add(quantity=-1), "quantity")
    await invalid(add(average_cost=-0.5), "average_cost")
    await invalid(add(buy_date="2024-01-02"), "buy_date")
    await invalid(add(buy_date="20240231"), "buy_date")
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=8) + dt.timedelta(days=1)).strftime("%Y%m%d")
    await invalid(add(buy_date=tomorrow), "buy_date")
    await invalid(add(ts_code="600000"), "ts_code")
    missing = await expect_error(add(ts_code="688999.SH"), C.NOT_FOUND)
    assert (missing.resource_type, missing.resource_name) == ("stock", "688999.SH")
    assert "688999.SH" in missing.message


async def test_positions_are_valued_from_the_latest_close_in_one_statement(wl):
    app = wl.app
    await seed_bars(
        app,
        [
            ("600000.SH", "20240529", 10.00),
            ("600000.SH", "20240531", 11.00),  # latest of 600000.SH
            ("600000.SH", "20240530", 10.50),
            ("000001.SZ", "20231229", 8.00),
            ("000001.SZ", "20240102", 9.50),  # latest of 000001.SZ, an older day than 600000.SH's
        ],
    )
    _, bob = await wl.user("bob")
    _, alice = await wl.user("alice")
    stub = wl.watchlist
    first = (
        await stub.AddPosition(
            pb.AddPositionRequest(ts_code="600000.SH", quantity=1000, average_cost=10.2, buy_date="20240102"),
            metadata=bob,
        )
    ).position
    # Add answers with the valuation already.
    assert (first.last_close, first.last_trade_date) == (11.0, "20240531")
    await stub.AddPosition(pb.AddPositionRequest(ts_code="000001.SZ", quantity=500, average_cost=12.0), metadata=bob)
    await stub.AddPosition(pb.AddPositionRequest(ts_code="430047.BJ", quantity=200, average_cost=5.0), metadata=bob)
    await stub.AddPosition(pb.AddPositionRequest(ts_code="600000.SH", quantity=7, average_cost=1.0), metadata=alice)

    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(app.engine.sync_engine, "before_cursor_execute", record)
    try:
        listed = await stub.ListPositions(pb.ListPositionsRequest(), metadata=bob)
    finally:
        event.remove(app.engine.sync_engine, "before_cursor_execute", record)
    touching = [s for s in statements if "positions" in s or "daily" in s]
    assert len(touching) == 1, touching

    by_code = {p.ts_code: p for p in listed.positions}
    assert list(by_code) == ["000001.SZ", "430047.BJ", "600000.SH"]

    pufa = by_code["600000.SH"]  # 1000 x 11.00; bought at 10.20
    assert (pufa.last_close, pufa.last_trade_date) == (11.0, "20240531")
    assert pufa.market_value == pytest.approx(11_000.0)
    assert pufa.profit == pytest.approx(800.0)
    assert pufa.profit_pct == pytest.approx(800.0 / 10_200.0)

    pingan = by_code["000001.SZ"]  # 500 x 9.50; bought at 12.00
    assert (pingan.last_close, pingan.last_trade_date) == (9.5, "20240102")
    assert pingan.market_value == pytest.approx(4_750.0)
    assert pingan.profit == pytest.approx(-1_250.0)
    assert pingan.profit_pct == pytest.approx(-1_250.0 / 6_000.0)

    no_bars = by_code["430047.BJ"]
    assert (no_bars.last_close, no_bars.last_trade_date, no_bars.market_value, no_bars.profit, no_bars.profit_pct) == (
        0.0, "", 0.0, 0.0, 0.0,
    )

    # A newer bar re-values on the next read.
    await seed_bars(app, [("430047.BJ", "20240603", 6.0)])
    listed = await stub.ListPositions(pb.ListPositionsRequest(), metadata=bob)
    bj = next(p for p in listed.positions if p.ts_code == "430047.BJ")
    assert (bj.last_close, bj.last_trade_date, bj.market_value, bj.profit, bj.profit_pct) == (
        6.0, "20240603", 1200.0, 200.0, pytest.approx(0.2),
    )


async def test_list_positions_pages_and_isolation(wl):
    _, bob = await wl.user("bob")
    _, alice = await wl.user("alice")
    stub = wl.watchlist
    mine = set()
    for code in ("600000.SH", "600000.SH", "000001.SZ", "300750.SZ", "430047.BJ"):
        added = await stub.AddPosition(pb.AddPositionRequest(ts_code=code, quantity=100, average_cost=1), metadata=bob)
        mine.add(added.position.id)
    await stub.AddPosition(pb.AddPositionRequest(ts_code="600000.SH", quantity=1, average_cost=1), metadata=alice)

    positions, _ = await walk_pages(
        lambda token: stub.ListPositions(pb.ListPositionsRequest(page_size=2, page_token=token), metadata=bob),
        lambda page: page.positions,
        2,
    )
    seen = [(p.ts_code, p.id) for p in positions]
    assert seen == sorted(seen) and {i for _, i in seen} == mine
    theirs = await stub.ListPositions(pb.ListPositionsRequest(), metadata=alice)
    assert [p.quantity for p in theirs.positions] == [1.0]
    await invalid(stub.ListPositions(pb.ListPositionsRequest(page_token="bm9wZQ"), metadata=bob), "page_token")


async def test_update_and_remove_position(wl):
    _, bob = await wl.user("bob")
    _, alice = await wl.user("alice")
    stub = wl.watchlist
    await seed_bars(wl.app, [("600000.SH", "20240531", 12.0)])
    created = (
        await stub.AddPosition(pb.AddPositionRequest(ts_code="600000.SH", quantity=100, average_cost=10), metadata=bob)
    ).position

    updated = (
        await stub.UpdatePosition(
            pb.UpdatePositionRequest(position_id=created.id, quantity=300, average_cost=8, buy_date="20240301"),
            metadata=bob,
        )
    ).position
    assert (updated.id, updated.ts_code, updated.quantity, updated.average_cost, updated.buy_date) == (
        created.id, "600000.SH", 300.0, 8.0, "20240301",
    )
    assert (updated.market_value, updated.profit, updated.profit_pct) == (3600.0, 1200.0, pytest.approx(0.5))
    assert updated.create_time == created.create_time

    def update(**fields):
        request = {"position_id": created.id, "quantity": 1.0, "average_cost": 1.0, **fields}
        return stub.UpdatePosition(pb.UpdatePositionRequest(**request), metadata=bob)

    await invalid(update(quantity=0), "quantity")
    await invalid(update(average_cost=-1), "average_cost")
    await invalid(update(buy_date="tomorrow"), "buy_date")
    await invalid(update(position_id=""), "position_id")
    await invalid(stub.RemovePosition(pb.RemovePositionRequest(), metadata=bob), "position_id")

    # Another user's id and an id that never existed are indistinguishable.
    for position_id in (created.id, "00000000-0000-0000-0000-000000000000"):
        for call in (
            stub.UpdatePosition(
                pb.UpdatePositionRequest(position_id=position_id, quantity=1, average_cost=1), metadata=alice
            ),
            stub.RemovePosition(pb.RemovePositionRequest(position_id=position_id), metadata=alice),
        ):
            found = await expect_error(call, C.NOT_FOUND)
            assert (found.resource_type, found.resource_name) == ("position", position_id)
            assert found.message == f"position {position_id!r} not found"
    still = (await stub.ListPositions(pb.ListPositionsRequest(), metadata=bob)).positions
    assert [(p.id, p.quantity) for p in still] == [(created.id, 300.0)]

    await stub.RemovePosition(pb.RemovePositionRequest(position_id=created.id), metadata=bob)
    assert not (await stub.ListPositions(pb.ListPositionsRequest(), metadata=bob)).positions
    await expect_error(stub.RemovePosition(pb.RemovePositionRequest(position_id=created.id), metadata=bob), C.NOT_FOUND)
