"""The task records on SQLAlchemy Core: config and metrics as JSON, state as its value."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from zquant_backtest.adapters.sqlalchemy import tables as t
from zquant_backtest.application.run_config_json import config_from_json, config_to_json
from zquant_backtest.application.task_ports import DuplicateIdempotencyKey, TaskRecord, TaskRepository
from zquant_backtest.domain.tasks import TaskState

_c = t.tasks.c
_UNFINISHED = (TaskState.QUEUED.value, TaskState.RUNNING.value)


def _record(row: Any) -> TaskRecord:
    return TaskRecord(
        id=row.id, owner_id=row.owner_id, code=row.code, params_schema=dict(row.params_schema or {}),
        code_hash=row.code_hash, config=config_from_json(row.config), data_version=row.data_version,
        created_at=row.created_at, strategy_id=row.strategy_id, strategy_name=row.strategy_name,
        template_name=row.template_name, idempotency_key=row.idempotency_key or "",
        state=TaskState(row.state), percent=row.percent, current_date=row.reached_date,
        attempts=row.attempts, error=row.error, started_at=row.started_at, finished_at=row.finished_at,
        fingerprint=row.fingerprint, rules_version=row.rules_version,
        metrics={str(k): float(v) for k, v in (row.metrics or {}).items()},
    )  # fmt: skip


def _json_float(value: float) -> float | str:
    """NaN and infinities are not JSON: they are stored as their names and read back by float()."""
    return value if value == value and abs(value) != float("inf") else str(value)


def _values(record: TaskRecord) -> dict[str, Any]:
    return {
        "id": record.id, "owner_id": record.owner_id, "strategy_id": record.strategy_id,
        "strategy_name": record.strategy_name[:200], "template_name": record.template_name,
        "idempotency_key": record.idempotency_key or None, "code": record.code,
        "params_schema": dict(record.params_schema), "code_hash": record.code_hash,
        "config": config_to_json(record.config), "data_version": record.data_version,
        "state": record.state.value, "percent": record.percent, "reached_date": record.current_date,
        "attempts": record.attempts, "error": record.error, "fingerprint": record.fingerprint,
        "rules_version": record.rules_version,
        "metrics": {name: _json_float(value) for name, value in record.metrics.items()},
        "created_at": record.created_at, "started_at": record.started_at, "finished_at": record.finished_at,
    }  # fmt: skip


class SqlAlchemyTaskRepository(TaskRepository):
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, record: TaskRecord) -> None:
        try:
            async with self._s.begin_nested():
                await self._s.execute(t.tasks.insert().values(**_values(record)))
        except IntegrityError as exc:
            if record.idempotency_key:
                raise DuplicateIdempotencyKey(record.idempotency_key) from exc
            raise

    async def get(self, task_id: str, *, for_update: bool = False) -> TaskRecord | None:
        query = select(t.tasks).where(_c.id == task_id)
        if for_update:
            query = query.with_for_update()
        row = (await self._s.execute(query)).first()
        return None if row is None else _record(row)

    async def save(self, record: TaskRecord) -> None:
        values = _values(record)
        del values["id"]
        await self._s.execute(update(t.tasks).where(_c.id == record.id).values(**values))

    async def by_idempotency_key(self, owner_id: str, key: str) -> TaskRecord | None:
        row = (
            await self._s.execute(select(t.tasks).where(_c.owner_id == owner_id, _c.idempotency_key == key))
        ).first()
        return None if row is None else _record(row)

    async def list_page(
        self, owner_id: str | None, state: TaskState | None, after: tuple[str, str] | None, limit: int
    ) -> Sequence[TaskRecord]:
        query = select(t.tasks).order_by(_c.created_at.desc(), _c.id.desc()).limit(limit)
        if owner_id is not None:
            query = query.where(_c.owner_id == owner_id)
        if state is not None:
            query = query.where(_c.state == state.value)
        if after is not None:
            created = dt.datetime.fromisoformat(after[0])
            query = query.where(
                or_(_c.created_at < created, and_(_c.created_at == created, _c.id < after[1]))
            )
        return [_record(row) for row in await self._s.execute(query)]

    async def unfinished(self) -> Sequence[TaskRecord]:
        query = select(t.tasks).where(_c.state.in_(_UNFINISHED)).order_by(_c.created_at)
        return [_record(row) for row in await self._s.execute(query)]

    async def list_owned(self, owner_id: str) -> Sequence[TaskRecord]:
        query = select(t.tasks).where(_c.owner_id == owner_id).order_by(_c.id)
        return [_record(row) for row in await self._s.execute(query)]

    async def delete(self, task_id: str) -> None:
        await self._s.execute(delete(t.tasks).where(_c.id == task_id))
