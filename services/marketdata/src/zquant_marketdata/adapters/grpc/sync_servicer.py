"""gRPC inbound adapter of SyncService: proto <-> sync, validation and source-config use cases.

Every RPC calls `principal.require` first. StartSync streams progress of a run that lives in
a background task: a client that disconnects stops watching, not the run.
"""

from __future__ import annotations

import datetime as dt
from functools import partial

from zquant.marketdata.v1 import sync_pb2, sync_pb2_grpc
from zquant_kit import principal
from zquant_kit.grpc.convert import same_named, to_timestamp
from zquant_kit.pagination import Cursor
from zquant_marketdata.application.source_config import SourceConfigUseCases
from zquant_marketdata.application.sync import SyncUseCases
from zquant_marketdata.application.sync_ports import LogCursor, StatisticCursor
from zquant_marketdata.application.validate import ValidationRequest
from zquant_marketdata.application.validation_replay import RepeatableValidation
from zquant_marketdata.domain.sync import SyncLogEntry, SyncMode, SyncProgress, TableStatistic, fmt_date

SERVICE_NAME = "zquant.marketdata.v1.SyncService"

_MODES = {
    sync_pb2.SYNC_MODE_UNSPECIFIED: SyncMode.INCREMENTAL,
    sync_pb2.SYNC_MODE_INCREMENTAL: SyncMode.INCREMENTAL,
    sync_pb2.SYNC_MODE_FULL: SyncMode.FULL,
}


# The message fields that take the domain attribute of the same name as it is.
_COUNTS = ("rows_fetched", "inserted", "updated", "unchanged")
_PROGRESS_AS_IS = ("run_id", "dataset", "percent", "current_date", "error", *_COUNTS)
_LOG_AS_IS = ("id", "run_id", "dataset", "api_name", "deleted", "duration_seconds", *_COUNTS)
_STATISTIC_AS_IS = ("dataset", "total_rows", "rows_on_date", "inserted", "updated")


def progress_message(progress: SyncProgress) -> sync_pb2.SyncProgress:
    return sync_pb2.SyncProgress(**same_named(progress, *_PROGRESS_AS_IS), state=progress.state.value)


def _log(entry: SyncLogEntry) -> sync_pb2.SyncLog:
    return sync_pb2.SyncLog(
        **same_named(entry, *_LOG_AS_IS),
        start_date=fmt_date(entry.start),
        end_date=fmt_date(entry.end),
        result=entry.result.value,
        error=entry.error or "",
        start_time=to_timestamp(entry.started_at),
        end_time=to_timestamp(entry.ended_at),
    )


def _statistic(stat: TableStatistic) -> sync_pb2.TableStatistics:
    return sync_pb2.TableStatistics(**same_named(stat, *_STATISTIC_AS_IS), stat_date=fmt_date(stat.stat_date))


LOGS: Cursor[SyncLogEntry, LogCursor] = Cursor(
    "sync_logs",
    2,
    key=lambda entry: (entry.started_at.isoformat(), entry.id),
    parse=lambda key: LogCursor(dt.datetime.fromisoformat(key[0]), key[1]),
)
STATISTICS: Cursor[TableStatistic, StatisticCursor] = Cursor(
    "table_statistics",
    2,
    key=lambda stat: (stat.dataset, stat.stat_date.isoformat()),
    parse=lambda key: StatisticCursor(key[0], dt.date.fromisoformat(key[1])),
)


class SyncServicer(sync_pb2_grpc.SyncServiceServicer):
    def __init__(self, sync: SyncUseCases, validate: RepeatableValidation, config: SourceConfigUseCases) -> None:
        self._sync = sync
        self._validate = validate
        self._config = config

    async def StartSync(self, request, context):
        caller = principal.require("data:sync")
        handle = await self._sync.start(
            caller.user_id, list(request.datasets), _MODES.get(request.mode, SyncMode.INCREMENTAL),
            request.start_date, request.end_date, idempotency_key=request.idempotency_key,
        )  # fmt: skip
        async for progress in handle.watch():
            yield sync_pb2.StartSyncResponse(progress=progress_message(progress))

    async def CancelSync(self, request, context):
        principal.require("data:sync")
        await self._sync.cancel(request.run_id)
        return sync_pb2.CancelSyncResponse()

    async def GetSyncStatus(self, request, context):
        principal.require("data:read")
        statuses, running = await self._sync.status()
        return sync_pb2.GetSyncStatusResponse(
            datasets=[
                sync_pb2.DatasetStatus(
                    dataset=s.dataset,
                    last_trade_date=fmt_date(s.last_trade_date),
                    last_run_state=s.last_run_state,
                    last_run_time=to_timestamp(s.last_run_time),
                )
                for s in statuses
            ],
            running=[progress_message(p) for p in running],
        )

    async def ListSyncLogs(self, request, context):
        principal.require("data:read")
        logs, token = await LOGS.page(request, partial(self._sync.list_logs, request.dataset))
        return sync_pb2.ListSyncLogsResponse(logs=[_log(e) for e in logs], next_page_token=token)

    async def GetTableStatistics(self, request, context):
        principal.require("data:read")
        statistics, token = await STATISTICS.page(request, partial(self._sync.statistics, request.dataset))
        return sync_pb2.GetTableStatisticsResponse(
            statistics=[_statistic(s) for s in statistics], next_page_token=token
        )

    async def ValidateData(self, request, context):
        caller = principal.require("data:read")
        if request.compare_with_source:
            principal.require("data:sync")  # it spends the installation's shared source quota
        report = await self._validate.validate(
            caller.user_id,
            request.idempotency_key,
            ValidationRequest(
                request.dataset,
                request.start_date,
                request.end_date,
                list(request.ts_codes),
                request.compare_with_source,
                use_source=caller.has("data:sync"),
            ),
        )
        return sync_pb2.ValidateDataResponse(
            rows_checked=report.rows_checked,
            issues=[
                sync_pb2.DataIssue(kind=i.kind, ts_code=i.ts_code, trade_date=fmt_date(i.trade_date), detail=i.detail)
                for i in report.issues
            ],
        )

    async def SetSourceConfig(self, request, context):
        principal.require("data:sync")
        token_set = await self._config.set(request.tushare_token, request.base_url, request.calls_per_minute)
        return sync_pb2.SetSourceConfigResponse(token_set=token_set)

    async def GetSourceConfig(self, request, context):
        principal.require("data:sync")
        config = await self._config.get()
        return sync_pb2.GetSourceConfigResponse(
            token_set=config.token_set, base_url=config.base_url, calls_per_minute=config.calls_per_minute
        )
