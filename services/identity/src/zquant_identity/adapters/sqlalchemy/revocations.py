"""Token revocations: one upserted row per user or role, keeping the latest not-before."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from zquant_identity.adapters.sqlalchemy.tables import token_revocations as r
from zquant_identity.application.ports import RevocationRepository
from zquant_kit.persistence.upsert import upsert
from zquant_kit.revocation import Revocation


class SqlAlchemyRevocationRepository(RevocationRepository):
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def record(self, revocation: Revocation, forget_before_us: int) -> None:
        await self._s.execute(delete(r).where(r.c.not_before_us < forget_before_us))
        statement = upsert(
            self._s,
            r,
            ["user_id", "role"],
            ["not_before_us"],
            values={
                "user_id": revocation.user_id,
                "role": revocation.role,
                "not_before_us": revocation.not_before_us,
            },
            where=lambda new: r.c.not_before_us < new.not_before_us,
        )
        await self._s.execute(statement)

    async def since(self, since_us: int) -> Sequence[Revocation]:
        rows = await self._s.execute(
            select(r.c.user_id, r.c.role, r.c.not_before_us)
            .where(r.c.not_before_us >= since_us)
            .order_by(r.c.not_before_us)
        )
        return [Revocation(user_id, role, not_before_us) for user_id, role, not_before_us in rows]
