"""Sessions end when rights end, across processes: identity and marketdata each `zquant serve <name>` on
PostgreSQL + NATS. A deactivated user's old token stops working for marketdata writes within 2 s, even
though marketdata has that token in its verified-token cache; a fresh login after reactivation works.
"""

import itertools
import time

import grpc
import pytest

from tests.e2e.distributed_env import distributed_env, identity_and_marketdata
from zquant.identity.v1 import user_pb2, user_pb2_grpc
from zquant.marketdata.v1 import sync_pb2, sync_pb2_grpc, watchlist_pb2, watchlist_pb2_grpc
from zquant_kit.grpc.status import ErrorInfoReader
from zquant_kit.testing import admin_metadata, create_user, refused_within, sign_in

pytestmark = pytest.mark.e2e

PASSWORD = "Dana-pass-123"


async def test_deactivated_users_old_token_fails_marketdata_writes_within_2s(migrated_pg_database, nats_namespace, tmp_path):
    ports, env = distributed_env(
        migrated_pg_database,
        nats_namespace,
        str(tmp_path / "data"),
        # As in Kubernetes: the service credential from the environment, not the data-dir file.
        ZQUANT_SERVICE_SECRET="e2e-service-secret-" + "s" * 32,
    )
    async with identity_and_marketdata(env, ports) as (idc, mdc):
        users = user_pb2_grpc.UserServiceStub(idc)
        admin = await admin_metadata(idc)
        async for _ in sync_pb2_grpc.SyncServiceStub(mdc).StartSync(
            sync_pb2.StartSyncRequest(datasets=["stock_basic"]), metadata=admin
        ):
            pass
        created, dana = await create_user(idc, "dana", password=PASSWORD, admin=admin)
        watchlist = watchlist_pb2_grpc.WatchlistServiceStub(mdc)
        for code in ("000001.SZ", "000002.SZ"):  # the second call is served from the verified-token cache
            await watchlist.AddFavorite(watchlist_pb2.AddFavoriteRequest(ts_code=code), metadata=dana)

        await users.DeactivateUser(user_pb2.DeactivateUserRequest(user_id=created.id), metadata=admin)
        started = time.monotonic()
        attempts = itertools.count(1)
        error = await refused_within(
            lambda: watchlist.UpdateFavorite(
                watchlist_pb2.UpdateFavoriteRequest(ts_code="000002.SZ", comment=f"try {next(attempts)}"), metadata=dana
            ),
            2.0,
            "marketdata still accepts the deactivated user's token",
            interval=0.02,
        )
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED, error.details()
        assert ErrorInfoReader.reason(error, "") == "TOKEN_REVOKED"
        elapsed = time.monotonic() - started
        assert elapsed < 2.0

        await users.ActivateUser(user_pb2.ActivateUserRequest(user_id=created.id), metadata=admin)
        again = await sign_in(idc, "dana", PASSWORD)
        listed = await watchlist.ListFavorites(watchlist_pb2.ListFavoritesRequest(), metadata=again)
        assert [f.ts_code for f in listed.favorites][:1] == ["000001.SZ"]

