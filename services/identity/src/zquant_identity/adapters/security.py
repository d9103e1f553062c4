"""argon2id password hashing and EdDSA access tokens with keys kept in identity's database."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid

from argon2 import PasswordHasher as Argon2
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, load_pem_private_key
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from zquant_kit.auth import sign_access_token
from zquant_kit.revocation import epoch_us
from zquant_identity.adapters.sqlalchemy.tables import signing_keys
from zquant_identity.domain.model import User

# OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1.
ARGON2_MEMORY_KIB = 19 * 1024
ARGON2_TIME_COST = 2
ARGON2_PARALLELISM = 1


class Argon2PasswordHasher:
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


class SigningKeyRing:
    """The newest key signs; every stored key verifies (so rotation doesn't log anyone out)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], min_refresh_seconds: float = 5.0) -> None:
        self._sessions = sessions
        self._private: dict[str, Ed25519PrivateKey] = {}
        self._current: str | None = None
        self._loaded_at = 0.0
        self._min_refresh = min_refresh_seconds
        self._lock = asyncio.Lock()

    async def load(self) -> None:
        async with self._sessions() as session, session.begin():
            rows = (await session.execute(select(signing_keys).order_by(signing_keys.c.created_at))).all()
            if not rows:
                key = Ed25519PrivateKey.generate()
                kid = uuid.uuid4().hex[:16]
                pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
                await session.execute(
                    signing_keys.insert().values(kid=kid, private_key_pem=pem, created_at=dt.datetime.now(dt.UTC))
                )
                rows = [(kid, pem, None)]
        self._private = {kid: load_pem_private_key(pem.encode(), None) for kid, pem, _ in rows}
        self._current = rows[-1][0]
        self._loaded_at = time.monotonic()

    async def public_keys(self, refresh: bool = False) -> dict[str, Ed25519PublicKey]:
        """A refresh (a token named an unknown key) reloads at most every few seconds: forged kids cost nothing."""
        async with self._lock:
            due = refresh and time.monotonic() - self._loaded_at > self._min_refresh
            if due or not self._private:
                await self.load()
        return {kid: key.public_key() for kid, key in self._private.items()}

    def sign(self, claims: dict) -> str:
        assert self._current is not None, "SigningKeyRing.load() must run at startup"
        return sign_access_token(self._private[self._current], self._current, claims)


class JwtAccessTokenIssuer:
    def __init__(self, ring: SigningKeyRing, issuer: str, audience: str) -> None:
        self._ring = ring
        self._issuer = issuer
        self._audience = audience

    def issue(self, user: User, permissions: list[str], now: dt.datetime, ttl: dt.timedelta) -> str:
        return self._ring.sign(
            {
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
        )
