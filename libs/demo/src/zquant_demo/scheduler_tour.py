"""The demo's scheduler section, as admin over gRPC: a nightly pipeline (sync the sample market → update a factor
→ backtest a template) on a trading-day trigger, triggered now, followed to its end, and its run history with each
step's attempt. The scheduler acts for the job's owner with a token identity issues for the owner's current
rights, and sends each step's run key as the target's idempotency key."""

from __future__ import annotations

import asyncio

from zquant.backtest.v1 import backtest_pb2
from zquant.factor.v1 import calculation_pb2, factor_pb2, factor_pb2_grpc
from zquant.marketdata.v1 import sync_pb2
from zquant.scheduler.v1 import scheduler_pb2 as pb
from zquant.scheduler.v1 import scheduler_pb2_grpc
from zquant_demo.output import step
from zquant_kit.grpc.client import insecure_channel

FINAL = (pb.RUN_STATUS_SUCCEEDED, pb.RUN_STATUS_FAILED, pb.RUN_STATUS_SKIPPED, pb.RUN_STATUS_CANCELLED)


def _status(value: pb.RunStatus.ValueType) -> str:
    return pb.RunStatus.Name(value).removeprefix("RUN_STATUS_").lower()


async def _factor(factor_address: str, admin: list) -> str:
    async with insecure_channel(factor_address) as channel:
        factors = factor_pb2_grpc.FactorServiceStub(channel)
        made = await factors.CreateFactorDefinition(
            factor_pb2.CreateFactorDefinitionRequest(
                factor_name="nightly_rsi", cn_name="nightly_rsi", en_name="nightly_rsi", column_name="nightly_rsi",
                description="RSI(14), updated by the nightly pipeline", kind=factor_pb2.FACTOR_KIND_BUILTIN_INDICATOR,
            ),  # fmt: skip
            metadata=admin,
        )
        await factors.CreateFactorModel(
            factor_pb2.CreateFactorModelRequest(factor_id=made.definition.id, model_code="rsi"), metadata=admin
        )
        return made.definition.id


def _pipeline(factor_id: str, codes: list[str], start: str, end: str) -> pb.JobConfig:
    sync = pb.TargetConfig(data_sync=sync_pb2.StartSyncRequest(mode=sync_pb2.SYNC_MODE_INCREMENTAL))
    factor = pb.TargetConfig(
        factor_calculation=calculation_pb2.CalculateFactorsRequest(
            factor_ids=[factor_id], start_date=start, end_date=end, mode=calculation_pb2.CALCULATION_MODE_INCREMENTAL
        )
    )
    backtest = pb.TargetConfig(
        backtest_run=backtest_pb2.SubmitBacktestRequest(
            template_name="rsi_mean_reversion",
            config=backtest_pb2.BacktestConfig(ts_codes=codes, start_date=start, end_date=end, initial_cash=1_000_000,
                                               benchmark="000300.SH"),  # fmt: skip
        )
    )
    steps = [
        pb.PipelineStep(name="sync", target=sync),
        pb.PipelineStep(name="factors", target=factor, depends_on=["sync"]),
        pb.PipelineStep(name="backtest", target=backtest, depends_on=["factors"]),
    ]
    return pb.JobConfig(pipeline=pb.PipelineConfig(steps=steps))


async def scheduler_tour(address: str, factor_address: str, admin: list, codes: list[str], start: str,
                         end: str) -> None:  # fmt: skip
    factor_id = await _factor(factor_address, admin)
    async with insecure_channel(address) as channel:
        scheduler = scheduler_pb2_grpc.SchedulerServiceStub(channel)
        step("admin schedules a nightly pipeline: sync → factor update → backtest, trading days at 17:00 Shanghai")
        spec = pb.JobSpec(
            name="nightly-research", description="sync the market, update nightly_rsi, backtest RSI reversion",
            cron_expression="0 17 * * *", timezone="Asia/Shanghai", trading_days_only=True, enabled=True,
            config=_pipeline(factor_id, codes, start, end), max_retries=2, retry_interval_seconds=5,
            misfire_policy=pb.MISFIRE_POLICY_RUN_ONCE_LATE,
        )  # fmt: skip
        job = (await scheduler.CreateJob(pb.CreateJobRequest(job=spec), metadata=admin)).job
        print(f"    job {job.id}: next run {job.next_run_time.ToDatetime():%Y-%m-%d %H:%M} UTC (a trading day)")

        step("admin triggers it now and follows the run")
        run = (await scheduler.TriggerJob(pb.TriggerJobRequest(job_id=job.id), metadata=admin)).run
        for _ in range(1200):
            run = (await scheduler.GetRun(pb.GetRunRequest(run_id=run.id), metadata=admin)).run
            if run.status in FINAL:
                break
            await asyncio.sleep(0.25)
        history = await scheduler.ListRuns(pb.ListRunsRequest(job_id=job.id, page_size=10), metadata=admin)
        for listed in history.runs:
            print(f"    run {listed.id[:8]} {listed.trigger:<8} {_status(listed.status):<9} "
                  f"{listed.duration_seconds:6.1f} s  {listed.error}")  # fmt: skip
        for attempt in run.attempt_history:
            print(f"      {attempt.step:<9} attempt {attempt.number} {_status(attempt.status):<9} "
                  f"{attempt.duration_seconds:6.1f} s  {attempt.result_summary or attempt.error}")  # fmt: skip
        if run.status != pb.RUN_STATUS_SUCCEEDED:
            raise SystemExit(f"demo failed: the pipeline run ended {_status(run.status)}: {run.error}")
