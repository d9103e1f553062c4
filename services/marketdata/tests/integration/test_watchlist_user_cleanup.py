"""Deleting a user in identity removes that user's favorites and positions in marketdata, through the
outbox and the event bus (in-process, then real NATS JetStream), exactly once per event."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from zquant.marketdata.v1 import watchlist_pb2 as pb
from zquant.marketdata.v1 import watchlist_pb2_grpc
from zquant_kit.events.model import Event
from zquant_kit.testing import (
    admin_metadata,
    create_user,
    delete_user,
    eventually,
    nats_stack,
    processed_events,
    stored_event,
)
from zquant_marketdata.adapters.sqlalchemy import tables
from zquant_marketdata.application.watchlist import USER_CLEANUP_CONSUMER, USER_DELETED

CODES = ("600000.SH", "000001.SZ")

pytestmark = pytest.mark.e2e


async def _favorite_again(app, user_id: str) -> None:
    """A favorite for `user_id` written straight to the table, as if it appeared after the deletion."""
    async with app.engine.begin() as connection:
        now = dt.datetime.now(dt.UTC)
        await connection.execute(
            tables.favorites.insert().values(user_id=user_id, ts_code="600000.SH", comment="", created_at=now, updated_at=now)
        )


async def _seed_stocks(app) -> None:
    now = dt.datetime.now(dt.UTC)
    async with app.engine.begin() as connection:
        await connection.execute(
            tables.stock_basic.insert(),
            [{"ts_code": c, "symbol": c[:6], "name": c, "list_status": "L", "updated_at": now} for c in CODES],
        )


async def _rows(app, user_id: str) -> tuple[int, int]:
    async with app.sessions() as session:
        favorites = select(func.count()).select_from(tables.favorites).where(tables.favorites.c.user_id == user_id)
        positions = select(func.count()).select_from(tables.positions).where(tables.positions.c.user_id == user_id)
        return (await session.execute(favorites)).scalar_one(), (await session.execute(positions)).scalar_one()


async def _gone(app, user_id: str) -> bool:
    return await _rows(app, user_id) == (0, 0)


async def _processed(app) -> list[str]:
    async with app.sessions() as session:
        return await processed_events(session, tables.processed_messages, USER_CLEANUP_CONSUMER)


async def _fill(watchlist, metadata) -> None:
    for code in CODES:
        await watchlist.AddFavorite(pb.AddFavoriteRequest(ts_code=code, comment="x"), metadata=metadata)
        await watchlist.AddPosition(pb.AddPositionRequest(ts_code=code, quantity=100, average_cost=10), metadata=metadata)


async def test_deleting_a_user_removes_their_watchlist_and_a_replay_is_a_no_op(marketdata):
    app = marketdata.app
    await _seed_stocks(app)
    bob_id, bob = await marketdata.user("bob")
    alice_id, alice = await marketdata.user("alice")
    await _fill(marketdata.watchlist, bob)
    await _fill(marketdata.watchlist, alice)
    assert await _rows(app, bob_id) == (2, 2)

    delivered: list[Event] = []

    async def capture(event: Event) -> None:
        delivered.append(event)

    await marketdata.stack.bus.subscribe("test-capture", USER_DELETED, capture)
    await delete_user(marketdata.identity_channel, bob_id, await marketdata.admin())

    assert await eventually(lambda: _gone(app, bob_id), timeout=5.0), "bob's watchlist is still there after 5 s"
    assert await _rows(app, alice_id) == (2, 2)
    assert len(delivered) == 1
    assert await _processed(app) == [delivered[0].id]

    # Redelivery of the same event (say the relay crashed before marking it sent) changes nothing,
    # not even rows that appeared for that user id since.
    await _favorite_again(app, bob_id)
    await marketdata.stack.bus.publish(delivered[0])
    assert await _rows(app, bob_id) == (1, 0)
    assert await _processed(app) == [delivered[0].id]
    assert await _rows(app, alice_id) == (2, 2)


async def test_user_deleted_crosses_nats_jetstream(migrated_pg_database, nats_namespace):
    async with nats_stack(migrated_pg_database, nats_namespace, "identity", "marketdata") as client:
        app = client.app("marketdata")
        await _seed_stocks(app)
        admin = await admin_metadata(client.channel("identity"))
        created, nadia = await create_user(client.channel("identity"), "nadia", password="Nadia-pass-1", admin=admin)
        watchlist = watchlist_pb2_grpc.WatchlistServiceStub(client.channel("marketdata"))
        await _fill(watchlist, nadia)
        user_id = created.id
        assert await _rows(app, user_id) == (2, 2)

        await delete_user(client.channel("identity"), user_id, admin)
        assert await eventually(lambda: _gone(app, user_id), timeout=5.0), "the event did not arrive over NATS within 5 s"
        processed = await _processed(app)
        assert len(processed) == 1

        # Replaying that very event (as JetStream would after a lost ack) is a no-op.
        await _favorite_again(app, user_id)
        # The event exactly as identity stored it in its outbox, same id as on the wire.
        async with app.engine.connect() as connection:
            replayed = await stored_event(connection, "identity", processed[0])
        assert replayed.type == USER_DELETED
        await app.watchlist.on_user_deleted(replayed)
        assert await _rows(app, user_id) == (1, 0)
        assert await _processed(app) == processed
