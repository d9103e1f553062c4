"""Identity's secrets at rest on the embedded default: file modes, encrypted keys, a stolen database, rotation."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import jwt
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from zquant.common.v1 import token_verification_pb2, token_verification_pb2_grpc
from zquant.identity.v1 import api_key_pb2, api_key_pb2_grpc, auth_pb2, user_pb2, user_pb2_grpc
from zquant_identity.adapters.security import RETIRED_KEY_GRACE
from zquant_identity.adapters.sqlalchemy.legacy_secrets import encrypt_plaintext_rows
from zquant_identity.adapters.sqlalchemy.tables import api_keys, signing_keys
from zquant_identity.bootstrap import SERVICE
from zquant_identity.cli import rotate_signing_key
from zquant_kit.auth import TokenVerifier, hmac_key, sign_access_token
from zquant_kit.cli import main as zquant
from zquant_kit.errors import FailedPrecondition, Unauthenticated
from zquant_kit.events.inprocess import InProcessEventBus
from zquant_kit.grpc.client import bearer, call_with_api_key
from zquant_kit.persistence import migrations
from zquant_kit.runner import upgrade_all
from zquant_kit.settings import Settings
from zquant_kit.testing import ADMIN_PASSWORD, StackClient, login, running_stack

pytestmark = pytest.mark.contract

GET_ME = "/zquant.identity.v1.UserService/GetMe"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def settings_for(data_dir: Path, **extra: str) -> Settings:
    return Settings(
        {
            "ZQUANT_DATA_DIR": str(data_dir),
            "ZQUANT_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "ZQUANT_EVENT_BUS": "inprocess",
            **extra,
        }
    )


class Running:
    def __init__(self, client: StackClient) -> None:
        self.app = client.app("identity")
        self.channel = client.channel("identity")
        self.verification = token_verification_pb2_grpc.TokenVerificationServiceStub(self.channel)
        self.users = user_pb2_grpc.UserServiceStub(self.channel)
        self.api_keys = api_key_pb2_grpc.ApiKeyServiceStub(self.channel)

    async def login(self) -> auth_pb2.TokenPair:
        return await login(self.channel, "admin", ADMIN_PASSWORD)

    async def kids(self) -> set[str]:
        keys = await self.verification.GetVerificationKeys(
            token_verification_pb2.GetVerificationKeysRequest()
        )
        return {key.kid for key in keys.keys}


@asynccontextmanager
async def started(settings: Settings) -> AsyncIterator[Running]:
    async with running_stack([SERVICE], settings, bus=InProcessEventBus()) as client:
        yield Running(client)


@pytest.fixture
def loose_umask():
    """Files made under a permissive umask must still come out private."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


async def test_data_dir_database_wal_key_file_and_backup_are_private(tmp_path, loose_umask, monkeypatch):
    data = tmp_path / "data"
    async with started(settings_for(data)) as running:
        await running.login()
        db = data / "identity.db"
        assert mode(data) == 0o700
        assert mode(db) == 0o600 and mode(data / "identity.key") == 0o600
        assert (data / "identity.db-wal").exists() and mode(data / "identity.db-wal") == 0o600
        assert mode(data / "identity.db-shm") == 0o600

        monkeypatch.setenv("ZQUANT_DATA_DIR", str(data))
        zquant(["db", "backup", "identity", str(tmp_path / "backups")])
        assert mode(tmp_path / "backups") == 0o700 and mode(tmp_path / "backups" / "identity.db") == 0o600


async def test_existing_files_with_wider_modes_are_tightened_at_start(tmp_path, loose_umask):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    (data / "identity.key").write_bytes(
        Fernet.generate_key()
    )  # as an older version or a careless copy left them
    await upgrade_all([SERVICE], settings_for(data))
    for path in (data, data / "identity.db", data / "identity.key"):
        path.chmod(0o755 if path.is_dir() else 0o644)

    async with started(settings_for(data)) as running:
        await running.login()
        assert (mode(data), mode(data / "identity.db"), mode(data / "identity.key")) == (0o700, 0o600, 0o600)


async def test_a_stolen_database_holds_no_usable_signing_or_hmac_key(tmp_path):
    data, kek = tmp_path / "data", Fernet.generate_key().decode()
    async with started(settings_for(data, ZQUANT_SECRET_KEY=kek)) as running:
        admin = bearer((await running.login()).access_token)
        created = await running.api_keys.CreateApiKey(
            api_key_pb2.CreateApiKeyRequest(name="ci"), metadata=admin
        )
        pem = running.app.ring._private[running.app.ring.current_kid].private_bytes(
            Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
        )
    stolen = tmp_path / "stolen"
    stolen.mkdir()
    for name in ("identity.db", "identity.db-wal", "identity.db-shm"):
        if (data / name).exists():
            shutil.copy(data / name, stolen / name)

    raw = b"".join(path.read_bytes() for path in stolen.iterdir())
    hmac_hex = hmac_key(created.secret).hex().encode()
    pem_body = pem.splitlines()[1]
    assert pem_body not in raw and b"PRIVATE KEY" not in raw and hmac_hex not in raw

    with sqlite3.connect(stolen / "identity.db") as connection:
        (sealed_key,) = connection.execute("SELECT private_key_encrypted FROM signing_keys").fetchone()
        query = "SELECT hmac_key_encrypted, hmac_key_hex FROM api_keys"
        (sealed_hmac, plain_hmac) = connection.execute(query).fetchone()
    assert plain_hmac is None
    for sealed in (sealed_key, sealed_hmac):
        with pytest.raises(InvalidToken):
            Fernet(Fernet.generate_key()).decrypt(sealed.encode())
    assert Fernet(kek.encode()).decrypt(sealed_hmac.encode()) == hmac_hex  # only the KEK opens it

    # Started on the copy without the KEK, identity refuses to run rather than mint with unreadable keys.
    with pytest.raises(FailedPrecondition) as refused:
        async with started(settings_for(stolen)):
            pass
    assert refused.value.reason == "SECRET_UNREADABLE"


async def test_plaintext_rows_of_an_older_version_are_encrypted_at_start_and_keep_working(tmp_path):
    data = tmp_path / "data"
    settings = settings_for(data, ZQUANT_SECRET_KEY=Fernet.generate_key().decode())
    url = settings.database_url("identity")
    await migrations.upgrade(SERVICE.migrations, url, SERVICE.schema, "0001")
    old_key = Ed25519PrivateKey.generate()
    pem = old_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    with sqlite3.connect(data / "identity.db") as connection:
        connection.execute(
            "INSERT INTO signing_keys (kid, private_key_pem, created_at) VALUES ('oldkid', ?, '2026-01-01 00:00:00')",
            (pem,),
        )
    async with started(settings) as running:
        admin = bearer((await running.login()).access_token)
        admin_id = (await running.users.GetMe(user_pb2.GetMeRequest(), metadata=admin)).user.id
        async with running.app.sessions() as session, session.begin():  # a key made by the older version
            legacy = {
                "id": "zqak_legacy",
                "user_id": admin_id,
                "name": "old",
                "created_at": dt.datetime.now(dt.UTC),
            }
            await session.execute(
                api_keys.insert().values(hmac_key_hex=hmac_key("zqsk_legacy-secret").hex(), **legacy)
            )
        assert (
            await encrypt_plaintext_rows(running.app.sessions, running.app.box) == 1
        )  # what every start runs

        with sqlite3.connect(data / "identity.db") as connection:
            rows = connection.execute(
                "SELECT private_key_pem, private_key_encrypted FROM signing_keys"
            ).fetchall()
            hmac_row = connection.execute("SELECT hmac_key_hex, hmac_key_encrypted FROM api_keys").fetchone()
        assert all(plain is None and sealed for plain, sealed in rows) and len(rows) == 1
        assert hmac_row[0] is None and hmac_row[1]
        now = int(dt.datetime.now(dt.UTC).timestamp())
        old_token = sign_access_token(
            old_key,
            "oldkid",
            {
                "iss": "zquant-identity",
                "aud": "zquant",
                "sub": admin_id,
                "username": "admin",
                "role": "admin",
                "perms": [],
                "iat": now,
                "exp": now + 600,
                "jti": "j1",
                "typ": "access",
            },
        )
        assert (
            await running.users.GetMe(user_pb2.GetMeRequest(), metadata=bearer(old_token))
        ).user.id == admin_id
        me = await call_with_api_key(
            running.users.GetMe,
            user_pb2.GetMeRequest(),
            key_id="zqak_legacy",
            secret="zqsk_legacy-secret",
            method=GET_ME,
        )
        assert me.user.id == admin_id


async def test_rotation_adds_a_kid_old_tokens_verify_until_the_old_kid_expires(tmp_path):
    data = tmp_path / "data"
    settings = settings_for(data, ZQUANT_SECRET_KEY=Fernet.generate_key().decode())
    async with started(settings) as running:
        before = (await running.login()).access_token
        old_kid = jwt.get_unverified_header(before)["kid"]
        assert await running.kids() == {old_kid}

        assert (
            await rotate_signing_key(settings) == 0
        )  # `zquant identity rotate-signing-key`, another process's view
        await running.app.ring.load()  # what the periodic reload does
        after = (await running.login()).access_token
        new_kid = jwt.get_unverified_header(after)["kid"]
        assert new_kid != old_kid and await running.kids() == {old_kid, new_kid}
        for token in (before, after):
            await running.users.GetMe(user_pb2.GetMeRequest(), metadata=bearer(token))

        retired = dt.datetime.now(dt.UTC) - RETIRED_KEY_GRACE - dt.timedelta(seconds=1)
        async with running.app.sessions() as session, session.begin():
            expire_old = (
                sa.update(signing_keys).where(signing_keys.c.kid == old_kid).values(retired_at=retired)
            )
            await session.execute(expire_old)
        await running.app.ring.load()
        assert await running.kids() == {new_kid}
        fresh = TokenVerifier(  # no cached verdicts
            running.app.ring, revocations=running.app.revocations, issuer="zquant-identity", audience="zquant"
        )
        await fresh.verify(after)
        with pytest.raises(Unauthenticated):
            await fresh.verify(before)
