"""Sessions end when rights end: a not-before map of access tokens, per user and per role.

Identity records a revocation whenever a user's rights shrink or change (deactivated, deleted, role or
role permissions changed, password changed, logged out everywhere) and publishes
`identity.token.revoked.v1`. Every service keeps the map below, fed by that event, rebuilt at start
from identity's `ListTokenRevocations`, and resynced from it every second in case the bus is down.
A token issued (`iat_us`, microseconds) before its user's or its role's not-before is refused.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from zquant.common.v1 import revocation_pb2
from zquant_kit.errors import Unauthenticated, Unavailable
from zquant_kit.events.model import Event
from zquant_kit.principal import Principal
from zquant_kit.tasks import BackgroundLoop, raise_if_cancelled

log = logging.getLogger(__name__)

TOKEN_REVOKED = "identity.token.revoked.v1"
TOKEN_REVOKED_REASON = "TOKEN_REVOKED"
# Access tokens live 15 minutes; a not-before older than this (plus leeway) can no longer refuse anything.
RETENTION = dt.timedelta(minutes=20)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def epoch_us(value: dt.datetime) -> int:
    """Exact microseconds since the epoch (float `timestamp()` loses the last digit)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return (value - _EPOCH) // dt.timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Revocation:
    """Tokens issued before `not_before_us` are refused: for `user_id`, or for every holder of `role`."""

    user_id: str
    role: str
    not_before_us: int


class RevocationSource(Protocol):
    async def revocations(self, since_us: int | None) -> Sequence[Revocation]:
        """Revocations in force whose not-before is at or after `since_us` (all of them when None)."""
        ...


class RevocationCheck(Protocol):
    async def check(self, principal: Principal) -> None:
        """Raises Unauthenticated(reason=TOKEN_REVOKED) for a token issued before a revocation."""
        ...


class RevocationMap:
    """Pure and synchronous: two dict lookups per call, so the hot path stays cheap."""

    def __init__(self) -> None:
        self._users: dict[str, int] = {}
        self._roles: dict[str, int] = {}

    def apply(self, revocation: Revocation) -> None:
        """Keeps the latest not-before: replays and out-of-order deliveries change nothing."""
        table, key = (
            (self._users, revocation.user_id) if revocation.user_id else (self._roles, revocation.role)
        )
        if key and revocation.not_before_us > table.get(key, 0):
            table[key] = revocation.not_before_us

    def is_revoked(self, principal: Principal) -> bool:
        issued = principal.issued_at_us
        return issued < self._users.get(principal.user_id, 0) or issued < self._roles.get(principal.role, 0)

    def prune(self, older_than_us: int) -> None:
        for table in (self._users, self._roles):
            for key in [k for k, v in table.items() if v < older_than_us]:
                del table[key]

    def __len__(self) -> int:
        return len(self._users) + len(self._roles)


def revocation_from_event(event: Event) -> Revocation:
    message = event.decode(revocation_pb2.TokenRevokedEvent)
    return Revocation(message.user_id, message.role, message.not_before_time.ToMicroseconds())


class RevocationSync:
    """The map plus how it stays current: a full load before the first check, the bus, and a periodic resync.

    Fail closed: until the first load succeeds, calls get UNAVAILABLE rather than skipping the check.
    The resync asks for revocations since its previous run minus `overlap` (which covers transactions
    that commit late and modest clock skew between hosts).
    """

    def __init__(
        self,
        source: RevocationSource,
        *,
        interval_seconds: float = 1.0,
        overlap: dt.timedelta = dt.timedelta(seconds=10),
        retention: dt.timedelta = RETENTION,
    ) -> None:
        self.map = RevocationMap()
        self._source = source
        self._interval = interval_seconds
        self._overlap_us = overlap // dt.timedelta(microseconds=1)
        self._retention = retention
        self._cursor_us: int | None = None
        self._lock = asyncio.Lock()
        self._background = BackgroundLoop(self._run, "token-revocation-resync")
        self._failing = False

    @property
    def loaded(self) -> bool:
        return self._cursor_us is not None

    async def check(self, principal: Principal) -> None:
        if self._cursor_us is None:
            await self._first_load()
        if self.map.is_revoked(principal):
            raise Unauthenticated("access token revoked; log in again", reason=TOKEN_REVOKED_REASON)

    async def _first_load(self) -> None:
        try:
            await self.sync_once()
        except Exception as exc:
            raise Unavailable(f"token revocation list not loaded yet: {type(exc).__name__}") from None

    async def sync_once(self) -> None:
        """One pull from the source; the cursor moves to this pull's start, so nothing is missed."""
        async with self._lock:
            started = epoch_us(dt.datetime.now(dt.UTC))
            since = None if self._cursor_us is None else self._cursor_us - self._overlap_us
            for revocation in await self._source.revocations(since):
                self.map.apply(revocation)
            self.map.prune(started - self._retention // dt.timedelta(microseconds=1))
            self._cursor_us = started

    async def on_event(self, event: Event) -> None:
        """Handler for `identity.token.revoked.v1` (idempotent: applying twice changes nothing)."""
        self.map.apply(revocation_from_event(event))

    def start(self) -> None:
        self._background.start()

    async def stop(self) -> None:
        await self._background.stop()

    async def _run(self) -> None:
        while True:
            try:
                await self.sync_once()
                if self._failing:
                    log.info("token revocation resync recovered")
                self._failing = False
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not self._failing:
                    log.warning(
                        "token revocation resync failed (retrying every %.1f s): %r", self._interval, exc
                    )
                self._failing = True
            raise_if_cancelled()
            await asyncio.sleep(self._interval)
