"""Jobs the factor service starts itself, through a real all-in-one stack: with ZQUANT_FACTOR_AUTO_UPDATE a sync
of bars brings a stored factor up to date (a system job reading marketdata with the service credential), and
jobs left queued or running by a stopped service run when it starts again on the same database."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from services.factor.tests.contract.calculation.conftest import (
    BARS,
    CalculationClient,
    calculation_settings,
    calculation_stack,
    sync_stub,
)
from services.factor.tests.contract.calculation.test_calculation_contract import macd_factor
from zquant.factor.v1 import calculation_pb2 as calc_pb
from zquant.factor.v1 import factor_pb2
from zquant.marketdata.v1 import sync_pb2
from zquant_factor.adapters.sqlalchemy import tables
from zquant_factor.adapters.sqlalchemy.calculation_repository import SqlAlchemyCalculationUnitOfWork
from zquant_factor.application.calculation_credentials import SYSTEM_OWNER
from zquant_factor.application.calculation_ports import CalculationRecord, RunMode
from zquant_kit.dates import parse_yyyymmdd
from zquant_kit.grpc.panel_codec import read_panel
from zquant_kit.jobs import JobState
from zquant_kit.testing import admin_metadata, eventually

pytestmark = pytest.mark.contract


async def _calculated(calc: CalculationClient, factor_id: str, end: str) -> None:
    request = calc_pb.CalculateFactorsRequest(factor_ids=[factor_id], start_date=calc.start, end_date=end)
    replies = [reply async for reply in calc.calculations.CalculateFactors(request, metadata=calc.researcher)]
    assert replies[-1].state == "succeeded", replies[-1]


async def _last_stored_day(calc: CalculationClient, factor_id: str) -> str:
    request = calc_pb.GetFactorValuesRequest(factor_id=factor_id, start_date=calc.start, end_date=calc.end)
    _, dates, values = await read_panel(calc.calculations.GetFactorValues(request, metadata=calc.researcher))
    stored = np.isfinite(values["macd"]).any(axis=0)
    return str(dates[stored][-1]).replace("-", "") if stored.any() else ""


def _records(app) -> SqlAlchemyCalculationUnitOfWork:
    return SqlAlchemyCalculationUnitOfWork(app.sessions, tables.outbox, app.infra.relay.wake)


async def test_a_bar_sync_brings_a_stored_factor_up_to_date_as_the_service(migrated_pg_database) -> None:
    settings = calculation_settings(migrated_pg_database, ZQUANT_FACTOR_AUTO_UPDATE="true")
    async with calculation_stack(settings, datasets=BARS) as calc:
        factor_id = await macd_factor(calc)
        middle = len(calc.days) // 2
        await _calculated(calc, factor_id, calc.days[middle])
        assert await _last_stored_day(calc, factor_id) == calc.days[middle]

        admin = await admin_metadata(calc.client.channel("identity"))
        request = sync_pb2.StartSyncRequest(
            datasets=["daily", "adj_factor"], mode=sync_pb2.SYNC_MODE_FULL,
            start_date=calc.days[middle + 1], end_date=calc.end,
        )  # fmt: skip
        replies = [r.progress async for r in sync_stub(calc.client).StartSync(request, metadata=admin)]
        assert replies[-1].state == "succeeded", replies[-1]

        async def system_jobs() -> list[CalculationRecord]:
            # Read from the records: a system job is owned by nobody, so no user's listing holds it.
            async with _records(calc.app) as uow:
                listed = await uow.calculations.list_page(None, None, 100)
            return [job for job in listed if job.owner_id == SYSTEM_OWNER]

        jobs = await eventually(system_jobs, lambda found: any(job.state.final for job in found), 20.0)
        assert [(job.state, job.error) for job in jobs] == [(JobState.SUCCEEDED, "")]
        assert jobs[0].values_written > 0 and jobs[0].mode is RunMode.INCREMENTAL
        assert (jobs[0].start, jobs[0].end) == (parse_yyyymmdd(request.start_date), parse_yyyymmdd(calc.end))
        # factor.calculated.v1 clears the mark once relayed, which may be just after the job's record is final
        staleness = calc.app.calculation.staleness
        assert await eventually(staleness.stale, lambda found: found == {}, 20.0) == {}
        assert await _last_stored_day(calc, factor_id) == calc.end


async def test_jobs_left_queued_or_running_run_when_the_service_starts_again(migrated_pg_database) -> None:
    settings = calculation_settings(migrated_pg_database)
    async with calculation_stack(settings, datasets=BARS) as calc:
        factor_id = await macd_factor(calc)
        request = factor_pb2.GetFactorDefinitionRequest(factor_id=factor_id)
        owner = (
            await calc.factors.GetFactorDefinition(request, metadata=calc.researcher)
        ).definition.owner_id
        app = calc.app
        records = [
            CalculationRecord(
                id=f"left-{state.value}",
                owner_id=owner,
                factor_ids=(factor_id,),
                codes=(),
                start=parse_yyyymmdd(calc.start),
                end=parse_yyyymmdd(calc.end),
                mode=RunMode.FULL,
                created_at=dt.datetime.now(dt.UTC),
                state=state,
                percent=percent,
                factor_names=("macd_fast",),
            )  # fmt: skip
            for state, percent in (
                (JobState.QUEUED, 0.0),
                (JobState.RUNNING, 40.0),
                (JobState.CANCELLED, 0.0),
            )
        ]
        # As a service that stopped would leave them: recorded, but in no queue of the next process.
        async with _records(app) as uow:
            for record in records:
                await uow.calculations.add(record)
            await uow.commit()

    async with calculation_stack(settings, sync=False) as restarted:

        async def states() -> dict[str, str]:
            found = {}
            for record in records:
                got = await restarted.calculations.GetCalculation(
                    calc_pb.GetCalculationRequest(job_id=record.id), metadata=restarted.researcher
                )
                found[record.id] = got.calculation.state
            return found

        final = await eventually(
            states, lambda found: found["left-running"] == "succeeded" == found["left-queued"], 20.0
        )
        assert final == {
            "left-queued": "succeeded",
            "left-running": "succeeded",
            "left-cancelled": "cancelled",
        }
        assert await _last_stored_day(restarted, factor_id) == restarted.end
