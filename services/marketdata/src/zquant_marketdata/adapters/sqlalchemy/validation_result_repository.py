"""The validation reports kept per (requester, idempotency key), as JSON text."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from zquant_kit.persistence.upsert import insert_or_ignore
from zquant_marketdata.adapters.sqlalchemy import tables
from zquant_marketdata.application.validate import ValidationReport
from zquant_marketdata.application.validation_replay import ValidationResults
from zquant_marketdata.domain.quality import Issue


def _dumps(report: ValidationReport) -> str:
    issues = [
        [i.kind, i.ts_code, i.trade_date.isoformat() if i.trade_date else None, i.detail]
        for i in report.issues
    ]
    return json.dumps({"rows_checked": report.rows_checked, "truncated": report.truncated, "issues": issues})


def _loads(text: str) -> ValidationReport:
    data = json.loads(text)
    issues = [
        Issue(kind, code, dt.date.fromisoformat(day) if day else None, detail)
        for kind, code, day, detail in data["issues"]
    ]
    return ValidationReport(int(data["rows_checked"]), issues, bool(data["truncated"]))


class SqlAlchemyValidationResults(ValidationResults):
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def recall(self, requested_by: str, key: str, since: dt.datetime) -> ValidationReport | None:
        async with self._sessions() as session:
            return await _kept(session, requested_by, key, since)

    async def keep(
        self,
        requested_by: str,
        key: str,
        report: ValidationReport,
        now: dt.datetime,
        forget_before: dt.datetime,
    ) -> ValidationReport:
        t = tables.validation_results
        async with self._sessions() as session:
            await session.execute(delete(t).where(t.c.created_at < forget_before))
            values = {
                "requested_by": requested_by,
                "idempotency_key": key,
                "report": _dumps(report),
                "created_at": now,
            }
            await session.execute(insert_or_ignore(session, t, **values))
            kept = await _kept(session, requested_by, key, forget_before)
            await session.commit()
        assert kept is not None, "the key's report was just kept"
        return kept


async def _kept(
    session: AsyncSession, requested_by: str, key: str, since: dt.datetime
) -> ValidationReport | None:
    t = tables.validation_results
    query = select(t.c.report).where(
        t.c.requested_by == requested_by, t.c.idempotency_key == key, t.c.created_at >= since
    )
    text = (await session.execute(query)).scalar_one_or_none()
    return None if text is None else _loads(text)
