"""gRPC inbound adapter of BacktestService: proto ↔ the submit, task, result and report use cases."""

from __future__ import annotations

from zquant.backtest.v1 import backtest_pb2 as pb
from zquant.backtest.v1 import backtest_pb2_grpc
from zquant_backtest.adapters.grpc import result_messages, task_messages
from zquant_backtest.application.submission import JOB_KIND, BacktestSubmission
from zquant_backtest.application.task_queries import TaskQueries
from zquant_backtest.application.task_results import TaskResults
from zquant_kit import principal
from zquant_kit.grpc.job_watch import watch_jobs
from zquant_kit.jobs import JobQueue

REPORT_CHUNK_BYTES = 1 << 20
WATCH_POLL_SECONDS = 2.0
"""How often a watch re-reads the record when no update came (a verdict another process recorded)."""


class BacktestServicer(backtest_pb2_grpc.BacktestServiceServicer):
    def __init__(
        self, submission: BacktestSubmission, queries: TaskQueries, results: TaskResults, queue: JobQueue
    ) -> None:
        self._submission = submission
        self._queries = queries
        self._results = results
        self._queue = queue

    async def SubmitBacktest(self, request, context):
        record = await self._submission.submit(principal.current(), task_messages.submit_request(request))
        return pb.SubmitBacktestResponse(task=task_messages.task(record))

    async def GetBacktest(self, request, context):
        record = await self._queries.get(principal.current(), request.task_id)
        return pb.GetBacktestResponse(task=task_messages.task(record))

    async def ListBacktests(self, request, context):
        state = task_messages.STATE_FILTERS[request.state]
        page, token = await self._queries.list(
            principal.current(), request.page_size, request.page_token, state
        )
        return pb.ListBacktestsResponse(
            tasks=[task_messages.task(r) for r in page.items], next_page_token=token
        )

    async def CancelBacktest(self, request, context):
        record = await self._queries.cancel(principal.current(), request.task_id)
        return pb.CancelBacktestResponse(task=task_messages.task(record))

    async def DeleteBacktest(self, request, context):
        await self._queries.delete(principal.current(), request.task_id)
        return pb.DeleteBacktestResponse()

    async def WatchBacktest(self, request, context):
        actor = principal.current()
        record = await self._queries.get(actor, request.task_id)
        async with watch_jobs(self._queue, JOB_KIND) as updates:
            record = await self._queries.get(actor, record.id)
            yield task_messages.watch_message(record)
            while not record.state.final:
                try:
                    update = await updates.next_of(record.id, WATCH_POLL_SECONDS)
                except TimeoutError:
                    update = None
                if update is not None and not update.state.final and update.percent is not None:
                    yield task_messages.progress_message(record.id, update, update.percent)
                    continue
                latest = await self._queries.get(actor, record.id)
                if latest.state is not record.state or latest.state.final:
                    yield task_messages.watch_message(latest)
                record = latest

    async def GetBacktestResult(self, request, context):
        record, stored = await self._results.result(principal.current(), request.task_id)
        return result_messages.result(record.id, stored, record.metrics, request.row_offset, request.max_rows)

    async def CompareRuns(self, request, context):
        found = await self._results.compare(
            principal.current(), request.first_task_id, request.second_task_id
        )
        return result_messages.comparison(found)

    async def GetBacktestReport(self, request, context):
        file_name, html = await self._results.report(principal.current(), request.task_id)
        data = html.encode()
        for start in range(0, max(len(data), 1), REPORT_CHUNK_BYTES):
            yield pb.GetBacktestReportResponse(
                file_name=file_name if start == 0 else "", html_chunk=data[start : start + REPORT_CHUNK_BYTES]
            )
