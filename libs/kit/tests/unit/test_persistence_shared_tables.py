"""The column groups and the deleted-users tombstones that the services' schemas share."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import MetaData, Table

from zquant_kit.persistence.columns import idempotency_key_columns, job_times, timestamps
from zquant_kit.persistence.engine import create_engine, session_factory
from zquant_kit.persistence.tombstones import DeletedUserRows, deleted_users_table

_AT = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def test_an_idempotency_key_table_is_keyed_by_caller_and_key_with_required_timestamps():
    table = Table("keys", MetaData(), *idempotency_key_columns("owner_id"), *timestamps())
    assert [c.name for c in table.primary_key] == ["owner_id", "idempotency_key"]
    assert [(c.name, c.nullable) for c in table.columns if not c.primary_key] == [
        ("created_at", False),
        ("updated_at", False),
    ]


def test_a_job_is_created_before_it_starts_or_ends():
    table = Table("jobs", MetaData(), *job_times())
    assert [(c.name, c.nullable) for c in table.columns] == [
        ("created_at", False),
        ("started_at", True),
        ("finished_at", True),
    ]


async def test_a_deleted_user_is_marked_once_and_found(tmp_path):
    metadata = MetaData()
    table = deleted_users_table(metadata)
    engine = create_engine(f"sqlite:///{tmp_path}/t.db", "s")
    try:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        async with session_factory(engine)() as session, session.begin():
            rows = DeletedUserRows(session, table)
            assert not await rows.contains("u1")
            await rows.mark("u1", _AT)
            await rows.mark("u1", _AT + dt.timedelta(days=1))  # a replayed event keeps the first time
            assert await rows.contains("u1")
            assert not await rows.contains("u2")
            kept = (await session.execute(table.select())).all()
        assert [row.user_id for row in kept] == ["u1"]
        assert kept[0].deleted_at.replace(tzinfo=dt.UTC) == _AT
    finally:
        await engine.dispose()
