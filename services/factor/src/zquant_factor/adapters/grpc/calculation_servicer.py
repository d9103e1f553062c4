"""gRPC inbound adapter of FactorCalculationService: proto ↔ the calculation, read and analysis use cases.

Every RPC re-checks its permission through the use case (`factor:read`, `factor:calculate`). Panels are
streamed in the kit's panel codec (codes × dates on the wire; the use cases hold dates × codes).
"""

from __future__ import annotations

from zquant.factor.v1 import calculation_pb2 as pb
from zquant.factor.v1 import calculation_pb2_grpc
from zquant_factor.adapters.grpc import calculation_messages as msg
from zquant_factor.application.analysis_use_case import AnalysisAsk, FactorAnalysisUseCase
from zquant_factor.application.calculation_jobs import JOB_KIND, CalculationJobs, CalculationRequest
from zquant_factor.application.calculation_queries import CalculationQueries
from zquant_factor.application.panel_reads import IndicatorAsk, PanelReads, ValuePanel
from zquant_kit import principal
from zquant_kit.grpc.job_watch import watch_jobs
from zquant_kit.grpc.panel_codec import encode_panel_responses
from zquant_kit.jobs import JobQueue

DEFAULT_HORIZONS = (1, 5, 10, 20)
CODES_PER_CHUNK = 500
PROGRESS_TIMEOUT_SECONDS = 3600.0


def _stream(response: type, panel: ValuePanel, requested: int):
    wire = {name: values.T for name, values in panel.fields.items()}
    per_chunk = requested or CODES_PER_CHUNK
    return encode_panel_responses(response, panel.codes, panel.dates, list(wire), wire, per_chunk)


class FactorCalculationServicer(calculation_pb2_grpc.FactorCalculationServiceServicer):
    def __init__(
        self,
        jobs: CalculationJobs,
        queries: CalculationQueries,
        reads: PanelReads,
        analysis: FactorAnalysisUseCase,
        queue: JobQueue,
    ) -> None:
        self._jobs = jobs
        self._queries = queries
        self._reads = reads
        self._analysis = analysis
        self._queue = queue

    async def CalculateFactors(self, request, context):
        actor = principal.current()
        start, end = msg.day_range(request)
        job = CalculationRequest(
            factor_ids=list(request.factor_ids),
            codes=list(request.ts_codes),
            start=start,
            end=end,
            mode=msg.MODES[request.mode],
            idempotency_key=request.idempotency_key,
        )
        async with watch_jobs(self._queue, JOB_KIND) as updates:
            record = await self._jobs.submit(actor, job)
            if record.state.final:  # a repeated idempotency key of a job that already ended
                yield msg.outcome(record)
                return
            yield pb.CalculateFactorsResponse(job_id=record.id, state=record.state.value, message="queued")
            while True:
                update = await updates.next_of(record.id, PROGRESS_TIMEOUT_SECONDS)
                # The last message is the record's outcome: a job cancelled before it ran ends "succeeded" in the queue.
                if update.state.final:
                    yield msg.outcome(await self._queries.get(actor, record.id))
                    return
                yield msg.progress(record.id, update)

    async def GetCalculation(self, request, context):
        record = await self._queries.get(principal.current(), request.job_id)
        return pb.GetCalculationResponse(calculation=msg.calculation(record))

    async def ListCalculations(self, request, context):
        page, token = await self._queries.list(principal.current(), request.page_size, request.page_token)
        return pb.ListCalculationsResponse(
            calculations=[msg.calculation(record) for record in page.items], next_page_token=token
        )

    async def CancelCalculation(self, request, context):
        record = await self._queries.cancel(principal.current(), request.job_id)
        return pb.CancelCalculationResponse(calculation=msg.calculation(record))

    async def GetFactorValues(self, request, context):
        panel = await self._reads.factor_values(
            principal.current(),
            request.factor_id,
            list(request.ts_codes),
            msg.day_range(request),
            msg.ADJUSTS[request.adjust],
            msg.caller_credentials(context),
        )
        for response in _stream(pb.GetFactorValuesResponse, panel, request.codes_per_chunk):
            yield response

    async def ComputeIndicators(self, request, context):
        asks = [
            IndicatorAsk(item.indicator, {param.name: param.value for param in item.params})
            for item in request.indicators
        ]
        panel = await self._reads.compute_indicators(
            principal.current(),
            list(request.ts_codes),
            msg.day_range(request),
            asks,
            msg.ADJUSTS[request.adjust],
            msg.caller_credentials(context),
        )
        for response in _stream(pb.ComputeIndicatorsResponse, panel, request.codes_per_chunk):
            yield response

    async def AnalyzeFactor(self, request, context):
        start, end = msg.day_range(request)
        ask = AnalysisAsk(
            factor_id=request.factor_id,
            column=request.column,
            codes=list(request.ts_codes),
            start=start,
            end=end,
            horizons=tuple(request.horizons) or DEFAULT_HORIZONS,
            quantiles=request.quantiles or 5,
            winsorise=request.winsorise,
            zscore=request.zscore,
            industry_neutral=request.industry_neutral,
        )
        result = await self._analysis.analyse(principal.current(), ask, msg.caller_credentials(context))
        return msg.analysis_response(result.analysis, len(result.codes), int(result.dates.size))
