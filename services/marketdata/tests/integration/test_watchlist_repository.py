"""The watchlist adapters (SQLAlchemy repositories, unit of work, valuation statement) on both databases:
PostgreSQL (partitioned bars) and SQLite (the all-in-one default), driven through the use cases."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from google.protobuf import timestamp_pb2
from sqlalchemy import event, func, select

from zquant.identity.v1 import events_pb2
from zquant_kit.errors import AlreadyExists, NotFound
from zquant_kit.events.model import Event
from zquant_kit.principal import Principal
from zquant_kit.testing import BACKENDS, backend_database, built_app
from zquant_marketdata.adapters.sqlalchemy import tables
from zquant_marketdata.application.watchlist import USER_CLEANUP_CONSUMER, USER_DELETED
from zquant_marketdata.bootstrap import SERVICE

pytestmark = pytest.mark.integration

BOB = Principal("bob-id", "bob", "researcher", frozenset({"data:read"}))
ALICE = Principal("alice-id", "alice", "researcher", frozenset({"data:read"}))


@pytest.fixture(params=BACKENDS)
async def app(request, tmp_path):
    url = backend_database(request, tmp_path, "marketdata", postgres="migrated_pg_database")
    async with built_app(SERVICE, url) as app:
        now = dt.datetime.now(dt.UTC)
        async with app.engine.begin() as connection:
            await connection.execute(
                tables.stock_basic.insert(),
                [
                    {"ts_code": code, "symbol": code[:6], "name": code, "list_status": "L", "updated_at": now}
                    for code in ("600000.SH", "000001.SZ", "430047.BJ")
                ],
            )
        yield app


def _bars(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "ts_code": code, "trade_date": day, "open": close, "high": close, "low": close, "close": close,
                "pre_close": close, "change": 0.0, "pct_chg": 0.0, "vol": 1.0,
            }
            for code, day, close in rows
        ]
    )


def _user_deleted(user_id: str) -> Event:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(dt.datetime.now(dt.UTC))
    return Event.create(USER_DELETED, events_pb2.UserDeletedEvent(user_id=user_id, occur_time=stamp))


async def test_valuation_is_one_statement_on_either_database(app):
    await app.bar_store.write(
        "daily",
        _bars([
            ("600000.SH", "20231229", 9.0),
            ("600000.SH", "20240531", 11.0),
            ("600000.SH", "20240530", 10.5),
            ("000001.SZ", "20240102", 9.5),
        ]),
    )
    watchlist = app.watchlist
    for code, quantity, cost in (("600000.SH", 1000, 10.2), ("000001.SZ", 500, 12.0), ("430047.BJ", 200, 5.0)):
        await watchlist.add_position(BOB, code, quantity, cost, "20240102")
    await watchlist.add_position(ALICE, "600000.SH", 1, 1, "")

    statements: list[str] = []
    listener = lambda conn, cursor, statement, *rest: statements.append(statement)  # noqa: E731
    event.listen(app.engine.sync_engine, "before_cursor_execute", listener)
    try:
        page, more = await watchlist.list_positions(BOB, None, 50)
    finally:
        event.remove(app.engine.sync_engine, "before_cursor_execute", listener)
    assert len([s for s in statements if "positions" in s]) == 1 and not more

    got = {
        v.position.ts_code: (v.last_close, v.last_trade_date, v.market_value, v.profit, v.profit_pct) for v in page
    }
    assert got["600000.SH"][:2] == (11.0, dt.date(2024, 5, 31))
    assert got["600000.SH"][2:] == pytest.approx((11_000.0, 800.0, 800.0 / 10_200.0))
    assert got["000001.SZ"][:2] == (9.5, dt.date(2024, 1, 2))
    assert got["000001.SZ"][2:] == pytest.approx((4_750.0, -1_250.0, -1_250.0 / 6_000.0))
    assert got["430047.BJ"] == (None, None, 0.0, 0.0, 0.0)

    first, more = await watchlist.list_positions(BOB, None, 2)
    last = first[-1].position
    rest, more_after = await watchlist.list_positions(BOB, (last.ts_code, last.id), 2)
    assert more and not more_after
    assert [v.position.ts_code for v in [*first, *rest]] == ["000001.SZ", "430047.BJ", "600000.SH"]


async def test_favorites_round_trip_and_conflicts(app):
    watchlist = app.watchlist
    await watchlist.add_favorite(BOB, "600000.SH", "a")
    await watchlist.add_favorite(BOB, "000001.SZ", "b")
    await watchlist.add_favorite(ALICE, "600000.SH", "c")
    with pytest.raises(AlreadyExists):
        await watchlist.add_favorite(BOB, "600000.SH", "again")
    with pytest.raises(NotFound):
        await watchlist.add_favorite(BOB, "688999.SH", "")
    updated = await watchlist.update_favorite(BOB, "600000.SH", "z")
    assert updated.comment == "z"
    found, more = await watchlist.list_favorites(BOB, None, 1)
    assert [f.ts_code for f in found] == ["000001.SZ"] and more
    found, more = await watchlist.list_favorites(BOB, "000001.SZ", 1)
    assert [(f.ts_code, f.comment) for f in found] == [("600000.SH", "z")] and not more


async def test_the_race_on_a_duplicate_favorite_is_already_exists(app):
    """Both adds pass the existence check; the primary key turns the loser into ALREADY_EXISTS."""
    from zquant_marketdata.adapters.sqlalchemy.watchlist_repository import SqlAlchemyWatchlistUnitOfWork
    from zquant_marketdata.domain.watchlist import Favorite

    now = dt.datetime.now(dt.UTC)
    async with SqlAlchemyWatchlistUnitOfWork(app.sessions, tables.outbox) as uow:
        await uow.favorites.add(Favorite("bob-id", "600000.SH", "", now, now))
        await uow.commit()
    async with SqlAlchemyWatchlistUnitOfWork(app.sessions, tables.outbox) as uow:
        with pytest.raises(AlreadyExists):
            await uow.favorites.add(Favorite("bob-id", "600000.SH", "late", now, now))


async def test_user_deleted_consumer_is_idempotent(app):
    watchlist = app.watchlist
    await watchlist.add_favorite(BOB, "600000.SH", "")
    await watchlist.add_position(BOB, "600000.SH", 100, 1, "")
    await watchlist.add_favorite(ALICE, "600000.SH", "")
    deleted = _user_deleted("bob-id")
    await watchlist.on_user_deleted(deleted)

    async def counts():
        async with app.sessions() as session:
            rows = {}
            for table in (tables.favorites, tables.positions):
                query = select(table.c.user_id, func.count()).group_by(table.c.user_id)
                rows[table.name] = dict((await session.execute(query)).all())
            processed = select(func.count()).select_from(tables.processed_messages).where(
                tables.processed_messages.c.consumer == USER_CLEANUP_CONSUMER,
                tables.processed_messages.c.event_id == deleted.id,
            )
            return rows, (await session.execute(processed)).scalar_one()

    assert await counts() == ({"favorites": {"alice-id": 1}, "positions": {}}, 1)
    # Rows appearing later (a restored backup: the API refuses a deleted user) survive a replay.
    from zquant_marketdata.adapters.sqlalchemy.watchlist_repository import SqlAlchemyWatchlistUnitOfWork
    from zquant_marketdata.domain.watchlist import Favorite

    now = dt.datetime.now(dt.UTC)
    async with SqlAlchemyWatchlistUnitOfWork(app.sessions, tables.outbox) as uow:
        await uow.favorites.add(Favorite("bob-id", "000001.SZ", "after", now, now))
        await uow.commit()
    await watchlist.on_user_deleted(deleted)
    assert await counts() == ({"favorites": {"alice-id": 1, "bob-id": 1}, "positions": {}}, 1)
