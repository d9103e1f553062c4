"""A succeeded task's result, the comparison of two, and the HTML report (rendered once, then cached)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from zquant_backtest.application.access import visible
from zquant_backtest.application.report_ports import ReportMeta, ReportRenderer
from zquant_backtest.application.run_config_json import settings_of
from zquant_backtest.application.task_ports import TaskRecord
from zquant_backtest.application.task_queries import READ
from zquant_backtest.application.unit_of_work_ports import BacktestUnitOfWork, UnitOfWorkFactory
from zquant_backtest.domain.comparison import Difference, RunSide, compare
from zquant_backtest.domain.simulation import BacktestResult
from zquant_backtest.domain.tasks import TaskState
from zquant_kit.clock import as_utc
from zquant_kit.errors import FailedPrecondition, required
from zquant_kit.principal import Principal


@dataclass(frozen=True)
class Comparison:
    first: RunSide
    second: RunSide
    differences: list[Difference]

    @property
    def same_fingerprint(self) -> bool:
        return self.first.fingerprint == self.second.fingerprint


def side_of(record: TaskRecord) -> RunSide:
    return RunSide(
        task_id=record.id,
        code_hash=record.code_hash,
        params=dict(record.config.params),
        rules_version=record.rules_version,
        data_version=record.data_version,
        fingerprint=record.fingerprint,
        settings=settings_of(record.config),
        metrics=dict(record.metrics),
    )


async def _succeeded(uow: BacktestUnitOfWork, actor: Principal, task_id: str, field: str) -> TaskRecord:
    record = visible(await uow.tasks.get(required(task_id, field)), actor, "backtest", task_id)
    if record.state is not TaskState.SUCCEEDED:
        raise FailedPrecondition(
            f"{field}: backtest {task_id} is {record.state.value}, not succeeded",
            reason="BACKTEST_NOT_SUCCEEDED",
        )
    return record


class TaskResults:
    def __init__(self, uow: UnitOfWorkFactory, renderer: ReportRenderer) -> None:
        self._uow = uow
        self._renderer = renderer

    async def result(self, actor: Principal, task_id: str) -> tuple[TaskRecord, BacktestResult]:
        actor.require(READ)
        async with self._uow() as uow:
            record = await _succeeded(uow, actor, task_id, "task_id")
            result = await uow.results.get(record.id)
        if result is None:
            raise FailedPrecondition(
                f"backtest {task_id} has no stored result", reason="BACKTEST_RESULT_MISSING"
            )
        return record, result

    async def compare(self, actor: Principal, first_id: str, second_id: str) -> Comparison:
        actor.require(READ)
        async with self._uow() as uow:
            first = await _succeeded(uow, actor, first_id, "first_task_id")
            second = await _succeeded(uow, actor, second_id, "second_task_id")
        a, b = side_of(first), side_of(second)
        return Comparison(a, b, compare(a, b))

    async def report(self, actor: Principal, task_id: str) -> tuple[str, str]:
        """(file name, HTML). The render runs off the event loop, once per task."""
        record, result = await self.result(actor, task_id)
        async with self._uow() as uow:
            cached = await uow.reports.get(record.id)
        if cached is None:
            meta = ReportMeta(
                title=f"Backtest {record.strategy_name or record.id}",
                task_id=record.id,
                strategy_name=record.strategy_name,
                config=record.config,
                code_hash=record.code_hash,
                data_version=record.data_version,
                benchmark_name=record.config.benchmark or "",
                created_at=as_utc(record.created_at).isoformat(),
            )
            cached = await asyncio.to_thread(self._renderer.render, result, meta)
            async with self._uow() as uow:
                if await uow.tasks.get(record.id) is not None:
                    await uow.reports.put(record.id, record.owner_id, cached)
                    await uow.commit()
        return f"backtest-{record.id}.html", cached
