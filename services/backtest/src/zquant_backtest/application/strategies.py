"""Strategy CRUD, the templates, and the static checks (ValidateStrategy, GetSandboxInfo).

Names are unique per owner (ALREADY_EXISTS on `name`). Code and schema are checked when stored, so a stored
strategy always passes the AST check; nothing is run.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from zquant_backtest.application.access import listing_owner, visible
from zquant_backtest.application.report_ports import StrategyTemplate, TemplateCatalog
from zquant_backtest.application.task_ports import Clock
from zquant_backtest.application.unit_of_work_ports import UnitOfWorkFactory
from zquant_backtest.application.validation_ports import SandboxLayers, StrategyChecker, StrategyProblem
from zquant_backtest.domain.strategies import StrategyRecord
from zquant_kit.clock import as_utc
from zquant_kit.errors import AlreadyExists, InvalidArgument, required
from zquant_kit.pagination import Cursor, Page, fetch_page, page_size, pair_cursor
from zquant_kit.principal import Principal

READ = "strategy:read"
WRITE = "strategy:write"
DELETE = "strategy:delete"

STRATEGIES_CURSOR: Cursor[StrategyRecord, tuple[str, str]] = pair_cursor(
    "strategies", lambda r: (as_utc(r.created_at).isoformat(), r.id), lambda text: text
)


@dataclass(frozen=True)
class StrategyDraft:
    name: str
    description: str
    category: str
    code: str
    params_schema: Mapping[str, object]


@dataclass(frozen=True)
class StrategyChanges:
    """None: unchanged."""

    name: str | None = None
    description: str | None = None
    category: str | None = None
    code: str | None = None
    params_schema: Mapping[str, object] | None = None


def problem_violations(problems: Sequence[StrategyProblem], code_field: str) -> list[tuple[str, str]]:
    """FieldViolations of checker problems: code problems on `code_field` with their line and column."""
    return [
        (p.field, p.message) if p.field else (code_field, f"line {p.line}, column {p.column}: {p.message}")
        for p in problems
    ]


def all_problems(
    checker: StrategyChecker, code: str, params: Mapping[str, object], schema: Mapping[str, object]
) -> list[StrategyProblem]:
    """The code's, then the schema's (on `params_schema_json`), then the params' (on `params.<name>`)."""
    schema_problems = checker.check_schema(schema)
    return [
        *checker.check_code(code),
        *(dataclasses.replace(p, field="params_schema_json") for p in schema_problems),
        *(checker.check_params(params, schema) if not schema_problems else ()),
    ]


class StrategyUseCases:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        checker: StrategyChecker,
        templates: TemplateCatalog,
        clock: Clock,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._uow = uow
        self._checker = checker
        self._templates = templates
        self._clock = clock
        self._new_id = new_id

    def _checked(self, code: str, schema: Mapping[str, object]) -> None:
        violations = problem_violations(self._checker.check_code(code), "code")
        violations += [("params_schema_json", p.message) for p in self._checker.check_schema(schema)]
        if violations:
            raise InvalidArgument.of(violations)

    async def create(self, actor: Principal, draft: StrategyDraft) -> StrategyRecord:
        actor.require(WRITE)
        self._checked(draft.code, draft.params_schema)
        now = self._clock.now()
        record = StrategyRecord(
            id=self._new_id(), owner_id=actor.user_id, name=required(draft.name.strip(), "name"),
            description=draft.description, category=draft.category, code=draft.code,
            params_schema=dict(draft.params_schema), created_at=now, updated_at=now,
        )  # fmt: skip
        async with self._uow() as uow:
            if await uow.strategies.get_by_name(actor.user_id, record.name) is not None:
                raise AlreadyExists("strategy", record.name, "name")
            await uow.strategies.add(record)
            await uow.commit()
        return record

    async def get(self, actor: Principal, strategy_id: str) -> StrategyRecord:
        actor.require(READ)
        async with self._uow() as uow:
            return visible(await uow.strategies.get(strategy_id), actor, "strategy", strategy_id)

    async def list(
        self, actor: Principal, requested_size: int, page_token: str
    ) -> tuple[Page[StrategyRecord], str]:
        actor.require(READ)
        limit = page_size(requested_size)
        after = STRATEGIES_CURSOR.after(page_token)
        async with self._uow() as uow:
            page = await fetch_page(lambda n: uow.strategies.list_page(listing_owner(actor), after, n), limit)
        return page, STRATEGIES_CURSOR.next_token(page)

    async def update(self, actor: Principal, strategy_id: str, changes: StrategyChanges) -> StrategyRecord:
        actor.require(WRITE)
        async with self._uow() as uow:
            record = visible(await uow.strategies.get(strategy_id), actor, "strategy", strategy_id)
            given = {k: v for k, v in dataclasses.asdict(changes).items() if v is not None}
            if "name" in given:
                given["name"] = required(str(given["name"]).strip(), "name")
                other = await uow.strategies.get_by_name(record.owner_id, given["name"])
                if other is not None and other.id != record.id:
                    raise AlreadyExists("strategy", given["name"], "name")
            updated = dataclasses.replace(record, **given, updated_at=self._clock.now())
            self._checked(updated.code, updated.params_schema)
            await uow.strategies.save(updated)
            await uow.commit()
        return updated

    async def delete(self, actor: Principal, strategy_id: str) -> None:
        actor.require(DELETE)
        async with self._uow() as uow:
            visible(await uow.strategies.get(strategy_id), actor, "strategy", strategy_id)
            await uow.strategies.delete(strategy_id)
            await uow.commit()

    def templates(self, actor: Principal) -> Sequence[StrategyTemplate]:
        actor.require(READ)
        return self._templates.templates()

    def validate(
        self, actor: Principal, code: str, params: Mapping[str, object], schema: Mapping[str, object]
    ) -> Sequence[StrategyProblem]:
        actor.require(READ)
        return all_problems(self._checker, code, params, schema)

    def sandbox(self, actor: Principal) -> SandboxLayers:
        actor.require(READ)
        return self._checker.layers()
