"""API keys: the secret is shown once; only its SHA-256 (the HMAC key) is stored, encrypted."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid

from zquant_identity.application.ports import Clock, SecretBox, UnitOfWorkFactory
from zquant_identity.domain.model import ApiKey
from zquant_kit.auth import hmac_key
from zquant_kit.errors import InvalidArgument, NotFound
from zquant_kit.pagination import Page, fetch_page
from zquant_kit.principal import Principal


class ApiKeyUseCases:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, box: SecretBox) -> None:
        self._uow = uow
        self._clock = clock
        self._box = box

    async def create(self, actor: Principal, name: str, expires_at: dt.datetime | None) -> tuple[ApiKey, str]:
        name = name.strip()
        if not name or len(name) > 100:
            raise InvalidArgument("name", "1-100 characters required")
        now = self._clock.now()
        if expires_at is not None and expires_at <= now:
            raise InvalidArgument("expire_time", "must be in the future")
        secret = "zqsk_" + secrets.token_urlsafe(32)
        key = ApiKey(
            id="zqak_" + uuid.uuid4().hex[:20],
            user_id=actor.user_id,
            name=name,
            hmac_key_encrypted=self._box.encrypt(hmac_key(secret).hex()).decode(),
            created_at=now,
            expires_at=expires_at,
        )
        async with self._uow() as uow:
            await uow.api_keys.add(key)
            await uow.commit()
        return key, secret

    async def list(self, actor: Principal, after: str | None, limit: int) -> Page[ApiKey]:
        async with self._uow() as uow:
            return await fetch_page(lambda n: uow.api_keys.list_for_user(actor.user_id, after, n), limit)

    async def revoke(self, actor: Principal, key_id: str) -> None:
        """Another user's key is reported NOT_FOUND, so key ids don't leak across users."""
        if not key_id:
            raise InvalidArgument("api_key_id", "required")
        async with self._uow() as uow:
            key = await uow.api_keys.get(key_id)
            if key is None or key.user_id != actor.user_id:
                raise NotFound("api_key", key_id)
            if key.revoked_at is None:
                key.revoked_at = self._clock.now()
            await uow.commit()
