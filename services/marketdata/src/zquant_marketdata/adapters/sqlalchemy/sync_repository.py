"""SQLAlchemy Core adapter of the sync bookkeeping: runs, leases, checkpoints, logs and per-date
statistics; with the reference tables and the source configuration, every sync port on one engine.

Works on PostgreSQL and SQLite alike (the engine translates the schema away on SQLite).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from zquant_kit.clock import as_utc
from zquant_kit.persistence.outbox import outbox_row
from zquant_kit.persistence.statements import affected_rows
from zquant_kit.persistence.upsert import insert_or_ignore, upsert
from zquant_marketdata.adapters.sqlalchemy import tables
from zquant_marketdata.adapters.sqlalchemy.bar_tables import BAR_TABLES
from zquant_marketdata.adapters.sqlalchemy.record_repository import SqlAlchemyRecordRepository
from zquant_marketdata.adapters.sqlalchemy.reference_repository import SqlAlchemyReferenceRepository
from zquant_marketdata.adapters.sqlalchemy.rule_tables import RECORD_TABLES
from zquant_marketdata.adapters.sqlalchemy.source_config_repository import SqlAlchemySourceConfigRepository
from zquant_marketdata.adapters.sync_events import completed_event
from zquant_marketdata.application.sync_ports import (
    LastResult,
    LogCursor,
    StatisticCursor,
    SyncRepository,
)
from zquant_marketdata.domain.sync import (
    LogResult,
    RunState,
    SyncCompleted,
    SyncLogEntry,
    SyncMode,
    SyncRun,
    TableStatistic,
)


class SqlAlchemySyncRepository(
    SqlAlchemyReferenceRepository,
    SqlAlchemyRecordRepository,
    SqlAlchemySourceConfigRepository,
    SyncRepository,
):
    """Every sync port on one engine; the reference tables and the source configuration live in their own adapters."""

    def __init__(
        self, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], wake_outbox: Callable[[], None] | None = None
    ) -> None:
        """`wake_outbox`: the outbox relay's wake-up, called after a run's completion event is committed."""
        super().__init__(engine, sessions)
        self._wake_outbox = wake_outbox

    async def count_rows(self, dataset: str) -> int:
        table = {**BAR_TABLES, **RECORD_TABLES}.get(dataset)
        if table is None:
            table = getattr(tables, dataset)
        async with self._sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(table)) or 0)

    # --- runs -----------------------------------------------------------------------------------

    async def create_run(self, run: SyncRun, idempotency_key: str = "") -> str:
        async with self._sessions() as session:
            if idempotency_key:
                bound = await _bind_key(session, run, idempotency_key)
                if bound != run.id:
                    return bound  # the key's run exists: nothing recorded (the session rolls back)
            await session.execute(
                tables.sync_runs.insert().values(
                    id=run.id,
                    requested_by=run.requested_by,
                    datasets=",".join(run.datasets),
                    mode=run.mode.value,
                    start_date=run.start,
                    end_date=run.end,
                    state=run.state.value,
                    error=run.error,
                    created_at=run.created_at,
                    finished_at=run.finished_at,
                )
            )
            await session.commit()
        return run.id

    async def run_for_key(self, requested_by: str, idempotency_key: str) -> SyncRun | None:
        keys, runs = tables.sync_run_keys, tables.sync_runs
        query = select(runs).join(keys, keys.c.run_id == runs.c.id).where(
            keys.c.requested_by == requested_by, keys.c.idempotency_key == idempotency_key
        )
        async with self._sessions() as session:
            row = (await session.execute(query)).first()
        return None if row is None else _run(row)

    async def finish_run(
        self,
        run_id: str,
        state: RunState,
        error: str | None,
        finished_at: dt.datetime,
        completed: SyncCompleted | None = None,
    ) -> None:
        t = tables.sync_runs
        async with self._sessions() as session:
            await session.execute(
                t.update().where(t.c.id == run_id).values(state=state.value, error=error, finished_at=finished_at)
            )
            if completed is not None:
                await session.execute(tables.outbox.insert().values(outbox_row(completed_event(completed))))
            await session.commit()
        if completed is not None and self._wake_outbox is not None:
            self._wake_outbox()

    async def get_run(self, run_id: str) -> SyncRun | None:
        t = tables.sync_runs
        async with self._sessions() as session:
            row = (await session.execute(select(t).where(t.c.id == run_id))).first()
        return None if row is None else _run(row)

    async def fail_stale_runs(self, now: dt.datetime, reason: str) -> int:
        """Runs left `running` by a process that died: no live lease, so nothing is executing them.
        Looks before it writes, so the periodic sweep takes no write lock while nothing is stale."""
        t, leases = tables.sync_runs, tables.sync_leases
        alive = select(leases.c.run_id).where(leases.c.expires_at > now)
        stale = select(t.c.id).where(t.c.state == RunState.RUNNING.value, t.c.id.not_in(alive))
        lapsed = select(leases.c.dataset).where(leases.c.expires_at <= now)
        async with self._sessions() as session:
            if (await session.execute(stale.union_all(lapsed).limit(1))).first() is None:
                return 0
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                t.update()
                .where(t.c.state == RunState.RUNNING.value, t.c.id.not_in(alive))
                .values(state=RunState.FAILED.value, error=reason, finished_at=now)
            )
            await session.execute(leases.delete().where(leases.c.expires_at <= now))
            return affected_rows(result)

    async def leased_runs(self, now: dt.datetime) -> list[SyncRun]:
        t, leases = tables.sync_runs, tables.sync_leases
        alive = select(leases.c.run_id).where(leases.c.expires_at > now)
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(t).where(t.c.state == RunState.RUNNING.value, t.c.id.in_(alive)).order_by(t.c.created_at)
                )
            ).all()
        return [_run(row) for row in rows]

    async def acquire_leases(
        self, run_id: str, datasets: Sequence[str], now: dt.datetime, ttl: dt.timedelta
    ) -> str | None:
        leases = tables.sync_leases
        async with self._sessions() as session, session.begin():
            held = (
                await session.execute(
                    select(leases.c.dataset, leases.c.run_id, leases.c.expires_at)
                    .where(leases.c.dataset.in_(list(datasets)))
                    .with_for_update()
                )
            ).all()
            for _, holder, expires_at in held:
                if as_utc(expires_at) > now and holder != run_id:
                    return holder
            await session.execute(leases.delete().where(leases.c.dataset.in_(list(datasets))))
            try:
                await session.execute(
                    leases.insert(),
                    [{"dataset": name, "run_id": run_id, "expires_at": now + ttl} for name in datasets],
                )
            except IntegrityError:  # a replica leased a dataset nobody held, at this very moment
                return "a concurrent run"
        return None

    async def renew_leases(self, run_id: str, now: dt.datetime, ttl: dt.timedelta) -> None:
        leases = tables.sync_leases
        async with self._sessions() as session, session.begin():
            await session.execute(leases.update().where(leases.c.run_id == run_id).values(expires_at=now + ttl))

    async def release_leases(self, run_id: str) -> None:
        leases = tables.sync_leases
        async with self._sessions() as session, session.begin():
            await session.execute(leases.delete().where(leases.c.run_id == run_id))

    # --- checkpoints ----------------------------------------------------------------------------

    async def checkpoints(self) -> dict[str, dt.date]:
        t = tables.sync_checkpoints
        async with self._sessions() as session:
            return {row.dataset: row.last_trade_date for row in (await session.execute(select(t))).all()}

    async def advance_checkpoint(self, dataset: str, day: dt.date, run_id: str, now: dt.datetime) -> None:
        """Moves the checkpoint forward to `day`; never back (a full re-sync of old years keeps it)."""
        t = tables.sync_checkpoints
        statement = upsert(
            self._dialect,
            t,
            ["dataset"],
            ["last_trade_date", "run_id", "updated_at"],
            values={"dataset": dataset, "last_trade_date": day, "run_id": run_id, "updated_at": now},
            where=lambda new: t.c.last_trade_date < new.last_trade_date,
        )
        async with self._sessions() as session:
            await session.execute(statement)
            await session.commit()

    # --- logs -----------------------------------------------------------------------------------

    async def add_log(self, entry: SyncLogEntry) -> None:
        async with self._sessions() as session:
            await session.execute(
                tables.sync_logs.insert().values(
                    id=entry.id,
                    run_id=entry.run_id,
                    dataset=entry.dataset,
                    api_name=entry.api_name,
                    start_date=entry.start,
                    end_date=entry.end,
                    rows_fetched=entry.rows_fetched,
                    inserted=entry.inserted,
                    updated=entry.updated,
                    deleted=entry.deleted,
                    unchanged=entry.unchanged,
                    result=entry.result.value,
                    error=entry.error,
                    started_at=entry.started_at,
                    ended_at=entry.ended_at or entry.started_at,
                    duration_seconds=entry.duration_seconds,
                )
            )
            await session.commit()

    async def list_logs(
        self, dataset: str | None, after: LogCursor | None, limit: int, run_id: str | None = None
    ) -> list[SyncLogEntry]:
        """Newest first, keyset-paginated on (started_at, id)."""
        t = tables.sync_logs
        query = select(t)
        if dataset:
            query = query.where(t.c.dataset == dataset)
        if run_id:
            query = query.where(t.c.run_id == run_id)
        if after is not None:
            started, log_id = after.started_at, after.id
            query = query.where(or_(t.c.started_at < started, and_(t.c.started_at == started, t.c.id < log_id)))
        query = query.order_by(t.c.started_at.desc(), t.c.id.desc()).limit(limit)
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        return [
            SyncLogEntry(
                id=row.id,
                run_id=row.run_id,
                dataset=row.dataset,
                api_name=row.api_name,
                start=row.start_date,
                end=row.end_date,
                started_at=as_utc(row.started_at),
                ended_at=as_utc(row.ended_at),
                rows_fetched=row.rows_fetched,
                inserted=row.inserted,
                updated=row.updated,
                deleted=row.deleted,
                unchanged=row.unchanged,
                result=LogResult(row.result),
                error=row.error,
            )
            for row in rows
        ]

    async def last_results(self) -> dict[str, LastResult]:
        """Per dataset: the result and end time of its newest log row."""
        t = tables.sync_logs
        newest = (
            select(t.c.dataset, func.max(t.c.started_at).label("started_at")).group_by(t.c.dataset).subquery()
        )
        query = select(t.c.dataset, t.c.result, t.c.ended_at, t.c.started_at).join(
            newest, and_(t.c.dataset == newest.c.dataset, t.c.started_at == newest.c.started_at)
        )
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        return {row.dataset: LastResult(row.result, as_utc(row.ended_at)) for row in rows}

    # --- statistics -----------------------------------------------------------------------------

    async def upsert_statistics(self, stats: Sequence[TableStatistic]) -> None:
        if not stats:
            return
        t = tables.table_statistics
        rows = [
            {
                "dataset": s.dataset,
                "stat_date": s.stat_date,
                "total_rows": s.total_rows,
                "rows_on_date": s.rows_on_date,
                "inserted": s.inserted,
                "updated": s.updated,
            }
            for s in stats
        ]
        statement = upsert(
            self._dialect, t, ["dataset", "stat_date"], ["total_rows", "rows_on_date", "inserted", "updated"]
        )
        async with self._sessions() as session:
            await session.execute(statement, rows)
            await session.commit()

    async def list_statistics(
        self, dataset: str | None, after: StatisticCursor | None, limit: int
    ) -> list[TableStatistic]:
        """Ordered by dataset, newest date first; keyset on (dataset, stat_date)."""
        t = tables.table_statistics
        query = select(t)
        if dataset:
            query = query.where(t.c.dataset == dataset)
        if after is not None:
            name, day = after.dataset, after.stat_date
            query = query.where(or_(t.c.dataset > name, and_(t.c.dataset == name, t.c.stat_date < day)))
        query = query.order_by(t.c.dataset, t.c.stat_date.desc()).limit(limit)
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        return [
            TableStatistic(row.dataset, row.stat_date, row.total_rows, row.rows_on_date, row.inserted, row.updated)
            for row in rows
        ]



async def _bind_key(session: AsyncSession, run: SyncRun, key: str) -> str:
    """Insert-or-ignore of (requester, key) → run, then the run the key is bound to (this one, or an earlier)."""
    keys = tables.sync_run_keys
    values = {"requested_by": run.requested_by, "idempotency_key": key, "run_id": run.id, "created_at": run.created_at}
    await session.execute(insert_or_ignore(session, keys, **values))
    bound = select(keys.c.run_id).where(keys.c.requested_by == run.requested_by, keys.c.idempotency_key == key)
    return str((await session.execute(bound)).scalar_one())


def _run(row) -> SyncRun:
    return SyncRun(
        id=row.id,
        requested_by=row.requested_by,
        datasets=tuple(filter(None, row.datasets.split(","))),
        mode=SyncMode(row.mode),
        start=row.start_date,
        end=row.end_date,
        state=RunState(row.state),
        created_at=as_utc(row.created_at),
        error=row.error,
        finished_at=as_utc(row.finished_at),
    )
