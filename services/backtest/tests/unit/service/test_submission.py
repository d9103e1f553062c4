"""SubmitBacktest checks everything before queueing, each problem on its field; the idempotency key answers
the first task; permissions and ownership are the service's."""

from __future__ import annotations

import datetime as dt

import pytest

from services.backtest.tests.fakes.executors import DeterministicExecutor
from services.backtest.tests.fakes.ports import BUY_AND_HOLD_SCHEMA
from services.backtest.tests.unit.service.world import ALICE, BOB, CODE, VIEWER, World, request
from zquant_backtest.application.run_ports import EngineKind
from zquant_backtest.application.strategies import StrategyDraft
from zquant_backtest.domain.tasks import TaskState
from zquant_kit.errors import InvalidArgument, NotFound, PermissionDenied

pytestmark = pytest.mark.unit


def _fields(error: InvalidArgument) -> dict[str, str]:
    return dict(error.violations)


@pytest.fixture
def world() -> World:
    return World(DeterministicExecutor())


async def _refused(world: World, **changes) -> dict[str, str]:
    with pytest.raises(InvalidArgument) as caught:
        await world.submission.submit(ALICE, request(**changes))
    assert not world.database.store.tasks, "nothing may be queued for a refused submit"
    return _fields(caught.value)


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"start": dt.date(2024, 3, 1), "end": dt.date(2024, 2, 1)}, "config.end_date", "before start_date"),
        ({"start": dt.date(2019, 1, 2)}, "config.start_date", "first day 20200102"),
        ({"end": dt.date(2025, 6, 30)}, "config.end_date", "last day 20241231"),
        ({"start": dt.date(2024, 1, 6), "end": dt.date(2024, 1, 7)}, "config.start_date", "no trading day"),
        ({"start": None}, "config.start_date", "required"),
        ({"initial_cash": 0.0}, "config.initial_cash", "greater than 0"),
        ({"initial_cash": -5.0}, "config.initial_cash", "greater than 0"),
        ({"codes": ()}, "config.ts_codes", "universe is empty"),
        ({"codes": ("600000.SH", "688999.SH")}, "config.ts_codes[1]", "unknown code 688999.SH"),
        ({"codes": (), "index_code": "399999.SZ"}, "config.index_code", "unknown index"),
        ({"benchmark": "399999.SZ"}, "config.benchmark", "unknown benchmark"),
        ({"code": "import os\n"}, "code", "line 1"),
        ({"template_name": "nope", "code": ""}, "template_name", "no template"),
    ],
)
async def test_each_problem_is_refused_on_its_field(world, changes, field, words):
    fields = await _refused(world, **changes)
    assert words in fields[field], fields


async def test_params_are_held_against_the_schema(world):
    fields = await _refused(world, params_schema=BUY_AND_HOLD_SCHEMA, params={"weight": 2.0, "other": 1})
    assert "above the maximum" in fields["config.params_json"]
    fields = await _refused(world, params_schema={"n": {"type": "bogus"}})
    assert "params_schema_json" in fields


async def test_a_valid_submit_is_queued_with_defaults_and_the_data_version(world):
    world.database.store.version = (3, "3-run9")
    record = await world.submission.submit(
        ALICE, request(params_schema=BUY_AND_HOLD_SCHEMA, benchmark="000300.SH")
    )
    assert record.state is TaskState.QUEUED and record.owner_id == ALICE.user_id
    assert record.config.params == {"weight": 1.0}
    assert record.data_version == "3-run9"
    assert record.config.benchmark == "000300.SH"
    assert world.database.store.tasks[record.id].code_hash == record.code_hash


async def test_a_template_brings_its_code_schema_and_engine(world):
    record = await world.submission.submit(ALICE, request(code="", template_name="buy_and_hold"))
    assert record.template_name == "buy_and_hold" and "order_target_percent" in record.code
    assert record.config.engine is EngineKind.EVENT


async def test_the_same_idempotency_key_answers_the_same_task(world):
    first = await world.submission.submit(ALICE, request(idempotency_key="nightly-20241231"))
    again = await world.submission.submit(ALICE, request(idempotency_key="nightly-20241231"))
    other = await world.submission.submit(BOB, request(idempotency_key="nightly-20241231"))
    assert again.id == first.id
    assert other.id != first.id
    assert len(world.database.store.tasks) == 2


async def test_another_users_strategy_is_not_found(world):
    strategy = await world.strategies.create(ALICE, StrategyDraft("mine", "", "", CODE, {}))
    with pytest.raises(NotFound):
        await world.submission.submit(BOB, request(code="", strategy_id=strategy.id))
    record = await world.submission.submit(ALICE, request(code="", strategy_id=strategy.id))
    assert record.strategy_id == strategy.id and record.strategy_name == "mine"


async def test_a_viewer_may_not_run(world):
    with pytest.raises(PermissionDenied):
        await world.submission.submit(VIEWER, request())
