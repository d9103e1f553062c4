"""Ending sessions: record a not-before for a user or a role and announce it, in the caller's unit of work."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from zquant_identity.application import events
from zquant_identity.application.ports import Clock, IdentityUnitOfWork, UnitOfWorkFactory
from zquant_kit.revocation import RETENTION, Revocation, epoch_us

_RETENTION_US = RETENTION // dt.timedelta(microseconds=1)


async def revoke_user(uow: IdentityUnitOfWork, user_id: str, now: dt.datetime, cause: str) -> None:
    """Every access token of the user issued before `now` is refused from the commit on."""
    await _record(uow, Revocation(user_id=user_id, role="", not_before_us=epoch_us(now)), cause)


async def revoke_role(uow: IdentityUnitOfWork, role: str, now: dt.datetime, cause: str) -> None:
    """Every access token naming the role and issued before `now` is refused (its permissions changed)."""
    await _record(uow, Revocation(user_id="", role=role, not_before_us=epoch_us(now)), cause)


async def _record(uow: IdentityUnitOfWork, revocation: Revocation, cause: str) -> None:
    await uow.revocations.record(revocation, revocation.not_before_us - _RETENTION_US)
    uow.emit(events.token_revoked(revocation, cause))


class RevocationQueries:
    """The revocations still in force: served by ListTokenRevocations and read by identity's own check."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def revocations(self, since_us: int | None) -> Sequence[Revocation]:
        """Anything older than the retention can no longer refuse a token; a far-future `since` finds nothing."""
        now_us = epoch_us(self._clock.now())
        floor = now_us - _RETENTION_US
        since = floor if since_us is None else min(max(since_us, floor), now_us + _RETENTION_US)
        async with self._uow() as uow:
            return await uow.revocations.since(since)
