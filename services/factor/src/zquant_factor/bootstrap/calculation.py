"""calculation area wiring: FactorCalculationService (jobs, reads, ComputeIndicators, analysis), the job queue
and its worker loop (started once the unfinished jobs are queued again), the worker processes, the marketdata
channel, and the consumers (user deleted, sync completed, factor calculated).

Stop order (the reverse of the hooks added here): the job loop is cancelled first, then the queue closes, then
the worker processes and the marketdata channel, so no handler runs on a closed pool or channel.
"""

from __future__ import annotations

from dataclasses import dataclass

from zquant.factor.v1 import calculation_pb2_grpc
from zquant_factor.adapters.grpc.calculation_servicer import FactorCalculationServicer
from zquant_factor.adapters.marketdata_client import GrpcMarketDataReader
from zquant_factor.adapters.sqlalchemy.calculation_repository import (
    SqlAlchemyCalculationUnitOfWork,
    SqlAlchemyStalenessUnitOfWork,
    map_calculations,
)
from zquant_factor.application import calculation_compute
from zquant_factor.application.analysis_use_case import FactorAnalysisUseCase
from zquant_factor.application.calculation_events import FACTOR_CALCULATED
from zquant_factor.application.calculation_jobs import JOB_KIND, CalculationJobs
from zquant_factor.application.calculation_queries import USER_JOBS_CONSUMER, CalculationQueries
from zquant_factor.application.calculation_recovery import CalculationRecovery
from zquant_factor.application.calculation_run import FactorCalculation
from zquant_factor.application.definitions import USER_DELETED
from zquant_factor.application.panel_reads import PanelReads
from zquant_factor.application.staleness import (
    CALCULATED_CONSUMER,
    STALENESS_CONSUMER,
    SYNC_COMPLETED,
    Staleness,
)
from zquant_factor.bootstrap.config import NAME, FactorConfig
from zquant_factor.bootstrap.definitions import DefinitionComponents
from zquant_factor.bootstrap.values import ValueComponents
from zquant_factor.domain.analysis import analyse
from zquant_kit.clock import Clock
from zquant_kit.grpc.delegation_client import IdentityOwnerTokens
from zquant_kit.grpc.server import GrpcService
from zquant_kit.grpc.wiring import service_channel
from zquant_kit.infrastructure import Infrastructure
from zquant_kit.jobs import JobQueue
from zquant_kit.jobs.background import QueueLoops, run_with_service
from zquant_kit.workers import WorkerProcesses

WORKER_MODULES = [calculation_compute.__name__, analyse.__name__]
"""What the worker processes preload: the calculators and expressions, and the analysis. Each worker then runs
`calculation_compute.warm_up` as it starts, loading the compiled kernels before its first job."""


@dataclass
class CalculationComponents:
    queue: JobQueue
    jobs: CalculationJobs
    queries: CalculationQueries
    staleness: Staleness
    recovery: CalculationRecovery


def _serve_in_background(
    infra: Infrastructure,
    queue: JobQueue,
    jobs: CalculationJobs,
    recovery: CalculationRecovery,
    concurrency: int,
) -> None:
    async def started(loops: QueueLoops) -> None:
        await recovery.resubmit_unfinished()
        loops.start(queue.serve(JOB_KIND, jobs.handle, concurrency=concurrency), "factor-calculation-jobs")

    run_with_service(infra, queue, started)


def wire(
    infra: Infrastructure,
    config: FactorConfig,
    clock: Clock,
    stores: ValueComponents,
    definitions: DefinitionComponents,
    services: list[GrpcService],
) -> CalculationComponents:
    map_calculations()
    market = GrpcMarketDataReader(
        service_channel(infra, config.marketdata_address), config.kit.service_secret
    )
    pool = WorkerProcesses(config.workers, WORKER_MODULES, warm_up=calculation_compute.warm_up)
    infra.on_stop(pool.close)
    queue = config.jobs.queue()

    calculation_uow = infra.units_of_work(SqlAlchemyCalculationUnitOfWork)
    staleness_uow = infra.units_of_work(SqlAlchemyStalenessUnitOfWork)
    calculation = FactorCalculation(market, stores.values, stores.states, pool)
    owner_tokens = IdentityOwnerTokens(
        service_channel(infra, config.kit.identity_address), config.kit.service_secret, NAME
    )
    jobs = CalculationJobs(
        calculation_uow, definitions.unit_of_work, queue, market, calculation, owner_tokens, clock
    )
    queries = CalculationQueries(calculation_uow, queue, clock)
    staleness = Staleness(staleness_uow, definitions.unit_of_work, stores.values, jobs, config.auto_update)
    services.append(
        GrpcService(
            "zquant.factor.v1.FactorCalculationService",
            FactorCalculationServicer(
                jobs,
                queries,
                PanelReads(definitions.unit_of_work, market, stores.values, pool),
                FactorAnalysisUseCase(definitions.unit_of_work, market, stores.values, pool),
                queue,
            ),
            calculation_pb2_grpc.add_FactorCalculationServiceServicer_to_server,
        )
    )
    recovery = CalculationRecovery(calculation_uow, queue)
    _serve_in_background(infra, queue, jobs, recovery, config.jobs.concurrency)
    infra.subscribe(USER_JOBS_CONSUMER, USER_DELETED, queries.on_user_deleted)
    infra.subscribe(STALENESS_CONSUMER, SYNC_COMPLETED, staleness.on_sync_completed)
    infra.subscribe(CALCULATED_CONSUMER, FACTOR_CALCULATED, staleness.on_calculated)
    return CalculationComponents(queue, jobs, queries, staleness, recovery)
