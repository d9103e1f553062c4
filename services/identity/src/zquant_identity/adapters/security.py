"""argon2id password hashing and EdDSA access tokens with keys kept, encrypted, in identity's database."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import uuid

from argon2 import PasswordHasher as Argon2
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from zquant_identity.adapters.sqlalchemy.tables import signing_keys
from zquant_identity.application.ports import AccessTokenIssuer, OwnerTokenIssuer, PasswordHasher, SecretBox
from zquant_identity.domain.model import ACCESS_TOKEN_TTL, User
from zquant_kit.auth import PublicKeySource, sign_access_token
from zquant_kit.clock import as_utc
from zquant_kit.revocation import epoch_us
from zquant_kit.tasks import cancel_and_wait, raise_if_cancelled

log = logging.getLogger(__name__)

# OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1.
ARGON2_MEMORY_KIB = 19 * 1024
ARGON2_TIME_COST = 2
ARGON2_PARALLELISM = 1

# A retired key may still sign for up to one reload period on a replica that has not reloaded yet;
# its tokens then live ACCESS_TOKEN_TTL, verified with up to a minute of clock leeway.
RELOAD_SECONDS = 30.0
RETIRED_KEY_GRACE = ACCESS_TOKEN_TTL + dt.timedelta(seconds=RELOAD_SECONDS + 60)


class Argon2PasswordHasher(PasswordHasher):
    """Hashing costs ~tens of ms of CPU: it runs in a thread so the event loop keeps serving."""

    def __init__(
        self,
        memory_kib: int = ARGON2_MEMORY_KIB,
        time_cost: int = ARGON2_TIME_COST,
        parallelism: int = ARGON2_PARALLELISM,
    ) -> None:
        self._argon2 = Argon2(memory_cost=memory_kib, time_cost=time_cost, parallelism=parallelism)

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._argon2.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        def check() -> bool:
            try:
                return self._argon2.verify(password_hash, password)
            except (VerificationError, InvalidHashError):
                return False

        return await asyncio.to_thread(check)


class SigningKeyRing(PublicKeySource):
    """The newest key signs; older keys keep verifying until their last token has expired.

    Private keys are stored encrypted under the key-encryption key (`box`), so a copy of the database
    alone cannot mint tokens. `rotate()` retires the signing key: from then on a new `kid` signs, and
    the retired one is dropped (from GetVerificationKeys and the table) once `RETIRED_KEY_GRACE` has passed.
    Every replica reloads the ring every `RELOAD_SECONDS`, so a rotation made by another process
    (`zquant identity rotate-signing-key`) takes over there too.
    """

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], box: SecretBox, min_refresh_seconds: float = 5.0
    ) -> None:
        self._sessions = sessions
        self._box = box
        self._private: dict[str, Ed25519PrivateKey] = {}
        self._current: str | None = None
        self._loaded_at = 0.0
        self._min_refresh = min_refresh_seconds
        self._lock = asyncio.Lock()
        self._reloader: asyncio.Task | None = None

    @property
    def current_kid(self) -> str | None:
        return self._current

    def _new_key_values(self, now: dt.datetime) -> dict:
        pem = (
            Ed25519PrivateKey.generate()
            .private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
            .decode()
        )
        sealed = self._box.encrypt(pem).decode()
        return {"kid": uuid.uuid4().hex[:16], "private_key_encrypted": sealed, "created_at": now}

    async def load(self) -> None:
        """Drops keys past their grace, makes a signing key when none is active, then reads the ring."""
        now = dt.datetime.now(dt.UTC)
        async with self._sessions() as session, session.begin():
            await session.execute(
                signing_keys.delete().where(signing_keys.c.retired_at < now - RETIRED_KEY_GRACE)
            )
            active = select(signing_keys.c.kid).where(signing_keys.c.retired_at.is_(None)).limit(1)
            if (await session.execute(active)).first() is None:
                await session.execute(signing_keys.insert().values(self._new_key_values(now)))
        await self._read()

    async def _read(self) -> None:
        """Only reads: a refresh inside a read-only RPC (GetVerificationKeys, a token with an unknown kid) writes nothing."""
        now = dt.datetime.now(dt.UTC)
        query = select(signing_keys.c.kid, signing_keys.c.private_key_encrypted, signing_keys.c.retired_at)
        async with self._sessions() as session, session.begin():
            rows = (await session.execute(query.order_by(signing_keys.c.created_at))).all()
        rows = [row for row in rows if row[2] is None or as_utc(row[2]) >= now - RETIRED_KEY_GRACE]
        self._private = {kid: _ed25519(self._box.decrypt(sealed)) for kid, sealed, _ in rows}
        self._current = [kid for kid, _, retired in rows if retired is None][-1]
        self._loaded_at = time.monotonic()

    async def rotate(self) -> str:
        """Retires every signing key and adds a new one; returns the new kid."""
        now = dt.datetime.now(dt.UTC)
        values = self._new_key_values(now)
        async with self._sessions() as session, session.begin():
            await session.execute(
                signing_keys.update().where(signing_keys.c.retired_at.is_(None)).values(retired_at=now)
            )
            await session.execute(signing_keys.insert().values(values))
        async with self._lock:
            await self.load()
        return values["kid"]

    async def public_keys(self, refresh: bool = False) -> dict[str, Ed25519PublicKey]:
        """A refresh (a token named an unknown key) reloads at most every few seconds: forged kids cost nothing."""
        async with self._lock:
            due = refresh and time.monotonic() - self._loaded_at > self._min_refresh
            if due or not self._private:
                await self._read()
        return {kid: key.public_key() for kid, key in self._private.items()}

    def sign(self, claims: dict) -> str:
        assert self._current is not None, "SigningKeyRing.load() must run at startup"
        return sign_access_token(self._private[self._current], self._current, claims)

    def start_reloading(self, every_seconds: float = RELOAD_SECONDS) -> None:
        async def reload_forever() -> None:
            while True:
                await asyncio.sleep(every_seconds)
                try:
                    async with self._lock:
                        await self.load()
                except Exception:
                    log.exception("reloading the signing keys failed; keeping the loaded ones")
                raise_if_cancelled()

        self._reloader = asyncio.create_task(reload_forever(), name="signing-key-reload")

    async def stop_reloading(self) -> None:
        await cancel_and_wait(self._reloader)
        self._reloader = None


class JwtAccessTokenIssuer(AccessTokenIssuer, OwnerTokenIssuer):
    """Login tokens and tokens a service acts with are the same kind: one signer, one verification path."""

    def __init__(self, ring: SigningKeyRing, issuer: str, audience: str) -> None:
        self._ring = ring
        self._issuer = issuer
        self._audience = audience

    def issue(self, user: User, permissions: list[str], now: dt.datetime, ttl: dt.timedelta) -> str:
        return self._ring.sign(self._claims(user, permissions, now, ttl))

    def issue_for(
        self, user: User, scopes: list[str], now: dt.datetime, ttl: dt.timedelta, acting_service: str
    ) -> str:
        # RFC 8693's actor claim: the subject is the user, the party holding the token is the service.
        return self._ring.sign(
            {**self._claims(user, scopes, now, ttl), "act": {"sub": f"service:{acting_service}"}}
        )

    def _claims(self, user: User, permissions: list[str], now: dt.datetime, ttl: dt.timedelta) -> dict:
        return {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": user.id,
            "username": user.username,
            "role": user.role,
            "perms": permissions,
            "iat": int(now.timestamp()),
            # `iat` is whole seconds; revocations compare in microseconds, so a token minted just
            # after a revocation works and one minted just before it does not.
            "iat_us": epoch_us(now),
            "exp": int((now + ttl).timestamp()),
            "jti": uuid.uuid4().hex,
            "typ": "access",
        }


def _ed25519(pem: str) -> Ed25519PrivateKey:
    """A stored signing key: only Ed25519 keys are ever written (`_new_key_values`)."""
    key = load_pem_private_key(pem.encode(), None)
    if not isinstance(key, Ed25519PrivateKey):
        raise TypeError(f"a signing key is {type(key).__name__}, not Ed25519")
    return key
