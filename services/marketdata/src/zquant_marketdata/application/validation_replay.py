"""ValidateData with an idempotency key: a repeat by the same caller answers the report the key first produced.

The scheduler dispatches a validation job with its run id as the key, so a retried dispatch checks (and spends
source quota) once. Reports are kept `KEEP` long; an older key is a new validation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from zquant_marketdata.application.sync_ports import Clock
from zquant_marketdata.application.validate import ValidateUseCases, ValidationReport, ValidationRequest

KEEP = dt.timedelta(days=7)


class ValidationResults(Protocol):
    async def recall(self, requested_by: str, key: str, since: dt.datetime) -> ValidationReport | None:
        """The report kept for (requester, key) at or after `since`."""
        ...

    async def keep(
        self,
        requested_by: str,
        key: str,
        report: ValidationReport,
        now: dt.datetime,
        forget_before: dt.datetime,
    ) -> ValidationReport:
        """Insert-or-ignore in one transaction (reports older than `forget_before` dropped first); returns the report
        kept for the key: this one, or one a concurrent repeat kept first."""
        ...


@dataclass(frozen=True)
class RepeatableValidation:
    checks: ValidateUseCases
    results: ValidationResults
    clock: Clock

    async def validate(
        self,
        requested_by: str,
        idempotency_key: str,
        request: ValidationRequest,
    ) -> ValidationReport:
        if not idempotency_key:
            return await self.checks.validate(request)
        oldest = self.clock.now() - KEEP
        earlier = await self.results.recall(requested_by, idempotency_key, oldest)
        if earlier is not None:
            return earlier
        report = await self.checks.validate(request)
        return await self.results.keep(requested_by, idempotency_key, report, self.clock.now(), oldest)
