"""SQLAlchemy Core adapter of the source configuration: one row, the token only as ciphertext."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from zquant_kit.clock import as_utc
from zquant_kit.persistence.upsert import upsert
from zquant_marketdata.adapters.sqlalchemy import tables
from zquant_marketdata.adapters.sqlalchemy.sql_store import SqlStore
from zquant_marketdata.application.sync_ports import SourceConfigRepository, StoredSourceConfig


class SqlAlchemySourceConfigRepository(SqlStore, SourceConfigRepository):
    async def get_source_config(self) -> StoredSourceConfig | None:
        t = tables.source_config
        async with self._sessions() as session:
            row = (await session.execute(select(t).where(t.c.id == 1))).first()
        if row is None:
            return None
        return StoredSourceConfig(row.token_ciphertext, row.base_url, row.calls_per_minute, as_utc(row.updated_at))

    async def save_source_config(
        self, token_ciphertext: bytes | None, keep_token: bool, base_url: str, calls_per_minute: float, now: dt.datetime
    ) -> None:
        t = tables.source_config
        values: dict[str, Any] = {"base_url": base_url, "calls_per_minute": calls_per_minute, "updated_at": now}
        if not keep_token:
            values["token_ciphertext"] = token_ciphertext
        statement = upsert(
            self._dialect, t, ["id"], values, values={**values, "id": 1, "token_ciphertext": token_ciphertext}
        )
        async with self._sessions() as session:
            await session.execute(statement)
            await session.commit()
