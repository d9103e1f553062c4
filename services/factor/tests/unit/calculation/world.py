"""The calculation use cases wired to the fakes: definitions (the definition tests' world), job records, the
real-data market, values, states and the kit's in-process job queue."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field

from services.factor.tests.unit.calculation.fakes import (
    BankMarket,
    CalculationStore,
    CalculationTransaction,
    DenseValues,
    FakeOwnerTokens,
    InlinePool,
    MemoryStates,
)
from services.factor.tests.unit.definitions.conftest import NOW, World
from zquant_factor.application.calculation_jobs import JOB_KIND, CalculationJobs, CalculationRequest
from zquant_factor.application.calculation_ports import CalculationRecord, ComputePool, RunMode
from zquant_factor.application.calculation_queries import CalculationQueries
from zquant_factor.application.calculation_run import FactorCalculation
from zquant_factor.application.market_ports import Credentials
from zquant_factor.domain.definitions.records import FactorDefinition, FactorKind, FactorModel, Visibility
from zquant_kit.jobs.inprocess import InProcessJobQueue
from zquant_kit.principal import Principal
from zquant_kit.testing.transactions import FakeDatabase

BANKS = ("601288.SH", "601398.SH", "601939.SH", "601988.SH")
TOKEN = Credentials("token")
BOB = Principal("bob-id", "bob", "researcher", frozenset({"factor:read", "factor:write", "factor:calculate"}))


@dataclass
class CalcWorld:
    definitions: World = field(default_factory=World)
    records: FakeDatabase[CalculationStore] = field(default_factory=lambda: FakeDatabase(CalculationStore()))
    market: BankMarket = field(default_factory=BankMarket)
    values: DenseValues = field(default_factory=DenseValues)
    states: MemoryStates = field(default_factory=MemoryStates)
    queue: InProcessJobQueue = field(default_factory=InProcessJobQueue)
    codes_per_chunk: int = 3
    chunk_span_days: int = (
        1  # chunks of `codes_per_chunk` codes however short the read, so chunking is tested
    )
    pool: ComputePool = field(default_factory=InlinePool)
    wait_steps: int = 2000
    owner_tokens: FakeOwnerTokens = field(default_factory=FakeOwnerTokens)

    @property
    def jobs(self) -> CalculationJobs:
        calculation = FactorCalculation(
            self.market, self.values, self.states, self.pool, self.codes_per_chunk, self.chunk_span_days
        )
        return CalculationJobs(
            lambda: CalculationTransaction(self.records),
            self.definitions._uow,
            self.queue,
            self.market,
            calculation,
            self.owner_tokens,
            self.definitions.clock,
        )

    @property
    def queries(self) -> CalculationQueries:
        return CalculationQueries(
            lambda: CalculationTransaction(self.records), self.queue, self.definitions.clock
        )

    def record_submits(self) -> list[tuple[str | None, bytes]]:
        """From now on, every (job id, payload) the use cases hand the queue, in order (still queued)."""
        submitted: list[tuple[str | None, bytes]] = []
        real_submit = self.queue.submit

        async def recording_submit(kind, payload, *, job_id=None):
            submitted.append((job_id, payload))
            return await real_submit(kind, payload, job_id=job_id)

        self.queue.submit = recording_submit  # type: ignore[method-assign]
        return submitted

    def add_factor(self, name: str, *models: tuple[str, str, dict[str, object]], expression: str = "") -> str:
        """A private factor of bob's with `models` as (id, model_code, params), the first the default."""
        kind = FactorKind.CUSTOM_EXPRESSION if expression else FactorKind.BUILTIN_INDICATOR
        definition = FactorDefinition(
            id=f"f-{name}", owner_id=BOB.user_id, created_at=NOW, updated_at=NOW, factor_name=name, cn_name=name,
            en_name=name, column_name=name, description="", kind=kind, expression=expression or None,
            visibility=Visibility.PRIVATE,
        )  # fmt: skip
        store = self.definitions.store
        store.definitions[definition.id] = definition
        for position, (model_id, code, params) in enumerate(models):
            store.models[model_id] = FactorModel(
                model_id, definition.id, code, dict(params), position == 0, True,
                NOW + dt.timedelta(seconds=position), NOW,
            )  # fmt: skip
        return definition.id

    async def calculate(
        self,
        factor_ids: list[str],
        start: str,
        end: str,
        mode: RunMode = RunMode.FULL,
        codes: tuple[str, ...] = BANKS,
    ) -> CalculationRecord:
        """Submits through the use case and serves the queue until the job's record is final."""
        request = CalculationRequest(factor_ids, codes, _day(start), _day(end), mode)
        jobs = self.jobs
        server = asyncio.create_task(self.queue.serve(JOB_KIND, jobs.handle))
        try:
            record = await jobs.submit(BOB, request)
            for _ in range(self.wait_steps):
                current = self.records.store.calculations[record.id]
                if current.state.final:
                    return current
                await asyncio.sleep(0.005)
            raise AssertionError("the job did not finish")
        finally:
            server.cancel()


def _day(text: str) -> dt.date:
    return dt.datetime.strptime(text, "%Y%m%d").date()
