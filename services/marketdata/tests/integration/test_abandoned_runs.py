"""A sync run whose process died (left `running`, its lease no longer renewed) ends cleanly on SQLite and
PostgreSQL: while the lease lives every call agrees it runs; once it lapses the run is failed
("abandoned: lease expired") by whoever looks first, and StartSync is accepted at that moment."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest

from services.marketdata.tests.integration.sync_env import sync_components
from zquant_kit.errors import FailedPrecondition
from zquant_kit.testing import BACKENDS, FakeClock, backend_database, eventually
from zquant_marketdata.application.sync import ABANDONED, LEASE_TTL
from zquant_marketdata.domain.sync import RunState, SyncMode, SyncRun

pytestmark = pytest.mark.integration


@pytest.fixture(params=BACKENDS)
async def env(request, tmp_path):
    settings = {
        "ZQUANT_DATA_DIR": str(tmp_path),
        "ZQUANT_MARKETDATA_DATABASE_URL": backend_database(request, tmp_path, "marketdata", postgres="migrated_pg_database"),
        "ZQUANT_MARKETDATA_SOURCE": "sample",
        "ZQUANT_SAMPLE_STOCKS": "5",
        "ZQUANT_SAMPLE_DAYS": "30",
    }
    clock = FakeClock(dt.datetime.now(dt.UTC))
    async with sync_components(settings, clock) as (components, _engine):
        yield components, clock


async def _dead_run(components, clock: FakeClock, datasets: tuple[str, ...]) -> str:
    """What a `kill -9` leaves: a `running` run whose leases nobody renews any more."""
    run_id = str(uuid.uuid4())
    repo = components.repository
    assert await repo.acquire_leases(run_id, datasets, clock.now(), LEASE_TTL) is None
    await repo.create_run(
        SyncRun(run_id, "tester", datasets, SyncMode.INCREMENTAL, None, None, RunState.RUNNING, clock.now())
    )
    return run_id


async def test_a_dead_run_holds_its_datasets_visibly_until_its_lease_lapses(env) -> None:
    components, clock = env
    sync = components.sync
    dead = await _dead_run(components, clock, ("stock_basic", "trade_cal"))

    _, running = await sync.status()
    assert [p.run_id for p in running] == [dead]  # GetSyncStatus shows what StartSync refuses for
    with pytest.raises(FailedPrecondition) as refused:
        await sync.start("tester", ["trade_cal"], SyncMode.INCREMENTAL)
    assert refused.value.reason == "SYNC_ALREADY_RUNNING" and dead in refused.value.message
    with pytest.raises(FailedPrecondition) as elsewhere:
        await sync.cancel(dead)
    assert elsewhere.value.reason == "SYNC_RUNNING_ELSEWHERE" and "another marketdata process" in elsewhere.value.message

    clock.current += LEASE_TTL + dt.timedelta(seconds=1)
    handle = await sync.start("tester", ["trade_cal"], SyncMode.INCREMENTAL)  # accepted the moment it lapses
    abandoned = await components.repository.get_run(dead)
    assert (abandoned.state, abandoned.error) == (RunState.FAILED, ABANDONED)
    assert (await asyncio.wait_for(handle.wait(), 30)).state is RunState.SUCCEEDED
    with pytest.raises(FailedPrecondition) as ended:
        await sync.cancel(dead)
    assert ended.value.reason == "SYNC_NOT_RUNNING"
    assert ended.value.message.endswith(f"is not running: it ended failed ({ABANDONED})")


@pytest.mark.parametrize("looker", ["status", "cancel", "sweep"])
async def test_whoever_looks_first_fails_the_abandoned_run(env, looker) -> None:
    components, clock = env
    sync = components.sync
    dead = await _dead_run(components, clock, ("daily",))
    clock.current += LEASE_TTL + dt.timedelta(seconds=1)
    if looker == "status":
        _, running = await sync.status()
        assert running == []
    elif looker == "cancel":
        with pytest.raises(FailedPrecondition) as ended:
            await sync.cancel(dead)
        assert ended.value.reason == "SYNC_NOT_RUNNING"
    else:
        assert await sync.sweep() == 1
        assert await sync.sweep() == 0
    run = await components.repository.get_run(dead)
    assert (run.state, run.error) == (RunState.FAILED, ABANDONED)


async def test_the_sweeper_started_with_the_service_fails_it_without_any_call(env, monkeypatch) -> None:
    from zquant_marketdata.application import sync as sync_module

    monkeypatch.setattr(sync_module, "SWEEP_INTERVAL", dt.timedelta(milliseconds=20))
    components, clock = env
    dead = await _dead_run(components, clock, ("daily",))
    await components.sync.recover()
    await components.sync.keep_sweeping()
    assert (await components.repository.get_run(dead)).state is RunState.RUNNING  # its lease still lives
    clock.current += LEASE_TTL + dt.timedelta(seconds=1)
    await eventually(
        lambda: components.repository.get_run(dead), lambda run: run.state is RunState.FAILED, timeout=4.0, interval=0.02
    )
    assert (await components.repository.get_run(dead)).error == ABANDONED
