"""No secret in any log: real flows with every logger at DEBUG, then a search of all captured output."""

from __future__ import annotations

import logging
import sqlite3
import sys

import grpc
import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from zquant.identity.v1 import api_key_pb2, api_key_pb2_grpc, auth_pb2, auth_pb2_grpc, user_pb2, user_pb2_grpc
from zquant.marketdata.v1 import sync_pb2, sync_pb2_grpc, watchlist_pb2, watchlist_pb2_grpc
from zquant_kit import testing
from zquant_kit.auth import hmac_key
from zquant_kit.events.inprocess import InProcessEventBus
from zquant_kit.grpc.client import bearer, call_with_api_key
from zquant_kit.settings import Settings
from zquant_kit.testing import ADMIN_PASSWORD, running_stack, services

pytestmark = pytest.mark.integration

ALICE_PASSWORD = "Alice-first-pass-1"
ALICE_NEW_PASSWORD = "Alice-second-pass-2"
WRONG_PASSWORD = "Wrong-guess-pass-3"
TUSHARE_TOKEN = "tushare-token-0123456789abcdef0123456789"
GET_ME = "/zquant.identity.v1.UserService/GetMe"
LIST_FAVORITES = "/zquant.marketdata.v1.WatchlistService/ListFavorites"


@pytest.fixture
def debug_everywhere():
    """Every logger at DEBUG, SQLAlchemy's echo included, with a stderr handler as the CLI installs."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    existing = logging.root.manager.loggerDict.items()
    saved = {name: logger.level for name, logger in existing if isinstance(logger, logging.Logger)}
    saved_root = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in [*saved, "sqlalchemy.engine", "sqlalchemy.pool", "aiosqlite", "grpc"]:
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield
    root.removeHandler(handler)
    root.setLevel(saved_root)
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)
    for name in ("sqlalchemy.engine", "sqlalchemy.pool", "aiosqlite", "grpc"):
        logging.getLogger(name).setLevel(saved.get(name, logging.NOTSET))


async def test_real_flows_at_debug_leave_no_secret_in_any_output(tmp_path, caplog, capfd, debug_everywhere):
    caplog.set_level(logging.DEBUG)
    kek = Fernet.generate_key().decode()
    settings = Settings(
        {
            "ZQUANT_DATA_DIR": str(tmp_path / "data"),
            "ZQUANT_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "ZQUANT_EVENT_BUS": "inprocess",
            "ZQUANT_OUTBOX_POLL_SECONDS": "0.2",
            "ZQUANT_SECRET_KEY": kek,
            "ZQUANT_SAMPLE_STOCKS": "5",
            "ZQUANT_SAMPLE_DAYS": "20",
        }
    )
    secrets = [ADMIN_PASSWORD, ALICE_PASSWORD, ALICE_NEW_PASSWORD, WRONG_PASSWORD, TUSHARE_TOKEN, kek]
    async with running_stack(services("identity", "marketdata"), settings, bus=InProcessEventBus()) as client:
        identity, marketdata = client.channel("identity"), client.channel("marketdata")
        auth = auth_pb2_grpc.AuthServiceStub(identity)
        users = user_pb2_grpc.UserServiceStub(identity)
        keys = api_key_pb2_grpc.ApiKeyServiceStub(identity)

        async def login(username: str, password: str) -> auth_pb2.TokenPair:
            tokens = await testing.login(identity, username, password)
            secrets.extend([tokens.access_token, tokens.refresh_token])
            return tokens

        admin = bearer((await login("admin", ADMIN_PASSWORD)).access_token)
        await users.CreateUser(
            user_pb2.CreateUserRequest(username="alice", email="alice@example.com", password=ALICE_PASSWORD),
            metadata=admin,
        )
        alice_tokens = await login("alice", ALICE_PASSWORD)
        with pytest.raises(grpc.aio.AioRpcError):
            await login("alice", WRONG_PASSWORD)
        refreshed = (await auth.Refresh(auth_pb2.RefreshRequest(refresh_token=alice_tokens.refresh_token))).tokens
        secrets.extend([refreshed.access_token, refreshed.refresh_token])
        alice = bearer(refreshed.access_token)

        created = await keys.CreateApiKey(api_key_pb2.CreateApiKeyRequest(name="ci"), metadata=alice)
        secrets.extend([created.secret, hmac_key(created.secret).hex()])
        me = await call_with_api_key(
            users.GetMe, user_pb2.GetMeRequest(), key_id=created.api_key.id, secret=created.secret, method=GET_ME
        )
        assert me.user.username == "alice"
        await call_with_api_key(
            watchlist_pb2_grpc.WatchlistServiceStub(marketdata).ListFavorites,
            watchlist_pb2.ListFavoritesRequest(),
            key_id=created.api_key.id,
            secret=created.secret,
            method=LIST_FAVORITES,
        )

        sync = sync_pb2_grpc.SyncServiceStub(marketdata)
        await sync.SetSourceConfig(sync_pb2.SetSourceConfigRequest(tushare_token=TUSHARE_TOKEN), metadata=admin)
        assert (await sync.GetSourceConfig(sync_pb2.GetSourceConfigRequest(), metadata=admin)).token_set

        await users.ChangePassword(
            user_pb2.ChangePasswordRequest(old_password=ALICE_PASSWORD, new_password=ALICE_NEW_PASSWORD),
            metadata=alice,
        )
        await login("alice", ALICE_NEW_PASSWORD)

        ring = client.app("identity").ring
        for key in ring._private.values():
            pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
            secrets.append(pem.splitlines()[1])  # the base64 body of the PEM
        secrets.append((tmp_path / "data" / "marketdata.key").read_text().strip())
        with sqlite3.connect(tmp_path / "data" / "identity.db") as connection:  # password hashes are secrets too
            secrets.extend(row[0] for row in connection.execute("SELECT password_hash FROM users"))
        connection.close()

    captured = capfd.readouterr()
    records = "\n".join(
        f"{record.getMessage()}\n{record.exc_text or ''}\n{record.stack_info or ''}" for record in caplog.records
    )
    output = "\n".join([caplog.text, records, captured.out, captured.err])
    assert "SELECT" in output and "identity" in output  # the logs were really on, SQL echo included
    leaked = [secret for secret in secrets if secret and secret in output]
    assert not leaked, f"{len(leaked)} secret(s) in the logs, e.g. {leaked[0][:12]}…"
