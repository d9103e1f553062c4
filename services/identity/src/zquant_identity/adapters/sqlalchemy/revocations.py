"""Token revocations: one upserted row per user or role, keeping the latest not-before."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from zquant_identity.adapters.sqlalchemy.tables import token_revocations as r
from zquant_identity.application.ports import RevocationRepository
from zquant_kit.revocation import Revocation


class SqlAlchemyRevocationRepository(RevocationRepository):
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def record(self, revocation: Revocation, forget_before_us: int) -> None:
        await self._s.execute(delete(r).where(r.c.not_before_us < forget_before_us))
        insert = pg_insert if self._s.bind.dialect.name == "postgresql" else sqlite_insert
        statement = insert(r).values(
            user_id=revocation.user_id, role=revocation.role, not_before_us=revocation.not_before_us
        )
        await self._s.execute(
            statement.on_conflict_do_update(
                index_elements=[r.c.user_id, r.c.role],
                set_={"not_before_us": statement.excluded.not_before_us},
                where=r.c.not_before_us < statement.excluded.not_before_us,
            )
        )

    async def since(self, since_us: int) -> Sequence[Revocation]:
        rows = await self._s.execute(
            select(r.c.user_id, r.c.role, r.c.not_before_us)
            .where(r.c.not_before_us >= since_us)
            .order_by(r.c.not_before_us)
        )
        return [Revocation(user_id, role, not_before_us) for user_id, role, not_before_us in rows]
