"""Distributed mode across processes: identity and marketdata each `zquant serve <name>` on PostgreSQL + NATS.

marketdata verifies identity's tokens with keys fetched over gRPC, checks API keys through identity (with the
service credential both read from the shared data dir), refuses a deleted user's token, and removes their
favorites when identity.user.deleted.v1 arrives over JetStream.
"""

import asyncio

import grpc
import psycopg
import pytest

from tests.e2e.distributed_env import distributed_env, identity_and_marketdata
from zquant.identity.v1 import api_key_pb2, api_key_pb2_grpc, user_pb2, user_pb2_grpc
from zquant.marketdata.v1 import sync_pb2, sync_pb2_grpc, watchlist_pb2, watchlist_pb2_grpc
from zquant_kit.grpc.client import call_with_api_key
from zquant_kit.testing import admin_metadata, conninfo, create_user, eventually

pytestmark = pytest.mark.e2e

LIST_FAVORITES = "/zquant.marketdata.v1.WatchlistService/ListFavorites"


async def _favorites_of(pg_database: str, user_id: str) -> int:
    async with await psycopg.AsyncConnection.connect(conninfo(pg_database)) as db:
        cursor = await db.execute("SELECT count(*) FROM marketdata.favorites WHERE user_id = %s", (user_id,))
        return (await cursor.fetchone())[0]


async def test_identity_and_marketdata_as_separate_processes(migrated_pg_database, nats_namespace, tmp_path):
    ports, env = distributed_env(migrated_pg_database, nats_namespace, str(tmp_path / "data"))
    async with identity_and_marketdata(env, ports) as (idc, mdc):
        users = user_pb2_grpc.UserServiceStub(idc)
        admin = await admin_metadata(idc)
        sync = sync_pb2_grpc.SyncServiceStub(mdc)
        last = None
        async for reply in sync.StartSync(sync_pb2.StartSyncRequest(datasets=["stock_basic"]), metadata=admin):
            last = reply.progress
        assert last.state == "succeeded"

        created, erin = await create_user(idc, "erin", password="Erin-pass-123", admin=admin)
        watchlist = watchlist_pb2_grpc.WatchlistServiceStub(mdc)
        await watchlist.AddFavorite(watchlist_pb2.AddFavoriteRequest(ts_code="000001.SZ"), metadata=erin)

        key = await api_key_pb2_grpc.ApiKeyServiceStub(idc).CreateApiKey(
            api_key_pb2.CreateApiKeyRequest(name="script"), metadata=erin
        )
        signed = {"key_id": key.api_key.id, "secret": key.secret, "method": LIST_FAVORITES}
        listed = await call_with_api_key(watchlist.ListFavorites, watchlist_pb2.ListFavoritesRequest(), **signed)
        assert [f.ts_code for f in listed.favorites] == ["000001.SZ"]

        with pytest.raises(grpc.aio.AioRpcError) as denied:
            await sync.StartSync(sync_pb2.StartSyncRequest(), metadata=erin).read()
        assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED

        await users.DeleteUser(user_pb2.DeleteUserRequest(user_id=created.id), metadata=admin)
        # Erin's access token is refused at once, and her favorites go when the event arrives.
        with pytest.raises(grpc.aio.AioRpcError) as gone:
            for _ in range(20):
                await watchlist.ListFavorites(watchlist_pb2.ListFavoritesRequest(), metadata=erin)
                await asyncio.sleep(0.1)
        assert gone.value.code() == grpc.StatusCode.UNAUTHENTICATED
        remaining = await eventually(
            lambda: _favorites_of(migrated_pg_database, created.id), lambda count: not count, timeout=10.0, interval=0.1
        )
        assert not remaining

