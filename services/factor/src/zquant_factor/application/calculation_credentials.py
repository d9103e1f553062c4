"""Whose rights a calculation job reads market data with: its owner's, as they are while it runs.

No credential rides the job queue. A worker asks identity (`OwnerTokens`) for a short-lived `data:read` token of
the job's owner when the job starts, and again before a read once the token is older than `REFRESH_AFTER`, so a
long job never reads with an expired token and an owner who loses `data:read` (or is deleted) fails the job with
identity's reason. Jobs the service starts itself are owned by nobody and read with the service credential.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from zquant_factor.application.definition_ports import Clock
from zquant_factor.application.market_ports import Credentials
from zquant_kit.delegation import OwnerTokens

DATA_READ = "data:read"
SYSTEM_OWNER = "system"
REFRESH_AFTER = dt.timedelta(minutes=4)
"""Under half of identity's default owner-token lifetime (10 minutes), so a unit started with a token finishes
its reads well before the token expires."""


class CredentialSource(Protocol):
    async def current(self) -> Credentials:
        """The credentials to read with now; asked for before each read, so a long run never reads expired."""
        ...


class OwnerCredentials(CredentialSource):
    """One job's credentials: asked for lazily, kept while fresh."""

    def __init__(self, owner_id: str, tokens: OwnerTokens, clock: Clock) -> None:
        self._owner_id = owner_id
        self._tokens = tokens
        self._clock = clock
        self._current: Credentials | None = None
        self._asked_at: dt.datetime | None = None

    async def current(self) -> Credentials:
        """The owner's token (the service credential for a system job); raises identity's `ZqError` refusal."""
        if self._owner_id == SYSTEM_OWNER:
            return Credentials("")
        now = self._clock.now()
        if self._current is None or self._asked_at is None or now - self._asked_at >= REFRESH_AFTER:
            self._current = Credentials(await self._tokens.token_for(self._owner_id, (DATA_READ,)))
            self._asked_at = now
        return self._current
