"""SubmitBacktest: everything is checked before the task is queued, each problem on the field it is about.

The checks: the source (a visible strategy, a known template, or inline code that passes the AST check), the
dates (given, ordered, inside the trade calendar, with a trading day between), the cash, the universe (codes
or an index, each known), the benchmark, and the params against the schema. Then the record is written with
the current data version and its id is queued; the same idempotency key from the same caller answers the task
it first created.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from zquant_backtest.application import strategies
from zquant_backtest.application.access import visible
from zquant_backtest.application.market_ports import MarketCatalog
from zquant_backtest.application.report_ports import TemplateCatalog
from zquant_backtest.application.run_ports import CostConfig, EngineKind, RunConfig
from zquant_backtest.application.strategies import all_problems, problem_violations
from zquant_backtest.application.task_ports import Clock, DuplicateIdempotencyKey, TaskRecord
from zquant_backtest.application.unit_of_work_ports import UnitOfWorkFactory
from zquant_backtest.application.validation_ports import StrategyChecker
from zquant_backtest.domain.orders import Timing
from zquant_backtest.domain.params import ParamValue
from zquant_backtest.domain.strategies import code_hash
from zquant_kit.clock import as_utc
from zquant_kit.errors import InvalidArgument
from zquant_kit.jobs import JobQueue
from zquant_kit.principal import Principal

RUN = "backtest:run"
JOB_KIND = "backtest_run"


@dataclass(frozen=True)
class SubmitRequest:
    """Exactly one of `strategy_id`, `code`, `template_name` is set (the proto's oneof)."""

    strategy_id: str = ""
    code: str = ""
    template_name: str = ""
    params_schema: Mapping[str, object] = field(default_factory=dict)
    codes: tuple[str, ...] = ()
    index_code: str = ""
    start: dt.date | None = None
    end: dt.date | None = None
    initial_cash: float = 0.0
    benchmark: str = ""
    costs: CostConfig = field(default_factory=CostConfig)
    timing: Timing = Timing.OPEN
    params: Mapping[str, object] = field(default_factory=dict)
    engine: EngineKind | None = None
    idempotency_key: str = ""


@dataclass(frozen=True)
class _Source:
    code: str
    schema: Mapping[str, object]
    engine: EngineKind
    strategy_id: str = ""
    name: str = ""
    template: str = ""


@dataclass(frozen=True)
class QueuePolicy:
    max_attempts: int = 3
    """Attempts per task, a lost worker's included."""
    timeout_seconds: float = 7200.0
    """The whole task's limit from its submit: past it the running attempt is cancelled and the task fails."""


async def queue_task(queue: JobQueue, record: TaskRecord, policy: QueuePolicy) -> None:
    """Queues the task's id; the queue deduplicates by it, so queueing again is harmless."""
    deadline = as_utc(record.created_at) + dt.timedelta(seconds=policy.timeout_seconds)
    await queue.submit(
        JOB_KIND, payload_of(record.id), job_id=record.id, max_attempts=policy.max_attempts, deadline=deadline
    )


def payload_of(task_id: str) -> bytes:
    """The queue carries the task id only, as JSON; the worker reads the rest from the record."""
    return json.dumps({"task_id": task_id}).encode()


def task_id_of(payload: bytes) -> str:
    data = json.loads(payload)
    task_id = data["task_id"] if isinstance(data, dict) else None
    if not isinstance(task_id, str) or not task_id:
        raise ValueError("a backtest job payload names its task_id")
    return task_id


def with_defaults(params: Mapping[str, object], schema: Mapping[str, object]) -> dict[str, ParamValue]:
    """The params given plus each schema default not given (the checker already held them to the schema)."""
    filled: dict[str, ParamValue] = {}
    for name, spec in schema.items():
        default = spec.get("default") if isinstance(spec, Mapping) else None
        if isinstance(default, bool | int | float | str):
            filled[name] = default
    filled.update(
        {name: value for name, value in params.items() if isinstance(value, bool | int | float | str)}
    )
    return filled


class BacktestSubmission:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        queue: JobQueue,
        market: MarketCatalog,
        checker: StrategyChecker,
        templates: TemplateCatalog,
        clock: Clock,
        policy: QueuePolicy,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._uow = uow
        self._queue = queue
        self._market = market
        self._checker = checker
        self._templates = templates
        self._clock = clock
        self._policy = policy
        self._new_id = new_id

    async def submit(self, actor: Principal, request: SubmitRequest) -> TaskRecord:
        actor.require(RUN)
        if request.idempotency_key:
            async with self._uow() as uow:
                earlier = await uow.tasks.by_idempotency_key(actor.user_id, request.idempotency_key)
            if earlier is not None:
                return earlier
        source = await self._source(actor, request)
        problems = problem_violations(self._checker.check_code(source.code), _code_field(request))
        problems += await self._market_problems(request)
        params = dict(request.params)
        problems += [
            ("config.params_json" if p.field.startswith("params.") else p.field, p.message)
            for p in all_problems(self._checker, source.code, params, source.schema)
            if p.field
        ]
        if problems:
            raise InvalidArgument.of(problems)
        assert request.start is not None and request.end is not None
        config = RunConfig(
            start=request.start, end=request.end, initial_cash=request.initial_cash, codes=request.codes,
            index_code=request.index_code or None, benchmark=request.benchmark or None, costs=request.costs,
            timing=request.timing, params=with_defaults(params, source.schema),
            engine=request.engine or source.engine,
        )  # fmt: skip
        return await self._queued(actor, request, source, config)

    async def _source(self, actor: Principal, request: SubmitRequest) -> _Source:
        if request.strategy_id:
            actor.require(strategies.READ)
            async with self._uow() as uow:
                record = await uow.strategies.get(request.strategy_id)
            found = visible(record, actor, "strategy", request.strategy_id)
            return _Source(found.code, found.params_schema, EngineKind.EVENT, found.id, found.name)
        if request.template_name:
            template = self._templates.get(request.template_name)
            if template is None:
                raise InvalidArgument(
                    "template_name", f"no template {request.template_name!r} (see ListTemplates)"
                )
            return _Source(
                template.source, template.params_schema, template.engine, name=template.title,
                template=template.name,
            )  # fmt: skip
        if not request.code:
            raise InvalidArgument("code", "name a strategy_id, a template_name or inline code")
        return _Source(request.code, request.params_schema, EngineKind.EVENT, name="inline code")

    async def _market_problems(self, request: SubmitRequest) -> list[tuple[str, str]]:
        problems = _config_problems(request)
        if problems:
            return problems
        assert request.start is not None and request.end is not None
        span = await self._market.calendar_span()
        if span is None:
            return [("config.start_date", "no trade calendar is synced yet: sync market data first")]
        first, last = span
        if request.start < first:
            problems.append(("config.start_date", f"before the trade calendar's first day {first:%Y%m%d}"))
        if request.end > last:
            problems.append(("config.end_date", f"after the trade calendar's last day {last:%Y%m%d}"))
        if not problems and not await self._market.trading_days(request.start, request.end):
            problems.append(("config.start_date", "no trading day between start_date and end_date"))
        unknown = set(await self._market.unknown_codes(list(request.codes))) if request.codes else set()
        problems += [
            (f"config.ts_codes[{i}]", f"unknown code {code}")
            for i, code in enumerate(request.codes)
            if code in unknown
        ]
        if request.index_code and not await self._market.index_exists(request.index_code):
            problems.append(("config.index_code", f"unknown index {request.index_code}"))
        if request.benchmark and not await self._known_benchmark(request.benchmark):
            problems.append(("config.benchmark", f"unknown benchmark {request.benchmark}"))
        return problems

    async def _known_benchmark(self, code: str) -> bool:
        return await self._market.index_exists(code) or not await self._market.unknown_codes([code])

    async def _queued(
        self, actor: Principal, request: SubmitRequest, source: _Source, config: RunConfig
    ) -> TaskRecord:
        record = TaskRecord(
            id=self._new_id(), owner_id=actor.user_id, code=source.code, params_schema=dict(source.schema),
            code_hash=code_hash(source.code), config=config, data_version="", created_at=self._clock.now(),
            strategy_id=source.strategy_id, strategy_name=source.name, template_name=source.template,
            idempotency_key=request.idempotency_key,
        )  # fmt: skip
        try:
            async with self._uow() as uow:
                record = replace(record, data_version=await uow.versions.current())
                await uow.tasks.add(record)
                await uow.commit()
        except DuplicateIdempotencyKey:
            async with self._uow() as uow:
                first = await uow.tasks.by_idempotency_key(actor.user_id, request.idempotency_key)
            if first is None:
                raise
            return first
        await queue_task(self._queue, record, self._policy)
        return record


def _code_field(request: SubmitRequest) -> str:
    return "code" if request.code else ("strategy_id" if request.strategy_id else "template_name")


def _config_problems(request: SubmitRequest) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if request.start is None:
        problems.append(("config.start_date", "required"))
    if request.end is None:
        problems.append(("config.end_date", "required"))
    if request.start and request.end and request.start > request.end:
        problems.append(("config.end_date", "must not be before start_date"))
    if not request.initial_cash > 0:
        problems.append(("config.initial_cash", "must be greater than 0"))
    if not request.codes and not request.index_code:
        problems.append(("config.ts_codes", "the universe is empty: name ts_codes or an index_code"))
    if request.codes and request.index_code:
        problems.append(("config.index_code", "name either ts_codes or an index_code, not both"))
    return problems
