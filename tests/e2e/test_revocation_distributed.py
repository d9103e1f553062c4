"""Sessions end when rights end, across processes: identity and marketdata each `zquant serve <name>` on
PostgreSQL + NATS. A deactivated user's old token stops working for marketdata writes within 2 s, even
though marketdata has that token in its verified-token cache; a fresh login after reactivation works.
"""

import asyncio
import subprocess
import sys
import time

import grpc
import pytest

from tests.e2e.distributed_env import distributed_env
from zquant.identity.v1 import auth_pb2, auth_pb2_grpc, user_pb2, user_pb2_grpc
from zquant.marketdata.v1 import sync_pb2, sync_pb2_grpc, watchlist_pb2, watchlist_pb2_grpc
from zquant_kit.grpc.client import bearer
from zquant_kit.grpc.status import ErrorInfoReader
from zquant_kit.testing import ADMIN_PASSWORD, wait_serving

pytestmark = pytest.mark.e2e

PASSWORD = "Dana-pass-123"


async def test_deactivated_users_old_token_fails_marketdata_writes_within_2s(pg_database, nats_namespace, tmp_path):
    ports, env = distributed_env(
        pg_database,
        nats_namespace,
        str(tmp_path / "data"),
        # As in Kubernetes: the service credential from the environment, not the data-dir file.
        ZQUANT_SERVICE_SECRET="e2e-service-secret-" + "s" * 32,
    )
    zquant = [sys.executable, "-m", "zquant_kit.cli"]
    subprocess.run([*zquant, "db", "upgrade", "all"], env=env, check=True, timeout=120, capture_output=True)
    processes = {
        name: subprocess.Popen(
            [*zquant, "serve", name], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for name in ("identity", "marketdata")
    }
    identity_address = f"127.0.0.1:{ports['identity']}"
    marketdata_address = f"127.0.0.1:{ports['marketdata']}"
    try:
        await wait_serving(identity_address, processes["identity"], attempts=400)
        await wait_serving(marketdata_address, processes["marketdata"], attempts=400)
        async with grpc.aio.insecure_channel(identity_address) as idc, grpc.aio.insecure_channel(
            marketdata_address
        ) as mdc:
            auth = auth_pb2_grpc.AuthServiceStub(idc)
            users = user_pb2_grpc.UserServiceStub(idc)
            login = auth.Login
            admin = bearer((await login(auth_pb2.LoginRequest(username="admin", password=ADMIN_PASSWORD))).tokens.access_token)
            async for _ in sync_pb2_grpc.SyncServiceStub(mdc).StartSync(
                sync_pb2.StartSyncRequest(datasets=["stock_basic"]), metadata=admin
            ):
                pass
            created = await users.CreateUser(
                user_pb2.CreateUserRequest(username="dana", email="dana@example.com", password=PASSWORD),
                metadata=admin,
            )
            dana = bearer((await login(auth_pb2.LoginRequest(username="dana", password=PASSWORD))).tokens.access_token)
            watchlist = watchlist_pb2_grpc.WatchlistServiceStub(mdc)
            for code in ("000001.SZ", "000002.SZ"):  # the second call is served from the verified-token cache
                await watchlist.AddFavorite(watchlist_pb2.AddFavoriteRequest(ts_code=code), metadata=dana)

            await users.DeactivateUser(user_pb2.DeactivateUserRequest(user_id=created.user.id), metadata=admin)
            started = time.monotonic()
            attempt = 0
            while True:
                attempt += 1
                try:
                    await watchlist.UpdateFavorite(
                        watchlist_pb2.UpdateFavoriteRequest(ts_code="000002.SZ", comment=f"try {attempt}"), metadata=dana
                    )
                except grpc.aio.AioRpcError as error:
                    assert error.code() == grpc.StatusCode.UNAUTHENTICATED, error.details()
                    assert ErrorInfoReader.reason(error, "") == "TOKEN_REVOKED"
                    break
                assert time.monotonic() - started < 2.0, "marketdata still accepts the deactivated user's token"
                await asyncio.sleep(0.02)
            elapsed = time.monotonic() - started
            assert elapsed < 2.0

            await users.ActivateUser(user_pb2.ActivateUserRequest(user_id=created.user.id), metadata=admin)
            again = bearer((await login(auth_pb2.LoginRequest(username="dana", password=PASSWORD))).tokens.access_token)
            listed = await watchlist.ListFavorites(watchlist_pb2.ListFavoritesRequest(), metadata=again)
            assert [f.ts_code for f in listed.favorites][:1] == ["000001.SZ"]
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            process.wait(timeout=20)
    assert all(p.returncode == 0 for p in processes.values()), "SIGTERM must shut every service down cleanly"
