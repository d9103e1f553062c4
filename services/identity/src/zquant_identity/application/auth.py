"""Login, refresh-token rotation with reuse detection, logout (one or all sessions), API-key authentication."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import secrets
import uuid
from dataclasses import dataclass

from zquant_identity.application.ports import (
    AccessTokenIssuer,
    Clock,
    IdentityUnitOfWork,
    PasswordHasher,
    SecretBox,
    UnitOfWorkFactory,
)
from zquant_identity.application.revocations import revoke_user
from zquant_identity.domain.model import ACCESS_TOKEN_TTL, REFRESH_TOKEN_TTL, RefreshToken, User
from zquant_identity.domain.throttling import FAILURE_MEMORY, AddressFailureLimit, throttle_key
from zquant_kit.auth import SIGNATURE_WINDOW_SECONDS, ApiKeyCredentials, signature
from zquant_kit.errors import InvalidArgument, Unauthenticated
from zquant_kit.principal import Principal

_BAD_LOGIN = "invalid username or password"


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    access_expires_at: dt.datetime
    refresh_token: str
    refresh_expires_at: dt.datetime


def _hash_refresh(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _rate_limited(wait: dt.timedelta, what: str) -> Unauthenticated:
    seconds = max(1, math.ceil(wait.total_seconds()))
    return Unauthenticated(
        f"too many failed logins {what}; retry in {seconds} s", reason="LOGIN_RATE_LIMITED"
    )


class AuthUseCases:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        hasher: PasswordHasher,
        issuer: AccessTokenIssuer,
        clock: Clock,
        box: SecretBox,
    ) -> None:
        self._box = box
        self._uow = uow
        self._hasher = hasher
        self._issuer = issuer
        self._clock = clock
        self._dummy_hash: str | None = None
        self._address_limit = AddressFailureLimit()

    async def _pair(self, uow: IdentityUnitOfWork, user: User, family_id: str, now: dt.datetime) -> TokenPair:
        role = await uow.roles.get(user.role)
        permissions = role.permissions if role else []
        refresh = "zqrt_" + secrets.token_urlsafe(32)
        expires = now + REFRESH_TOKEN_TTL
        await uow.refresh_tokens.add(
            RefreshToken(
                id=str(uuid.uuid4()),
                user_id=user.id,
                family_id=family_id,
                token_hash=_hash_refresh(refresh),
                created_at=now,
                expires_at=expires,
            )
        )
        return TokenPair(
            access_token=self._issuer.issue(user, permissions, now, ACCESS_TOKEN_TTL),
            access_expires_at=now + ACCESS_TOKEN_TTL,
            refresh_token=refresh,
            refresh_expires_at=expires,
        )

    async def _password_matches(self, user: User | None, password: str) -> bool:
        """Always one hash verification, so timing does not reveal which usernames exist."""
        if user is None:
            if self._dummy_hash is None:
                self._dummy_hash = await self._hasher.hash(secrets.token_hex(16))
            await self._hasher.verify(self._dummy_hash, password)
            return False
        return await self._hasher.verify(user.password_hash, password)

    async def login(self, username: str, password: str, client_address: str = "") -> TokenPair:
        """Unknown user, wrong password and deactivated account answer alike; failures throttle per address.

        `client_address` is the caller's host (no port); callers without one share the "" bucket.
        """
        if not username:
            raise InvalidArgument("username", "required")
        if not password:
            raise InvalidArgument("password", "required")
        now = self._clock.now()
        wait = self._address_limit.retry_after(client_address, now)
        if wait is not None:
            raise _rate_limited(wait, "from this address")
        async with self._uow() as uow:
            throttle = await uow.login_throttles.lock(throttle_key(username), client_address)
            wait = throttle.retry_after(now)
            if wait is not None:
                raise _rate_limited(wait, "for this account from this address")
            user = await uow.users.by_username(username)
            if not await self._password_matches(user, password) or user is None or not user.active:
                answered = self._clock.now()  # the backoff runs from the answer, not from the request
                throttle.record_failure(answered)
                await uow.login_throttles.forget_before(answered - FAILURE_MEMORY)
                await uow.commit()
                self._address_limit.record_failure(client_address, answered)
                raise Unauthenticated(_BAD_LOGIN, reason="BAD_CREDENTIALS")
            await uow.login_throttles.delete(throttle)
            pair = await self._pair(uow, user, str(uuid.uuid4()), now)
            await uow.commit()
            return pair

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Rotates; an already-used token means it leaked, so its whole family is revoked."""
        if not refresh_token:
            raise InvalidArgument("refresh_token", "required")
        async with self._uow() as uow:
            now = self._clock.now()
            stored = await uow.refresh_tokens.by_hash(_hash_refresh(refresh_token), for_update=True)
            if stored is None:
                raise Unauthenticated("unknown refresh token", reason="REFRESH_TOKEN_INVALID")
            if stored.is_spent():
                await uow.refresh_tokens.revoke_family(stored.family_id, now)
                await uow.commit()
                raise Unauthenticated(
                    "refresh token reuse detected; session revoked", reason="REFRESH_TOKEN_REUSED"
                )
            if stored.is_expired(now):
                raise Unauthenticated("refresh token expired", reason="REFRESH_TOKEN_EXPIRED")
            user = await uow.users.get(stored.user_id)
            if user is None or not user.active:
                raise Unauthenticated("account is not active", reason="ACCOUNT_INACTIVE")
            stored.used_at = now
            pair = await self._pair(uow, user, stored.family_id, now)
            await uow.commit()
            return pair

    async def logout(self, refresh_token: str) -> None:
        if not refresh_token:
            raise InvalidArgument("refresh_token", "required")
        async with self._uow() as uow:
            stored = await uow.refresh_tokens.by_hash(_hash_refresh(refresh_token))
            if stored is None:
                raise Unauthenticated("unknown refresh token", reason="REFRESH_TOKEN_INVALID")
            await uow.refresh_tokens.revoke_family(stored.family_id, self._clock.now())
            await uow.commit()

    async def logout_all(self, actor: Principal) -> None:
        """Ends every session of the caller: refresh tokens go, access tokens issued so far are revoked."""
        async with self._uow() as uow:
            await uow.refresh_tokens.delete_for_user(actor.user_id)
            await revoke_user(uow, actor.user_id, self._clock.now(), "logout_all")
            await uow.commit()

    async def authenticate_api_key(self, credentials: ApiKeyCredentials) -> Principal:
        """Checks window, signature, key state, then burns the nonce (a nonce is never accepted twice)."""
        now = self._clock.now()
        if abs(now.timestamp() - credentials.timestamp) > SIGNATURE_WINDOW_SECONDS:
            raise Unauthenticated("request timestamp outside the ±300 s window", reason="SIGNATURE_EXPIRED")
        if not credentials.nonce or len(credentials.nonce) > 128:
            raise Unauthenticated("x-zq-nonce must be 1-128 characters", reason="API_KEY_INVALID")
        async with self._uow() as uow:
            key = await uow.api_keys.get(credentials.key_id)
            if key is None:
                raise Unauthenticated("unknown API key", reason="API_KEY_INVALID")
            expected = signature(
                bytes.fromhex(self._box.decrypt(key.hmac_key_encrypted)),
                credentials.timestamp,
                credentials.nonce,
                credentials.method,
                credentials.body_sha256,
            )
            if not hmac.compare_digest(expected, credentials.signature):
                raise Unauthenticated("bad API-key signature", reason="SIGNATURE_INVALID")
            if not key.usable(now):
                raise Unauthenticated("API key revoked or expired", reason="API_KEY_INVALID")
            keep = dt.timedelta(seconds=2 * SIGNATURE_WINDOW_SECONDS)
            if not await uow.api_keys.remember_nonce(key.id, credentials.nonce, now, keep):
                raise Unauthenticated("nonce already used (replay)", reason="NONCE_REUSED")
            user = await uow.users.get(key.user_id)
            if user is None or not user.active:
                raise Unauthenticated("account is not active", reason="ACCOUNT_INACTIVE")
            role = await uow.roles.get(user.role)
            key.last_used_at = now
            await uow.commit()
            return Principal(
                user_id=user.id,
                username=user.username,
                role=user.role,
                permissions=frozenset(role.permissions if role else []),
                auth_method="api_key",
            )
