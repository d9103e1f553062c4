"""CalculateFactors as a job: validate and record at submit, compute in the handler, report, cancel, clean up.

The submit checks everything a run needs before queueing (INVALID_ARGUMENT naming the field, NOT_FOUND for a
factor the caller cannot see), records the job and queues only its id. The handler loads the record, reads
market data with its owner's current rights (calculation_credentials), resolves each factor's units once, runs
them, and emits `factor.calculated.v1` with the final record in one unit of work.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from zquant.factor.v1 import calculation_pb2
from zquant_factor.application.calculation_credentials import SYSTEM_OWNER, CredentialSource, OwnerCredentials
from zquant_factor.application.calculation_events import calculated
from zquant_factor.application.calculation_plan import factor_units
from zquant_factor.application.calculation_ports import (
    CalculationRecord,
    CalculationUnitOfWorkFactory,
    RunMode,
)
from zquant_factor.application.calculation_run import Advance, FactorCalculation, UnitRun
from zquant_factor.application.definition_access import visible_definition
from zquant_factor.application.definition_ports import Clock, UnitOfWorkFactory
from zquant_factor.application.market_ports import MarketDataReader
from zquant_factor.application.model_resolution import ModelResolution
from zquant_factor.domain.definitions.fields import check_ts_code
from zquant_kit.delegation import OwnerTokens
from zquant_kit.errors import InvalidArgument, ZqError
from zquant_kit.jobs import Job, JobFailed, JobQueue, JobState, ProgressReporter
from zquant_kit.principal import Principal

JOB_KIND = "factor_calculation"
CALCULATE_PERMISSION = "factor:calculate"
MAX_FACTORS = 64


@dataclass(frozen=True, slots=True)
class CalculationRequest:
    factor_ids: Sequence[str]
    codes: Sequence[str]
    start: dt.date | None
    end: dt.date | None
    mode: RunMode
    idempotency_key: str = ""
    """Optional: the same key from the same owner returns the job it first started, queueing nothing."""


def _checked(request: CalculationRequest) -> tuple[tuple[str, ...], tuple[str, ...], dt.date, dt.date]:
    problems: list[tuple[str, str]] = []
    if not request.factor_ids:
        problems.append(("factor_ids", "at least one factor required"))
    elif len(request.factor_ids) > MAX_FACTORS:
        problems.append(("factor_ids", f"at most {MAX_FACTORS} factors"))
    problems += [(f"factor_ids[{i}]", "required") for i, fid in enumerate(request.factor_ids) if not fid]
    codes: list[str] = []
    for i, code in enumerate(request.codes):
        try:
            codes.append(check_ts_code(code, f"ts_codes[{i}]"))
        except InvalidArgument as exc:
            problems.append((exc.field, exc.description))
    if request.start is None:
        problems.append(("start_date", "required"))
    if request.end is None:
        problems.append(("end_date", "required"))
    if request.start and request.end and request.start > request.end:
        problems.append(("end_date", "must not be before start_date"))
    if problems:
        raise InvalidArgument.of(problems)
    assert request.start is not None and request.end is not None
    return tuple(dict.fromkeys(request.factor_ids)), tuple(dict.fromkeys(codes)), request.start, request.end


class CalculationJobs:
    def __init__(
        self,
        uow: CalculationUnitOfWorkFactory,
        definitions: UnitOfWorkFactory,
        queue: JobQueue,
        market: MarketDataReader,
        calculation: FactorCalculation,
        owner_tokens: OwnerTokens,
        clock: Clock,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._uow = uow
        self._definitions = definitions
        self._resolution = ModelResolution(definitions)
        self._queue = queue
        self._market = market
        self._calculation = calculation
        self._owner_tokens = owner_tokens
        self._clock = clock
        self._new_id = new_id

    async def submit(self, actor: Principal, request: CalculationRequest) -> CalculationRecord:
        actor.require(CALCULATE_PERMISSION)
        factor_ids, codes, start, end = _checked(request)
        names = []
        async with self._definitions() as defs:
            for factor_id in factor_ids:
                names.append((await visible_definition(defs, actor, factor_id)).factor_name)
        return await self._queued(
            actor.user_id, request.mode, (factor_ids, codes, start, end), names, request.idempotency_key
        )

    async def submit_for_system(self, request: CalculationRequest) -> CalculationRecord:
        """A job the service itself starts (auto-update of stale factors), owned by SYSTEM_OWNER and run
        with the service credential."""
        factor_ids, codes, start, end = _checked(request)
        async with self._definitions() as defs:
            found = [await defs.definitions.get(factor_id) for factor_id in factor_ids]
        names = [definition.factor_name for definition in found if definition is not None]
        return await self._queued(SYSTEM_OWNER, request.mode, (factor_ids, codes, start, end), names)

    async def _queued(
        self,
        owner_id: str,
        mode: RunMode,
        checked: tuple[tuple[str, ...], tuple[str, ...], dt.date, dt.date],
        names: Sequence[str],
        idempotency_key: str = "",
    ) -> CalculationRecord:
        factor_ids, codes, start, end = checked
        record = CalculationRecord(
            id=self._new_id(), owner_id=owner_id, factor_ids=factor_ids, codes=codes, start=start,
            end=end, mode=mode, created_at=self._clock.now(), factor_names=tuple(names),
        )  # fmt: skip
        async with self._uow() as uow:
            if idempotency_key:
                bound = await uow.calculations.claim_key(
                    owner_id, idempotency_key, record.id, record.created_at
                )
                existing = None if bound == record.id else await uow.calculations.get(bound)
                if existing is not None:
                    return existing  # a repeat: nothing written, nothing queued
            await uow.calculations.add(record)
            await uow.commit()
        payload = calculation_pb2.CalculationJobPayload(job_id=record.id)
        await self._queue.submit(JOB_KIND, payload.SerializeToString(), job_id=record.id)
        return record

    async def handle(self, job: Job, progress: ProgressReporter) -> None:
        """The job queue's handler (`queue.serve(JOB_KIND, jobs.handle)`)."""
        payload = calculation_pb2.CalculationJobPayload.FromString(job.payload)
        record = await self._update(payload.job_id, JobState.RUNNING, percent=0.0, message="started")
        if record is None or record.state is not JobState.RUNNING:
            return
        try:
            owner = OwnerCredentials(record.owner_id, self._owner_tokens, self._clock)
            written = await self._run(record, owner, progress)
        except Exception as exc:
            # A refusal (bad mapping, missing factor, identity or marketdata saying no) will not change on a retry.
            final = job.last_attempt or isinstance(exc, JobFailed | ZqError)
            reason = exc.reason if isinstance(exc, JobFailed) else f"{type(exc).__name__}: {exc}"
            await self._update(record.id, JobState.FAILED if final else JobState.QUEUED, error=reason)
            if final:
                raise JobFailed(reason) from exc
            raise
        await self._finish(record.id, written)

    async def _run(
        self, record: CalculationRecord, owner: CredentialSource, progress: ProgressReporter
    ) -> int:
        codes = record.codes or tuple(sorted(await self._market.industries(await owner.current())))
        runs: list[UnitRun] = []
        for index, factor_id in enumerate(record.factor_ids):
            async with self._definitions() as defs:
                definition = await defs.definitions.get(factor_id)
                if definition is None:
                    raise JobFailed(f"factor {factor_id} was deleted")
                models = await defs.models.list_for_factor(factor_id)
            units = await factor_units(self._resolution, definition, models, codes)
            width = 1.0 / len(record.factor_ids) / len(units)
            for position, unit in enumerate(units):
                base = index / len(record.factor_ids) + position * width
                advance = self._advance(record.id, progress, base, width, definition.factor_name)
                runs.append(UnitRun(factor_id, unit, advance))
        return await self._calculation.run_units(runs, record.mode, (record.start, record.end), owner)

    def _advance(
        self, job_id: str, progress: ProgressReporter, base: float, width: float, message: str
    ) -> Advance:
        """The unit's progress callback: its share [base, base + width] of the job, recorded and reported."""

        async def advance(done: float) -> None:
            percent = min(100.0, 100.0 * (base + done * width))
            await self._update(job_id, JobState.RUNNING, percent=percent, message=message)
            await progress.report(percent, message)

        return advance

    async def _update(self, job_id: str, state: JobState, **changes: object) -> CalculationRecord | None:
        """Moves a record that is not final yet; a cancelled or finished one stays as it is."""
        async with self._uow() as uow:
            record: CalculationRecord | None = await uow.calculations.get(job_id)
            if record is None or record.state.final:
                return record
            record.state = state
            for name, value in changes.items():
                setattr(record, name, value)
            if state.final:
                record.finished_at = self._clock.now()
            await uow.commit()
            return record

    async def _finish(self, job_id: str, written: int) -> None:
        async with self._uow() as uow:
            record = await uow.calculations.get(job_id)
            if record is None or record.state.final:
                return
            record.state, record.percent, record.values_written = JobState.SUCCEEDED, 100.0, written
            record.finished_at = self._clock.now()
            uow.emit(calculated(record, record.finished_at))
            await uow.commit()
