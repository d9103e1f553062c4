"""Fakes of the scheduler's outbound ports: targets that record each call (and can be down), owner tokens per
owner's current permissions, and a fixed trade calendar."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import time
from dataclasses import dataclass, field

from zquant_kit.errors import NotFound, PermissionDenied
from zquant_scheduler.application.job_ports import JobTargets, TargetCall, TargetResult, TradeCalendars
from zquant_scheduler.domain.calendar import TradeCalendar


@dataclass
class RecordingTargets(JobTargets):
    """Records (type, idempotency key, wall time) per call; `down` makes every call raise ConnectionError.
    `done` holds the keys worked on: a key seen again does no work twice (the targets' idempotency)."""

    down: bool = False
    refuse: frozenset[str] = frozenset()
    """Job types whose target refuses the owner (PERMISSION_DENIED: failed at once, never retried)."""
    seconds: float = 0.0
    log_path: str = ""
    calls: list[tuple[str, str, float]] = field(default_factory=list)
    done: set[str] = field(default_factory=set)

    async def _call(self, kind: str, call: TargetCall) -> TargetResult:
        self.calls.append((kind, call.idempotency_key, time.time()))
        if self.log_path:  # unbuffered O_APPEND: a replica killed with -9 loses nothing it wrote
            fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            os.write(fd, f"{call.idempotency_key} {time.time():.6f}\n".encode())
            os.close(fd)
        if self.down:
            raise ConnectionError(f"{kind} target unreachable")
        if kind in self.refuse:
            raise PermissionDenied(f"{kind}: the owner may not do this", permission=kind)
        if self.seconds:
            await asyncio.sleep(self.seconds)
        self.done.add(call.idempotency_key)
        return TargetResult(f"task-{call.idempotency_key[:8]}", f"{kind} done")

    async def data_sync(self, call: TargetCall) -> TargetResult:
        return await self._call("data_sync", call)

    async def data_validation(self, call: TargetCall) -> TargetResult:
        return await self._call("data_validation", call)

    async def factor_calculation(self, call: TargetCall) -> TargetResult:
        return await self._call("factor_calculation", call)

    async def backtest_run(self, call: TargetCall) -> TargetResult:
        return await self._call("backtest_run", call)


@dataclass
class FakeOwnerTokens:
    """Each owner's current permissions; an owner absent is gone (NOT_FOUND)."""

    permissions: dict[str, set[str]] = field(default_factory=dict)
    default: set[str] | None = None

    async def token_for(self, owner_id: str, scopes: tuple[str, ...]) -> str:
        held = self.permissions.get(owner_id, self.default)
        if held is None:
            raise NotFound("user", owner_id)
        for scope in scopes:
            if scope not in held:
                raise PermissionDenied(f"the job's owner lacks {scope!r}", permission=scope)
        return f"token-of-{owner_id}"


@dataclass
class FixedCalendars(TradeCalendars):
    calendar: TradeCalendar

    async def calendar_around(self, day: dt.date) -> TradeCalendar:
        return self.calendar
